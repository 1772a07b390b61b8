"""Shared pieces of the headless commands: consoles, loading data with a spinner, colour."""
from __future__ import annotations

import os
import sys

from rich.console import Console


class PipeConsole(Console):
    """A rich Console that lets a closed pipe (`nn-tui runs | head`) reach the command line as
    BrokenPipeError, which ends quietly with exit 0, instead of rich's own SystemExit(1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def console(stderr: bool = False) -> Console:
    """A pipe gets 80 columns: print each record (a path, a result) as a line of its own that fits, or with
    soft_wrap=True so that it is never broken in the middle."""
    return PipeConsole(stderr=stderr, highlight=False)


def use_color(con: Console) -> bool:
    return con.color_system is not None and not os.environ.get("NO_COLOR")


def load_data(name: str, dev_size: float, seed: int, con: Console):
    """data.load with a spinner on the console, downloading a named source first if needed."""
    import data

    source = data.SOURCES.get(name)
    if source is not None and not source.is_present():
        download_with_progress(source, con)
    with con.status(f"Loading {name}...", spinner="dots"):
        splits = data.load(name, dev_size, seed)
        for _, d in splits.items():
            d.x  # convert to float32 once, here
    return splits


def download_with_progress(source, con: Console) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    import data

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=con, transient=False) as progress:
        tasks: dict[str, int] = {}

        def report(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total)

        try:
            data.download(source, report, notice=lambda text: con.print(text, style="yellow", soft_wrap=True))
        except data.DataError as e:  # one line, with what to do next
            raise data.DataError(f"{e}. {source.next_step()}") from None


def die(message: str) -> int:
    print(f"nn-tui: error: {message}", file=sys.stderr)
    return 1
