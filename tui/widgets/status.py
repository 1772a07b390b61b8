"""The early-stopping and run status panel."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..text import clock, pct, speed, threads

STATE_STYLE = {"loading": "yellow", "idle": "cyan", "training": "bold green", "paused": "bold yellow",
               "finished": "bold cyan", "stopping": "yellow", "error": "bold red", "model": "bold magenta"}


class StatusPanel(Static):
    """State, epoch, learning rate, early stopping, speed, last metrics, why the run ended."""

    def show(self, st, state: str) -> None:
        """`st`: a tui.session.RunStatus; `state`: the session's state."""
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        ended = str(state) == "finished"
        word = {"early-stopped": "early-stopped", "stopped": "stopped", "diverged": "diverged"}.get(
            getattr(st, "stop", ""), str(state)) if ended else str(state)
        shown = Text(word, style=STATE_STYLE.get(state, ""))
        if st.epochs:
            shown.append(f" {min(st.epoch, st.epochs)}/{st.epochs}")
        grid.add_row("state", shown)
        running = str(state) in ("training", "paused", "stopping")
        room = max((self.size.width or 50) - 10, 12)  # beside the labels column (50 before the first layout)
        if st.epochs and running:
            done = min(st.progress / st.epochs, 1.0)
            eta = ""
            if st.elapsed and 0 < st.progress < st.epochs:  # at this pace; early stopping may end it sooner
                eta = f" ~{clock(st.elapsed / st.progress * (st.epochs - st.progress))}"
            width = max(4, min(14, room - 5 - len(eta)))
            grid.add_row("progress", Text("█" * round(done * width) + "░" * (width - round(done * width))
                                          + f" {100 * done:3.0f}%{eta}"))
        time_text = f"{clock(st.elapsed)} · {speed(st.samples_per_sec)}" if st.elapsed else "-"
        if st.elapsed and st.threads and len(time_text) + len(threads(st.threads)) + 3 <= room:
            time_text += f" · {threads(st.threads)}"  # only where it fits on the row
        grid.add_row("time", time_text)
        if running:
            grid.add_row("lr", f"{st.lr:.4g}" if st.lr else "-")
        label = "best acc" if st.monitor == "dev_acc" else "best loss"
        if st.best is not None and st.best_epoch:
            best = pct(st.best) if st.monitor == "dev_acc" else f"{st.best:.4f}"
            grid.add_row(label, f"{best} @ epoch {st.best_epoch}")
        else:
            grid.add_row(label, "-")
        if st.patience:
            warn = st.bad_epochs and st.bad_epochs >= st.patience - 1
            grid.add_row("patience", Text(f"{st.bad_epochs}/{st.patience} used", style="bold red" if warn else ""))
        else:
            grid.add_row("patience", "off")
        if st.last:  # the last finished epoch's numbers (the best is above)
            at = st.last.get("epoch", st.epoch)
            grid.add_row(f"train @{at}", f"{pct(st.last['train_acc'])}  {st.last['train_loss']:.4f}")
            grid.add_row(f"dev @{at}", f"{pct(st.last['dev_acc'])}  {st.last['dev_loss']:.4f}")
        if getattr(st, "change", ""):
            grid.add_row("changed", Text(st.change, style="yellow", overflow="ellipsis", no_wrap=True))
        if getattr(st, "alert", ""):
            grid.add_row("alert", Text("⚠ " + st.alert, style="bold yellow", overflow="ellipsis", no_wrap=True))
        if st.test is not None:
            grid.add_row("test", Text(pct(st.test), style="bold"))
        if st.reason:  # wrapped whole, never cut
            grid.add_row("ended", Text(st.reason, style="yellow" if "diverged" not in st.reason else "bold red"))
        if st.note:
            grid.add_row("", Text(st.note, style="dim", overflow="ellipsis", no_wrap=state == "finished"))
        self.update(grid)
