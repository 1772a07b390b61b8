"""The training-health panel: per-layer gradient norm, update/weight ratio and dead units of the last
epoch, the loss trend, and the alerts with what to try."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine.health import Alert, layer_values


def sci(value: float) -> str:
    return f"{value:.1e}" if value == value else "-"


def health_table(record: dict | None, alerts: list[Alert], compact: bool = False) -> Table:
    """The panel's content: a row per weighted layer, the loss trend, one line per alert.

    `compact` (a short window) leaves out the per-layer rows when there are alerts to show.
    """
    grid = Table.grid(padding=(0, 1))
    grid.add_column(overflow="fold")
    if not record:
        grid.add_row(Text("after the first epoch: gradient norms, update sizes, dead units, alerts", style="dim"))
        return grid
    grads, ratios, dead = (layer_values(record, k) for k in ("grad_norm", "update_ratio", "dead"))
    if grads and not (compact and alerts):
        layers = Table.grid(padding=(0, 1))
        for name, justify in (("layer", "left"), ("|grad|", "right"), ("upd/w", "right"), ("dead", "right")):
            layers.add_column(name, justify=justify, no_wrap=True)
        layers.add_row(*(Text(h, style="dim") for h in ("layer", "|grad|", "upd/w", "dead")))
        for i, g in enumerate(grads):
            share = dead[i] if i < len(dead) else None
            warn = share is not None and share > 0.5
            layers.add_row(str(i + 1), sci(g), sci(ratios[i]) if i < len(ratios) else "-",
                           Text("-" if share is None else f"{share:.0%}", style="bold red" if warn else ""))
        grid.add_row(layers)
    trend = record.get("loss_trend")
    if isinstance(trend, (int, float)) and trend == trend:
        word = "falling" if trend < -0.01 else "rising" if trend > 0.01 else "flat"
        grid.add_row(Text(f"loss {word} {trend:+.0%} within epoch {record.get('epoch', '?')}",
                          style="red" if word == "rising" else "dim"))
    if not alerts:
        grid.add_row(Text("no alerts", style="green"))
    for a in alerts:
        grid.add_row(Text(f"⚠ {a.message}", style="bold yellow", overflow="fold"))
        grid.add_row(Text(f"  {a.suggestion}", style="yellow", overflow="fold"))
    return grid


class HealthPanel(Static):
    """Draws what it is given: the last epoch record and the alerts over the records so far."""

    def show(self, record: dict | None, alerts: list[Alert], compact: bool = False) -> None:
        self.update(health_table(record, alerts, compact))
