"""The digits of one confusion-matrix cell (true t, predicted p): a list, most confident mistakes first,
and the highlighted one drawn large with its three likeliest classes."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static

from data import DIGITS
from engine.inspect import cell, top

from ..render import bar, digit_text
from .explore import ExploreScreen


class MistakesScreen(ExploreScreen):
    """Takes the model, a labeled Dataset (the dev split) and the cell; computes the probabilities once."""

    AUTO_FOCUS = "#cell-table"
    DEFAULT_CSS = """
    #cell-head { height: 1; padding: 0 1; }
    #cell-main { height: 1fr; }
    #cell-table { width: 1fr; height: 1fr; }
    #cell-digit-box { width: 32; }
    """

    def __init__(self, model, digits, true: int, pred: int):
        super().__init__()
        self.digits, self.true, self.pred = digits, true, pred
        self.proba = model.predict_proba(digits.x)
        self.indices = cell(self.proba, digits.y, true, pred)  # dev indices, in the order listed

    def named(self, c: int) -> str:
        """`7` for a digit, `1 Trouser` where the dataset names its classes."""
        classes = getattr(self.splits, "classes", DIGITS)
        return str(c) if classes == DIGITS or c >= len(classes) else f"{c} {classes[c]}"

    @property
    def splits(self):
        return getattr(getattr(self.app, "session", None), "splits", None)

    @property
    def noun(self) -> str:
        return getattr(self.splits, "noun", "digits")

    def compose(self) -> ComposeResult:
        yield Static(id="cell-head")
        with Horizontal(id="cell-main"):
            yield DataTable(id="cell-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="cell-digit-box", classes="box"):
                yield Static(id="cell-digit")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        t, p, n = self.true, self.pred, len(self.indices)
        head = Text()
        if t == p:
            head.append(f"{n:,} dev {self.noun} of class {self.named(t)} predicted right", style="bold")
            head.append("   least sure first", style="dim")
        else:
            head.append(f"{n:,} dev {self.noun} of class {self.named(t)} predicted as {self.named(p)}",
                        style="bold red" if n else "bold")
            head.append("   most confident mistakes first", style="dim")
        self.query_one("#cell-head", Static).update(head)
        table = self.query_one(DataTable)
        table.add_columns("rank", "dev #", f"p({p})", "top 3")
        for rank, i in enumerate(self.indices, 1):
            table.add_row(str(rank), str(int(i)), f"{100 * self.proba[i, p]:.1f}%",
                          "  ".join(f"{self.named(c)} {100 * q:.0f}%" for c, q in top(self.proba[i])), key=str(int(i)))
        self.show(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show(event.cursor_row)

    def show(self, row: int) -> None:
        box = self.query_one("#cell-digit-box")
        view = self.query_one("#cell-digit", Static)
        if not len(self.indices):
            box.border_title = f"no {self.noun}"
            view.update(Text(f"None of the dev {self.noun} of class {self.named(self.true)} is predicted as "
                             f"{self.named(self.pred)}.", style="dim"))
            return
        i = int(self.indices[min(max(row, 0), len(self.indices) - 1)])
        one = "digit" if self.noun == "digits" else "image"
        box.border_title = f"dev {one} {i}, a {self.named(self.true)}"
        out = digit_text(self.digits.images[i], not self.app.no_color)
        out.append("\n")
        likeliest = top(self.proba[i])
        pad = max(len(self.named(c)) for c, _ in likeliest)
        for c, q in likeliest:
            style = "green" if c == self.true else "red" if c == self.pred else ""
            out.append(f"\n{self.named(c):<{pad}} ", style=f"bold {style}".strip())
            out.append(bar(q, 18), style=style or "cyan")
            out.append(f" {100 * q:5.1f}%", style=style)
        view.update(out)
