"""The dashboard's doors to the explore screens: b (digits of the confusion cell; enter on the matrix does
the same), g (draw a digit), i (inside the network), k (robustness and doubt).

Mixed into NNTuiApp. The screens get the finished or opened model, never one a training thread is
changing: they open only in the states "finished" and "model", and they are modal, so no run can
start while one is up (a run always trains a fresh MLP of its own anyway).
"""
from __future__ import annotations

from .screens.draw import DrawScreen
from .screens.inside import InsideScreen
from .screens.mistakes import MistakesScreen
from .screens.robustness import RobustnessScreen
from .widgets.confusion import ConfusionPanel

EXPLORE_ACTIONS = ("browse_cell", "draw", "inside", "robustness")


class ExploreActions:
    def explore_ready(self) -> bool:
        """A trained or opened model and its data are in hand, and nothing is training."""
        return self.model is not None and self.splits is not None and self.state in ("finished", "model")

    def explore_refused(self) -> bool:
        if self.explore_ready():
            return False
        self.notify("Nothing to explore yet: train a model (t) or open one (o) first.", severity="warning")
        return True

    def refresh_predictions(self):
        """Confusion matrix and digits from the model in hand (after a run: the restored best weights,
        which may differ from the last epoch's), so a cell lists as many digits as it shows.
        Returns the dev-set Evaluation."""
        from engine import evaluate

        ev = evaluate(self.model, self.splits.dev.x, self.splits.dev.y)
        self.query_one(ConfusionPanel).set_matrix(ev.confusion)
        self.query_one("#digits").set_proba(ev.proba)
        return ev

    def open_cell(self, true: int, pred: int) -> None:
        if not self.explore_refused():
            self.push_screen(MistakesScreen(self.model, self.splits.dev, true, pred))

    def on_confusion_panel_cell_chosen(self, message: ConfusionPanel.CellChosen) -> None:
        self.open_cell(message.true, message.pred)

    def action_browse_cell(self) -> None:
        self.open_cell(*self.query_one(ConfusionPanel).cursor)

    def action_draw(self) -> None:
        if not self.explore_refused():
            self.push_screen(DrawScreen(self.model, self.splits.dev))

    def action_inside(self) -> None:
        if not self.explore_refused():
            self.push_screen(InsideScreen(self.model, self.splits.dev))

    def action_robustness(self) -> None:
        if not self.explore_refused():
            self.push_screen(RobustnessScreen(self.model, self.splits.test, self.splits.dev))
