"""The new core modules keep the house rule: NumPy only, no UI library, nothing printed."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import importlib.abc
    import sys

    BLOCKED = {"textual", "rich", "plotext", "textual_plotext", "PIL"}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked")
            return None

    sys.meta_path.insert(0, Blocker())
    import numpy as np
    from data.images import load_digit, read_pgm
    from data.preprocess import to_mnist
    from engine.inspect import activations, dead_share, robustness, thresholds
    from models import MLP, Spec

    net = MLP(Spec(hidden=(8,)))
    x = np.random.default_rng(0).random((20, 784), dtype=np.float32)
    y = np.arange(20) % 10
    robustness(net, x, y, {"rotate": (0.0, 30.0)})
    thresholds(net.predict_proba(x), y)
    dead_share(net, x)
    to_mnist(np.eye(40) * 255)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
""")


def test_preprocess_images_and_inspect_need_no_ui_library():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
