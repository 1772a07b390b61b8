"""The dashboard's keys: one list, from which the footer (the short labels), the help screen (the tooltips)
and the README's key table (checked by a test) all come.

The footer is contextual: it shows the keys that work now (the app's `check_action`), the most needed
first (`FOOTER`), as many as the window's width holds; in the confusion matrix's cursor it leads with the
matrix's own keys (`CELL_KEYS`). A key that cannot work now is not shown, and pressed it says why.
"""
from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # the stock footer's own key widget (not exported)

KEYS = [
    Binding("t", "train", "train", tooltip="start training (a new run when the last one has ended)"),
    Binding("space", "pause", "pause", tooltip="pause / resume training"),
    Binding("space", "resume", "resume", tooltip="pause / resume training"),
    Binding("s", "stop", "stop", tooltip="stop training; the best model so far is kept and saved in the run "
                                         "directory"),
    Binding("e", "edit", "edit", tooltip="edit settings: live ones (lr, l2, momentum, batch size) apply at the "
                                         "next batch"),
    Binding("n", "new_run", "new run", tooltip="new run: clear the dashboard and start again from fresh weights"),
    Binding("w", "save", "save", tooltip="save the current model to a file"),
    Binding("o", "open", "open", tooltip="open a saved model to view its predictions"),
    Binding("d", "digits", "digits", tooltip="next sample of digits"),
    Binding("m", "mistakes", "mistakes", tooltip="mistakes only: show just the digits the network gets wrong"),
    Binding("v", "next_view", "view",
            tooltip="next panel (confusion, digits, settings) when the window is small"),
    Binding("c", "focus_confusion", "cells",
            tooltip="focus the confusion matrix: arrows pick a cell, enter lists its digits, esc leaves"),
    Binding("escape", "leave_cells", "leave", show=False),  # in the matrix's cursor; its footer says so
    Binding("b", "browse_cell", "cell digits",  # enter on the focused matrix does the same
            tooltip="the dev digits of the confusion cell under the cursor, most confident mistakes first"),
    Binding("g", "draw", "draw",
            tooltip="draw a digit (arrows, space, p pen, e eraser, x, c; or the mouse) and watch the guess"),
    Binding("i", "inside", "inside",
            tooltip="inside the network: a hidden unit's weights (left/right), activations, dead units"),
    Binding("k", "robustness", "robust",
            tooltip="robustness to noise, rotation and shift; a confidence threshold for \"not sure\""),
    Binding("x", "experiments", "experiments",
            tooltip="experiments: define a hyperparameter grid, run the search, sort its leaderboard, open a "
                    "trial"),
    Binding("f", "fork", "fork",
            tooltip="fork: branch the run at its last epoch and train on in the branch (the run is kept); the "
                    "editor's pending settings apply to the branch"),
    Binding("F", "fork_best", "fork best", key_display="shift+f",
            tooltip="fork the run at its best epoch"),
    Binding("u", "undo", "undo",
            tooltip="undo the last live change: back to the last epoch before it, with the settings then, and on"),
    Binding("r", "runs", "runs",
            tooltip="runs: every past run (damaged ones too); space marks runs to overlay their curves, enter "
                    "opens one"),
    Binding("p", "screenshot", "picture",
            tooltip="picture: save an SVG screenshot of the current screen (dashboard, experiments, runs)"),
    Binding("l", "log_scale", "log loss", tooltip="loss chart on a log scale, or back to linear"),
    Binding("a", "smoothing", "smooth",
            tooltip="smooth the per-batch lines (a moving average, the raw line faint behind) or show them raw"),
    Binding("question_mark", "help", "help", key_display="?", tooltip="this help"),
    Binding("q", "quit", "quit", tooltip="quit (stops training cleanly, keeping the best model)"),
]

# The footer's order of need: the first ones that fit the width are shown (in the order of KEYS), so at 80
# columns the essentials, at 200 the doors to the other screens and the chart toggles too.
FOOTER = ("train", "pause", "resume", "stop", "edit", "save", "open", "new_run", "help", "quit",
          "next_view", "focus_confusion", "digits", "mistakes",
          "draw", "inside", "robustness", "browse_cell", "experiments", "runs", "screenshot",
          "fork", "undo", "log_scale", "smoothing", "fork_best")

# What the footer shows first while the confusion matrix has the focus (its own bindings are arrows and enter)
CELL_KEYS = (("down", "←↑↓→", "pick a cell"), ("enter", "enter", "its digits"), ("escape", "esc", "leave"))


def footer_width(display: str, label: str) -> int:
    """Columns one key takes in the compact footer: `key label` and a space."""
    return len(display) + 1 + len(label) + 1


def footer_keys(usable: dict[str, tuple[str, str, str]], width: int, cells: bool = False) -> list[tuple[str, ...]]:
    """(key, display, label, action) of the keys the footer shows: `usable` maps each action that works now to
    (key, display, label); the most needed first while they fit `width` columns, shown in the order of KEYS;
    with `cells`, the matrix's keys lead."""
    lead = [(key, display, label, "") for key, display, label in CELL_KEYS] if cells else []
    used = sum(footer_width(d, label) for _, d, label, _ in lead)
    chosen = set()
    for action in FOOTER:
        if action not in usable:
            continue
        _, display, label = usable[action]
        need = footer_width(display, label)
        if used + need > width:
            break
        used += need
        chosen.add(action)
    order = [b.action for b in KEYS]
    return lead + [(usable[a][0], usable[a][1], usable[a][2], a) for a in sorted(chosen, key=order.index)]


class KeysFooter(Footer):
    """The dashboard's footer: the keys that work now, as many as the width holds (see `footer_keys`)."""

    def compose(self):
        if not self._bindings_ready:
            return
        usable = {}
        for key, active in self.screen.active_bindings.items():  # those the app's check_action allows now
            b = active.binding
            if b.show and active.enabled and b.action in FOOTER:
                usable.setdefault(b.action, (key, self.app.get_key_display(b), b.description))
        cells = type(self.screen.focused).__name__ == "ConfusionPanel"
        shown = footer_keys(usable, self.app.size.width, cells)
        self.styles.grid_size_columns = len(shown)
        for key, display, label, action in shown:
            yield FooterKey(key, display, label, action).data_bind(compact=Footer.compact)
