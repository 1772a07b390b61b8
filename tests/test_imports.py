"""data, models and engine never need the screen: every one of their modules imports with textual, rich and
plotext blocked (found with pkgutil, so a new module is checked the day it is added), the core trains that way,
and it prints nothing."""
from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ("data", "models", "engine")
MODULES = sorted(name for pkg in CORE
                 for name in [pkg, *(m.name for m in pkgutil.walk_packages([str(ROOT / pkg)], prefix=f"{pkg}."))])

BLOCKER = textwrap.dedent("""
    import importlib, importlib.abc, json, sys

    BLOCKED = {"textual", "rich", "plotext", "textual_plotext", "PIL"}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked: the core must not import it")
            return None

    sys.meta_path.insert(0, Blocker())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    try:  # the blocker itself must work, or these tests prove nothing
        import rich
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker let rich through")
""")

IMPORT_EACH = BLOCKER + textwrap.dedent("""
    results = {}
    for name in sys.argv[1:]:
        try:
            importlib.import_module(name)
        except Exception as e:
            results[name] = f"{type(e).__name__}: {e}"
        else:
            leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
            results[name] = f"leaked {leaked}" if leaked else "ok"
    print(json.dumps(results))
""")

TRAIN = BLOCKER + textwrap.dedent("""
    import numpy as np
    from data.preprocess import to_mnist
    from engine import TrainConfig, train
    from engine.inspect import dead_share, robustness, thresholds
    from models import MLP, Spec

    rng = np.random.default_rng(0)
    x, y = rng.random((120, 784), dtype=np.float32), rng.integers(0, 10, 120)
    cfg = TrainConfig(hidden=(8,), epochs=1, batch_size=32, dev_size=20, schedule="constant")
    result = train(MLP(cfg.spec()), x[:100], y[:100], x[100:], y[100:], cfg)
    assert result.stop == "max-epochs", result
    net = MLP(Spec(hidden=(8,)))
    robustness(net, x[:20], y[:20], {"rotate": (0.0, 30.0)})
    thresholds(net.predict_proba(x[:20]), y[:20])
    dead_share(net, x[:20])
    to_mnist(np.eye(40) * 255)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
""")


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def imported() -> dict[str, str]:
    """module -> "ok" or what went wrong, from one process that imports each core module with the UI blocked."""
    done = run(IMPORT_EACH, *MODULES)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return json.loads(done.stdout)


def test_every_core_module_is_found():
    assert {"data.readers", "models.checkpoint", "engine.trainer", "engine.bench", "engine.search"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_a_core_module_imports_with_the_ui_libraries_blocked(imported, module):
    assert imported[module] == "ok"


def test_the_core_trains_with_the_ui_libraries_blocked_and_prints_nothing():
    done = run(TRAIN)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == "", "the core must not print"


def test_the_blocker_catches_a_ui_import():
    """The same check fails when a core module does import a blocked library (here: simulated)."""
    done = run(IMPORT_EACH.replace("importlib.import_module(name)", "importlib.import_module(name); import textual"),
               "data")
    assert done.returncode == 0 and "textual is blocked" in json.loads(done.stdout)["data"]


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
