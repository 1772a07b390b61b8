"""What a network is: layers with forward/backward, the MLP, the checkpoint format (NumPy only)."""
from .checkpoint import CheckpointError, atomic_write, load, save
from .conv import Conv2D, Flatten, MaxPool2D
from .layers import ACTIVATIONS, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh
from .mlp import INITS, KERNELS, MLP, Spec, SpecError

__all__ = ["CheckpointError", "atomic_write", "load", "save", "ACTIVATIONS", "Dense", "Dropout", "LeakyReLU",
           "ReLU", "Sigmoid", "Tanh", "INITS", "KERNELS", "MLP", "Spec", "SpecError", "Conv2D", "Flatten",
           "MaxPool2D"]
