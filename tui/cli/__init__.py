"""The `nn-tui` command: the app by default, headless subcommands for everything else."""
from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata

from .options import add_train_options

COMMANDS = ("data", "train", "eval", "predict", "bench", "search", "runs", "compare", "plot", "serve")


def version() -> str:
    try:
        return metadata.version("nn-tui")
    except metadata.PackageNotFoundError:
        return "0.1.0 (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from . import bench, data, model, runs, search, serve, train

    parser = argparse.ArgumentParser(
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
    from data import UserError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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

