"""data, models and engine never need the screen: they import and train with textual & co. blocked."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import importlib.abc
    import sys

    BLOCKED = {"textual", "rich", "plotext", "textual_plotext"}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked: the core must not import it")
            return None

    sys.meta_path.insert(0, Blocker())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]

    try:  # the blocker itself must work, or this test proves nothing
        import rich
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker let rich through")

    import numpy as np
    import data, models, engine
    from engine import TrainConfig, train
    from models import MLP

    rng = np.random.default_rng(0)
    x, y = rng.random((120, 784), dtype=np.float32), rng.integers(0, 10, 120)
    cfg = TrainConfig(hidden=(8,), epochs=1, batch_size=32, dev_size=20, schedule="constant")
    result = train(MLP(cfg.spec()), x[:100], y[:100], x[100:], y[100:], cfg)
    assert result.stop == "max-epochs", result
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print("ok", result.epochs)
""")


def test_core_runs_with_the_ui_libraries_blocked():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok 1"
    assert done.stderr == "", "the core must not print"


def test_the_blocker_catches_a_ui_import():
    """The same script fails when the core does import a blocked library (here: simulated)."""
    bad = SCRIPT.replace("import data, models, engine", "import data, models, engine, textual")
    done = subprocess.run([sys.executable, "-c", bad], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "textual is blocked" in done.stderr


def test_nn_tui_train_imports_neither_textual_nor_optuna(tmp_path):
    """`nn-tui train` starts faster for not loading the app's and the search's libraries."""
    script = textwrap.dedent(f"""
        import sys
        from tui.cli import main
        code = main(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--out", {str(tmp_path)!r}])
        print(code, sorted({{m.split(".")[0] for m in sys.modules}} & {{"textual", "optuna", "plotext"}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "0 []", out.stdout
