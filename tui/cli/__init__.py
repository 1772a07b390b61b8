"""The `nn-tui` command: the app by default, headless subcommands for everything else."""
from __future__ import annotations

import os
import signal
import sys


def _interrupted(signum, frame):
    """Ctrl+C while the modules load: a word and exit 130 at once. Nothing is written yet, and raising here
    would surface inside a half-imported C extension as its own ImportError (NumPy's "bad install" text)."""
    os.write(2, b"nn-tui: interrupted\n")
    os._exit(130)


# only as the nn-tui command (not when a test or the app imports this module), in the main thread
threading_main = (os.path.basename(sys.argv[0] if sys.argv else "") in ("nn-tui", "__main__.py", "-m", "-c")
                  and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
if threading_main:
    try:
        signal.signal(signal.SIGINT, _interrupted)
    except ValueError:  # not the main thread
        threading_main = False

COMMANDS = ("data", "train", "eval", "predict", "bench", "search", "runs", "compare", "plot", "serve")


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("nn-tui")
    except metadata.PackageNotFoundError:
        return "0.1.0 (not installed)"


def build_parser():
    from . import bench, data, model, runs, search, serve, train
    from .args import Parser
    from .options import add_train_options

    parser = Parser(
        prog="nn-tui",
        description="Train a from-scratch NumPy neural network on handwritten digits, live in the terminal. "
                    "With no command, opens the app (all training settings below apply to it).",
        epilog="Keys in the app: t train, space pause, s stop, e edit settings, ? help, q quit. "
               "Run `nn-tui COMMAND --help` for each command.")
    parser.add_argument("--version", action="version", version=f"nn-tui {version()}")
    parser.add_argument("--model", metavar="FILE", help="open a saved model (.npz) in the app to view its predictions")
    parser.add_argument("--out", metavar="DIR",
                        help="runs directory (default: the user data directory, or $NN_TUI_RUNS_DIR)")
    add_train_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (data, train, model, bench, search, runs, serve):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        from data import UserError

        parser = build_parser()
    except KeyboardInterrupt:
        print("nn-tui: interrupted", file=sys.stderr)
        return 130
    finally:
        if threading_main:
            signal.signal(signal.SIGINT, signal.default_int_handler)  # from here Ctrl+C is KeyboardInterrupt
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            from .start import run_app

            return run_app(args)
        return args.run(args) or 0
    except UserError as e:  # a bad file, setting, model or run name: one line, exit 1
        print(f"nn-tui: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `nn-tui runs --json | head -c 1`: the reader has all it wanted
        quiet_stdout()
        return 0
    except OSError as e:  # an unwritable --out, a full disk: one line, not a traceback
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"nn-tui: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nn-tui: interrupted", file=sys.stderr)
        return 130


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass

