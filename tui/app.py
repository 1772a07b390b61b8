"""The nn-tui app: the layout, the keys, the doors to the screens, and drawing the session's state.

The run itself (its state, settings, model, worker...) belongs to the Session (tui/session.py); the app is
its host: it runs the workers, passes their messages on, and draws what the session holds.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static
from textual.widgets._toast import ToastRack  # where the notices are drawn
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from engine import Control, EpochEnded, Evaluation, TrainConfig

from . import layout
from .keys import KEYS, KeysFooter
from .layout import VIEWS
from .messages import DataLoaded, EngineEvent
from .screens.draw import DrawScreen
from .screens.editor import EditScreen
from .screens.experiments import ExperimentsScreen, ask_winner
from .screens.files import OpenScreen, SaveScreen
from .screens.help import HelpScreen
from .screens.inside import InsideScreen
from .screens.inside_conv import ConvInsideScreen
from .screens.mistakes import MistakesScreen
from .screens.robustness import RobustnessScreen
from .screens.runs import RunsScreen
from .session import SCREENSHOTS, Loader, Session, State, load_splits, short_path
from .text import count
from .widgets.charts import MetricChart
from .widgets.confusion import ConfusionPanel
from .widgets.digits import DigitsPanel
from .widgets.health import HealthPanel
from .widgets.settings import SettingsPanel
from .widgets.status import StatusPanel

EXPLORE = ("browse_cell", "draw", "inside", "robustness")


class NNTuiApp(App):
    """Live training dashboard. Build it with `make_app` (the CLI and the tests both do)."""

    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute, so subclasses elsewhere find it
    # notices stay small: one line of text (and a title), no blank rows, so they cover little of the panels
    CSS = "Toast { padding: 0 1; margin-top: 0; max-width: 50%; }"
    TITLE = "nn-tui"
    AUTO_FOCUS = None  # keys go to the app; `c` focuses the confusion matrix
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = KEYS

    view = reactive(0)
    screenshot_dir: Path | None = None  # where p saves pictures (default: the runs directory's screenshots/)

    def __init__(self, config: TrainConfig, loader: Loader = load_splits, runs_root: Path | None = None,
                 model_path: Path | None = None, redraw_every: float = 0.5, chart_every: float = 1.0,
                 control: type[Control] = Control):
        super().__init__()
        self.session = Session(config, self, loader, runs_root, control, model_path)
        self.redraw_every, self.chart_every = redraw_every, chart_every
        self.charts_drawn = 0.0  # monotonic time of the last chart redraw

    # -- layout ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal(id="top"):
            yield MetricChart("loss", id="loss")
            yield MetricChart("accuracy %", percent=True, id="acc")
            with Vertical(id="status-box", classes="box"):
                yield StatusPanel(id="status")
        with Horizontal(id="bottom"):
            with Vertical(id="side-status-box", classes="box"):
                yield StatusPanel(id="side-status")
            with Vertical(id="confusion-box", classes="box view"):
                yield ConfusionPanel(id="confusion")
            with Vertical(id="digits-box", classes="box view"):
                yield DigitsPanel(id="digits")
            with Vertical(id="settings-box", classes="box view"):
                yield SettingsPanel(id="settings")
            with Vertical(id="health-box", classes="box view"):
                yield HealthPanel(id="health")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.apply_layout(self.size.width, self.size.height)
        self.watch_view(self.view)
        self.show_state()
        self.set_interval(self.redraw_every, self.drain)
        self.session.load(self.session.config)

    def on_resize(self, event) -> None:
        self.apply_layout(event.size.width, event.size.height)

    def apply_layout(self, width: int, height: int) -> None:
        layout.apply(self.screen, width, height)
        self.show_status()
        self.watch_view(self.view)
        self.refresh_bindings()

    def watch_view(self, view: int) -> None:
        if self.is_mounted:
            layout.show_view(self.screen, view)

    @property
    def wide(self) -> bool:
        return self.screen.has_class("-wide")

    # -- the session's messages and workers ---------------------------------

    def on_engine_event(self, message: EngineEvent) -> None:
        self.session.event(message.event, message.run_id)

    def on_data_loaded(self, message: DataLoaded) -> None:
        self.session.data_loaded(message.splits, message.key)

    @on(Worker.StateChanged)
    def worker_changed(self, event: Worker.StateChanged) -> None:
        self.drain()  # a stopped run's last batches reach the charts before it ends
        self.session.worker_changed(event.worker)

    def drain(self) -> None:
        """The redraw timer: the batch reports waiting in the session's inbox, then what changed."""
        batches = self.session.drain()
        if batches:
            loss, acc = self.query_one("#loss", MetricChart), self.query_one("#acc", MetricChart)
            for event in batches:
                loss.add_batch(event.progress, event.loss)
                acc.add_batch(event.progress, event.accuracy)
        if self.session.state is State.TRAINING:
            self.show_status()
        if time.monotonic() - self.charts_drawn >= self.chart_every:
            self.redraw_charts()

    def redraw_charts(self) -> None:
        """Plotting costs ~10 ms of Python per chart, taken from the training thread: at most once a
        second while training (and at each epoch's end), so the app trains nearly as fast as headless."""
        self.charts_drawn = time.monotonic()
        for chart in self.query(MetricChart):
            chart.redraw()

    # -- drawing what the session holds (its Host side) -----------------------

    def show_data(self, splits) -> None:
        self.query_one(DigitsPanel).set_data(splits.dev.images, splits.dev.labels, splits.classes, splits.noun)
        self.query_one(ConfusionPanel).set_classes(splits.classes)
        self.show_title()

    def reset_board(self, epochs: int) -> None:
        for chart in self.query(MetricChart):
            chart.reset(epochs)
        self.query_one(ConfusionPanel).set_matrix(None)
        self.query_one(DigitsPanel).set_proba(None)

    def show_epoch(self, event: EpochEnded) -> None:
        self.drain()
        self.query_one("#loss", MetricChart).add_epoch(event.epoch, event.train_loss, event.dev_loss)
        self.query_one("#acc", MetricChart).add_epoch(event.epoch, event.train_acc, event.dev_acc)
        for chart in self.query(MetricChart):  # both star the epoch whose weights early stopping keeps
            chart.best_at = event.early.best_epoch or None
        self.query_one(ConfusionPanel).set_matrix(event.confusion)
        self.query_one(DigitsPanel).set_proba(event.dev_proba)
        self.redraw_charts()

    def show_predictions(self, evaluation: Evaluation) -> None:
        self.query_one(ConfusionPanel).set_matrix(evaluation.confusion)
        self.query_one(DigitsPanel).set_proba(evaluation.proba)

    def show_history(self, history: list[dict]) -> None:
        for chart in self.query(MetricChart):
            chart.reset(max([h["epoch"] for h in history] or [1]))
        loss, acc = self.query_one("#loss", MetricChart), self.query_one("#acc", MetricChart)
        for h in history:
            try:
                loss.add_epoch(h["epoch"], h["train_loss"], h["dev_loss"])
                acc.add_epoch(h["epoch"], h["train_acc"], h["dev_acc"])
            except (KeyError, TypeError):
                continue
        for chart in self.query(MetricChart):  # an opened model's best epoch: the one its file holds
            chart.best_at = self.session.status.best_epoch or None
        self.redraw_charts()

    def show_mark(self, x: float, label: str) -> None:
        for chart in self.query(MetricChart):
            chart.add_mark(x, label)

    def show_health(self, record: dict | None, alerts: list) -> None:
        self.query_one(HealthPanel).show(record, alerts, compact=not self.wide)

    def show_state(self) -> None:
        """Title, status, settings and the keys that make sense now; the screen on top redraws too."""
        if not self.is_mounted:
            return
        self.show_title()
        self.show_status()
        self.show_settings()
        self.refresh_bindings()
        refresh = getattr(self.screen, "session_changed", None)
        if refresh is not None:
            refresh()
        ask_winner(self)  # a finished search asks before its winner replaces the dashboard's model

    def show_title(self) -> None:
        s = self.session
        title = Text("nn-tui", style="bold")
        if s.splits is not None:
            title.append(f" · {s.splits.name} {'/'.join(count(len(d)) for _, d in s.splits.items())}", style="cyan")
        cfg = s.shown_config()
        spec = s.model.spec if s.state is State.MODEL and s.model else cfg.spec()
        pending = s.pending if s.state.busy else {}  # a live change the loop takes at its next batch
        lr, batch = pending.get("lr", cfg.lr), pending.get("batch_size", cfg.batch_size)
        title.append(f" · {spec} {spec.activation} · {cfg.optimizer} ")
        title.append(f"lr {lr:g}", style="yellow" if "lr" in pending else "")
        title.append(" · ")
        title.append(f"batch {batch}", style="yellow" if "batch_size" in pending else "")
        if pending:
            title.append(" (next batch)", style="yellow")
        self.query_one("#title", Static).update(title)

    def show_status(self) -> None:
        """Only the status panel the layout shows (top right when wide, bottom left when compact)."""
        if self.is_mounted:
            self.query_one("#status" if self.wide else "#side-status", StatusPanel).show(self.session.status,
                                                                                          self.session.state)

    def show_settings(self) -> None:
        s = self.session
        self.query_one(SettingsPanel).show(s.run_config if s.state.running else None, s.config)

    # -- keys --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Whether a dashboard key works now: the footer shows only those; the others say why when pressed."""
        s = self.session
        if action == "pause":
            return s.state is State.TRAINING
        if action == "resume":
            return s.state is State.PAUSED
        if action == "leave_cells":
            return isinstance(self.screen.focused, ConfusionPanel)
        return self.why_not(action) is None

    def why_not(self, action: str) -> str | None:
        """Why the dashboard key for `action` cannot work now, in one line; None when it can."""
        s = self.session
        state, loaded = s.state, s.splits is not None
        # each fits one line of a notice at 80 columns (37 characters)
        loading = "the data is still loading" if state is State.LOADING else "no data to train on: see the error"
        busy = "a run is training: s stops it"
        no_model = "no model yet: t trains, o opens one"
        if action in ("pause", "resume"):
            if s.state is State.STOPPING:
                return "stopping: it ends after this batch"
            return None if s.state.running else "nothing is training: t trains"
        if action == "train":
            return (None if state.ready and loaded else busy if state.busy else loading)
        if action == "stop":
            return None if state.running else ("already stopping" if state is State.STOPPING
                                               else "nothing is training: t trains")
        if action == "edit":
            return None if state is not State.LOADING or loaded else loading
        if action == "new_run":
            return None if state in (State.FINISHED, State.MODEL) else busy if state.busy else (
                "the dashboard is clear: t trains")
        if action == "save":
            if s.model is not None or (state.running and s.best_file() is not None):
                return None
            return "no epoch ended yet: nothing to save" if state.busy else no_model
        if action == "open":
            return None if state.ready and loaded else busy if state.busy else loading
        if action == "digits":
            return None if loaded else loading
        if action == "mistakes":
            return None if self.query_one(DigitsPanel).proba is not None else (
                "no predictions yet: t trains, o opens")
        if action == "next_view":
            return None if not self.wide else "every panel is on screen already"
        if action == "focus_confusion":
            return None if self.query_one(ConfusionPanel).matrix is not None else (
                "no confusion matrix yet: t trains")
        if action in ("fork", "fork_best"):
            if s.search.running:
                return "a search is running: no fork now"
            if state is State.STOPPING:
                return "the run is stopping: fork after it"
            return None if s.run_dir is not None else "nothing to fork yet: t trains a run"
        if action == "undo":
            if s.search.running or state is State.STOPPING:
                return "nothing to undo now"
            return None if s.changes else "no live change to undo (e makes one)"
        if action in EXPLORE:
            if s.explore_ready():
                return None
            return "training: wait for it to end (or s)" if state.busy else no_model
        return None

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:
        """A dashboard key that cannot work now says why in one line (a notice), never nothing."""
        if isinstance(action, str) and default_namespace in (None, self) and action.isidentifier():
            why = None if self.check_action(action, ()) else self.why_not(action)
            if why:
                self.notify(why, severity="warning", timeout=3)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def action_leave_cells(self) -> None:
        self.screen.set_focus(None)

    def action_train(self) -> None:
        self.session.start()

    def action_pause(self) -> None:
        self.session.pause()

    def action_resume(self) -> None:
        self.session.resume()

    def action_stop(self) -> None:
        if self.session.stop():
            self.notify("Stopping after this batch; the best model so far is kept.")

    def action_new_run(self) -> None:
        self.session.new_run()

    def action_edit(self) -> None:
        self.push_screen(EditScreen(self.session.editable(), self.session.state.running), self.session.edit)

    def action_save(self) -> None:
        self.push_screen(SaveScreen(self.session.default_save_path()), self.session.save)

    def action_open(self) -> None:
        """The dialog opens the model itself: a bad path keeps it open, with the reason under the path."""
        self.push_screen(OpenScreen(self.session.recent_models(), self.session.try_open))

    def action_digits(self) -> None:
        self.query_one(DigitsPanel).next_page()
        if not self.wide:
            self.view = VIEWS.index("digits-box")

    def action_mistakes(self) -> None:
        panel = self.query_one(DigitsPanel)
        if panel.proba is None:
            self.notify("No predictions yet: train (t) or open a model (o) first.", severity="warning")
            return
        on = panel.toggle_mistakes()
        self.notify("Showing mistakes only." if on else "Showing all digits.")
        if not self.wide:
            self.view = VIEWS.index("digits-box")

    def action_log_scale(self) -> None:
        on = self.query_one("#loss", MetricChart).toggle_log()
        self.redraw_charts()
        self.notify("Loss on a log scale." if on else "Loss on a linear scale.", timeout=2)

    def action_smoothing(self) -> None:
        on = False
        for chart in self.query(MetricChart):
            on = chart.toggle_smoothing()
        self.redraw_charts()
        self.notify("Batch lines smoothed (raw faint behind)." if on else "Batch lines raw.", timeout=2)

    def action_next_view(self) -> None:
        view = (self.view + 1) % len(VIEWS)
        if self.screen.has_class("-medium") and VIEWS[view] == "confusion-box":
            view = (view + 1) % len(VIEWS)  # shown already
        if self.screen.has_class("-medium") and VIEWS[self.view] == "confusion-box":
            view = VIEWS.index("settings-box")  # the slot showed the digits
        self.view = view

    def action_focus_confusion(self) -> None:
        if not self.wide and not self.screen.has_class("-medium"):
            self.view = VIEWS.index("confusion-box")
        self.query_one(ConfusionPanel).focus()

    def action_fork(self) -> None:
        self.session.fork()

    def action_fork_best(self) -> None:
        self.session.fork(best=True)

    def action_undo(self) -> None:
        self.session.undo()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.BINDINGS))

    # -- doors to the other screens -------------------------------------------

    def action_experiments(self) -> None:
        self.push_screen(ExperimentsScreen())

    def action_runs(self) -> None:
        self.push_screen(RunsScreen())

    def action_screenshot(self) -> None:
        """An SVG of the screen in the runs directory's `screenshots` folder, taken without the notices on it."""
        name = type(self.screen).__name__.removesuffix("Screen").lower() or "dashboard"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path(self.screenshot_dir or self.session.runs_root / SCREENSHOTS)
        racks = list(self.screen.query(ToastRack))
        for rack in racks:
            rack.display = False
        self.screen.refresh(layout=True)  # the picture is taken after the screen is laid out without them

        def take() -> None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                path = self.save_screenshot(f"{name}-{stamp}.svg", str(folder))
            except OSError as e:
                self.notify(f"Cannot save a screenshot in {short_path(folder, self.session.runs_root)}: "
                            f"{e.strerror or e}", severity="error")
                return
            finally:
                for rack in racks:
                    rack.display = True
            self.notify(f"Saved {short_path(path, self.session.runs_root)}", title="Screenshot", timeout=4)

        self.call_after_refresh(take)

    def explore(self, make) -> None:
        """Open make(model, splits), an explore screen on the model in hand (modal: no run starts while it is up)."""
        s = self.session
        if not s.explore_ready():
            self.notify("Nothing to explore yet: train a model (t) or open one (o) first.", severity="warning")
            return
        self.push_screen(make(s.model, s.splits))

    def on_confusion_panel_cell_chosen(self, message: ConfusionPanel.CellChosen) -> None:
        self.open_cell(message.true, message.pred)

    def open_cell(self, true: int, pred: int) -> None:
        self.explore(lambda model, splits: MistakesScreen(model, splits.dev, true, pred))

    def action_browse_cell(self) -> None:
        self.open_cell(*self.query_one(ConfusionPanel).cursor)

    def action_draw(self) -> None:
        self.explore(lambda model, splits: DrawScreen(model, splits.dev))

    def action_inside(self) -> None:
        self.explore(lambda model, splits: (ConvInsideScreen if model.spec.conv else InsideScreen)(model, splits.dev))

    def action_robustness(self) -> None:
        self.explore(lambda model, splits: RobustnessScreen(model, splits.test, splits.dev))

    async def action_quit(self) -> None:
        s = self.session
        if s.state.busy and s.control is not None:
            s.stop()
            self.notify("Stopping training and saving the best model...")
            if s.worker is not None:
                try:
                    await s.worker.wait()
                except (WorkerFailed, WorkerCancelled):
                    self.exit(message=f"nn-tui: the run ended with an error: {s.worker.error}")
                    return
        self.exit()


def make_app(config: TrainConfig | None = None, loader: Loader = load_splits, runs_root: Path | None = None,
             model_path: Path | None = None, **kw) -> NNTuiApp:
    """The one factory: the command line and the tests build the app the same way."""
    return NNTuiApp(config or TrainConfig(), loader, runs_root, model_path, **kw)
