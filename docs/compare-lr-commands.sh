#!/bin/sh
# The learning-rate comparison of the seed, on the bundled MNIST (55,000 train / 5,000 dev / 10,000 test,
# split seed 0): 784-128-64-10, relu, plain SGD, batch 64, constant learning rate, best weights by dev loss.
# lr 0.1 with early stopping (patience 5 on dev_loss) against lr 0.001 for 100 epochs (no early stopping).
# Run one after the other (never two trainings at once); the output of the last command is docs/compare-lr.txt.
set -e
export NN_TUI_RUNS_DIR=/tmp/lrcmp/runs
COMMON="--hidden 128,64 --activation relu --optimizer sgd --batch-size 64 --schedule constant --monitor dev_loss --epochs 100"
nn-tui train $COMMON --lr 0.1 --patience 5     # early-stopped at epoch 16, best epoch 11
nn-tui train $COMMON --lr 0.001 --patience 0   # all 100 epochs
nn-tui compare 20261122-024431 20261122-024502 > docs/compare-lr.txt   # the two run names `nn-tui runs` lists
