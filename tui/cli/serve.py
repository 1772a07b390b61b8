"""`nn-tui serve`: the same app in a browser, through textual-serve."""
from __future__ import annotations

import shlex
import sys

from .args import whole


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the app to a web browser (needs the serve extra)",
                       description="Serve the nn-tui app to a web browser with textual-serve. "
                                   "Install it with: pip install 'nn-tui[serve]'.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=whole("--port", 1, 65535), default=8000, help="port (default 8000)")
    p.add_argument("app_args", nargs="*", help="options passed to the app, after --, e.g. -- --lr 0.05")
    p.set_defaults(run=run_serve)


def run_serve(args) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        print("nn-tui: error: `nn-tui serve` needs textual-serve: pip install 'nn-tui[serve]'", file=sys.stderr)
        return 1
    command = " ".join([shlex.quote(sys.executable), "-m", "tui.cli", *map(shlex.quote, args.app_args)])
    print(f"Serving nn-tui on http://{args.host}:{args.port} (Ctrl+C to stop)")
    Server(command, host=args.host, port=args.port, title="nn-tui").serve()
    return 0
