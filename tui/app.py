"""The nn-tui app: the engine trains in a thread worker while the dashboard shows it live."""
from __future__ import annotations

import time
from collections import deque
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Callable

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

import data
import models
from engine import (
    LIVE,
    BatchEnded,
    Control,
    EpochEnded,
    Finished,
    Recording,
    RunStarted,
    SettingsChanged,
    TrainConfig,
)
from engine.runs import list_runs, runs_dir, train_run

from .experiments import ExperimentActions
from .explore import EXPLORE_ACTIONS, ExploreActions
from .messages import EngineEvent
from .screens.editor import EditScreen
from .screens.files import OpenScreen, SaveScreen
from .screens.help import HelpScreen
from .text import count, pct
from .widgets.charts import MetricChart
from .widgets.confusion import ConfusionPanel
from .widgets.digits import DigitsPanel
from .widgets.settings import SettingsPanel
from .widgets.status import RunStatus, StatusPanel

Loader = Callable[[TrainConfig], data.Splits]
VIEWS = ("confusion-box", "digits-box", "settings-box")
WIDE = (150, 40)  # at least this many columns and rows: every panel at once


def load_splits(cfg: TrainConfig) -> data.Splits:
    splits = data.load(cfg.data, cfg.dev_size, cfg.seed)
    for _, d in splits.items():
        d.x  # float32 once, in the loading thread
    return splits


class DataLoaded(Message):
    def __init__(self, splits: data.Splits, key: tuple) -> None:
        super().__init__()
        self.splits, self.key = splits, key


class NNTuiApp(ExploreActions, ExperimentActions, App):
    """Live training dashboard. Build it with `make_app` (the CLI and the tests both do)."""

    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute, so subclasses elsewhere find it
    TITLE = "nn-tui"
    AUTO_FOCUS = None  # keys go to the app; `c` focuses the confusion matrix
    ENABLE_COMMAND_PALETTE = False
    # The footer shows the keys of the dashboard's own work (they fit 80 columns in every state);
    # the doors to other screens are listed on the help screen (?) and in the panel titles.
    BINDINGS = [
        Binding("t", "train", "train"),
        Binding("space", "pause", "pause"),
        Binding("space", "resume", "resume"),
        Binding("s", "stop", "stop"),
        Binding("e", "edit", "edit"),
        Binding("n", "new_run", "new run"),
        Binding("w", "save", "save"),
        Binding("o", "open", "open"),
        Binding("d", "digits", "digits"),
        Binding("m", "mistakes", "mistakes"),
        Binding("v", "next_view", "view", show=False),
        Binding("c", "focus_confusion", "cells", show=False),
        Binding("b", "browse_cell", "cell digits", show=False),  # enter on the focused matrix does the same
        Binding("g", "draw", "draw", show=False),
        Binding("i", "inside", "inside", show=False),
        Binding("k", "robustness", "robust", show=False),
        Binding("x", "experiments", "experiments", show=False),
        Binding("r", "runs", "runs", show=False),
        Binding("p", "screenshot", "picture", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    state = reactive("loading", bindings=True)
    view = reactive(0)

    def __init__(self, config: TrainConfig, loader: Loader = load_splits, runs_root: Path | None = None,
                 model_path: Path | None = None, redraw_every: float = 0.5, chart_every: float = 1.0):
        super().__init__()
        self.config = config  # settings of the next run
        self.run_config: TrainConfig | None = None  # settings of the run in progress
        self.loader, self.runs_root, self.model_path = loader, runs_root or runs_dir(), model_path
        self.redraw_every, self.chart_every = redraw_every, chart_every
        self.charts_drawn = 0.0  # monotonic time of the last chart redraw
        self.splits: data.Splits | None = None
        self.splits_key: tuple | None = None
        self.model: models.MLP | None = None
        self.model_meta: dict = {}
        self.control: Control | None = None
        self.worker: Worker | None = None
        self.run_id = 0
        self.run_dir: Path | None = None
        self.inbox: deque = deque()  # (run_id, BatchEnded) from the training thread
        self.status = RunStatus(monitor=config.monitor, patience=config.patience)
        self.last_summary: dict | None = None
        self.t_start = 0.0

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
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.apply_layout(self.size.width, self.size.height)
        self.watch_view(self.view)
        self.show_title()
        self.show_settings()
        self.show_status()
        self.set_interval(self.redraw_every, self.drain)
        self.start_loading(self.config)

    def on_resize(self, event) -> None:
        self.apply_layout(event.size.width, event.size.height)

    def apply_layout(self, width: int, height: int) -> None:
        wide = width >= WIDE[0] and height >= WIDE[1]
        self.screen.set_class(wide, "-wide")
        self.screen.set_class(not wide, "-compact")
        more = "" if wide else " · v next panel"
        for box, title in (("#status-box", "status"), ("#side-status-box", "status"),
                           ("#confusion-box", f"confusion (dev) · c pick a cell{more}"),
                           ("#digits-box", f"digits · d next · m mistakes{more}"),
                           ("#settings-box", f"settings · e edit{more}")):
            self.query_one(box).border_title = title
        self.show_status()
        self.refresh_bindings()

    def watch_view(self, view: int) -> None:
        if not self.is_mounted:
            return
        for i, name in enumerate(VIEWS):
            self.query_one(f"#{name}").set_class(i == view, "-current")

    @property
    def wide(self) -> bool:
        return self.screen.has_class("-wide")

    # -- data and model ----------------------------------------------------

    @staticmethod
    def data_key(cfg: TrainConfig) -> tuple:
        return (cfg.data, cfg.dev_size, cfg.seed)

    def start_loading(self, cfg: TrainConfig) -> None:
        self.state = "loading"
        self.status.state = "loading"
        self.status.note = f"loading {cfg.data}..."
        self.show_status()
        self.run_worker(partial(self.load_thread, cfg), thread=True, group="data", exclusive=True,
                        exit_on_error=False, name="load")

    def load_thread(self, cfg: TrainConfig) -> None:
        self.post_message(DataLoaded(self.loader(cfg), self.data_key(cfg)))

    def on_data_loaded(self, message: DataLoaded) -> None:
        self.use_splits(message.splits, message.key)
        if self.state == "loading":
            self.state = "idle"
            self.status.state = "idle"
            self.status.note = "press t to train, e to edit settings, ? for help"
        if self.model_path is not None:
            path, self.model_path = self.model_path, None
            self.open_model(path)
        self.show_status()

    def use_splits(self, splits: data.Splits, key: tuple) -> None:
        self.splits, self.splits_key = splits, key
        self.query_one(DigitsPanel).set_data(splits.dev.images, splits.dev.labels)
        self.show_title()

    def open_model(self, path: Path) -> None:
        try:
            model, meta = models.load(path)
        except models.CheckpointError as e:
            self.notify(str(e), title="Cannot open model", severity="error", timeout=8)
            return
        if model.spec.inputs != self.splits.dev.x.shape[1]:
            self.notify(f"{path}: the model takes {model.spec.inputs} inputs, the digits have "
                        f"{self.splits.dev.x.shape[1]}", severity="error")
            return
        self.model, self.model_meta = model, meta
        ev = self.refresh_predictions()
        self.state = "model"
        self.status = RunStatus(state="model", monitor=self.config.monitor, patience=self.config.patience)
        self.status.last = {}
        self.status.note = f"viewing {path} ({model.spec}): dev accuracy {100 * ev.accuracy:.2f}%"
        self.show_status()
        self.show_title()
        self.notify(f"Opened {path.name}: dev accuracy {100 * ev.accuracy:.2f}%")

    # -- training ----------------------------------------------------------

    def start_run(self) -> None:
        cfg = self.config
        self.reset_board(cfg)
        self.run_id += 1
        self.control = Control()
        self.run_config = cfg
        self.model, self.run_dir, self.last_summary = None, None, None
        self.state = "training"
        self.status = RunStatus(state="training", epochs=cfg.epochs, lr=cfg.lr, monitor=cfg.monitor,
                                patience=cfg.patience)
        self.t_start = time.monotonic()
        self.show_all()
        job = partial(self.train_thread, cfg, self.control, self.run_id, self.splits_for(cfg))
        self.worker = self.run_worker(job, thread=True,
                                      group="train", exclusive=True, exit_on_error=False, name=f"run {self.run_id}")

    def splits_for(self, cfg: TrainConfig) -> data.Splits | None:
        """On the UI thread: the loaded splits if `cfg` trains on them, else None (the worker loads)."""
        return self.splits if self.data_key(cfg) == self.splits_key else None

    def splits_in_thread(self, cfg: TrainConfig, splits: data.Splits | None) -> data.Splits:
        """In a worker thread: the splits chosen on the UI thread, or freshly loaded (and announced)."""
        if splits is None:
            splits = self.loader(cfg)
            self.post_message(DataLoaded(splits, self.data_key(cfg)))
        return splits

    def train_thread(self, cfg: TrainConfig, control: Control, run_id: int, splits: data.Splits | None):
        """Runs in the worker thread: never touches a widget, only posts messages and fills the inbox."""
        splits = self.splits_in_thread(cfg, splits)

        def listener(event) -> None:
            if isinstance(event, BatchEnded):
                self.inbox.append((run_id, event))
            else:
                self.post_message(EngineEvent(event, run_id))

        return train_run(splits, cfg, self.runs_root, listener, control)

    def reset_board(self, cfg: TrainConfig) -> None:
        for chart in self.query(MetricChart):
            chart.reset(cfg.epochs)
        self.inbox.clear()
        self.query_one(ConfusionPanel).set_matrix(None)
        self.query_one(DigitsPanel).set_proba(None)

    def drain(self) -> None:
        """The redraw timer: take the batch reports waiting in the inbox, then redraw what changed."""
        latest = None
        while self.inbox:
            run_id, event = self.inbox.popleft()
            if run_id != self.run_id:
                continue
            latest = event
            self.query_one("#loss", MetricChart).add_batch(event.progress, event.loss)
            self.query_one("#acc", MetricChart).add_batch(event.progress, event.accuracy)
        if latest is not None:
            st = self.status
            st.epoch, st.progress, st.lr = latest.epoch, latest.progress, latest.lr
            st.samples_per_sec = latest.samples_per_sec
        if self.state == "training":
            self.status.elapsed = time.monotonic() - self.t_start
            self.show_status()
        if time.monotonic() - self.charts_drawn >= self.chart_every:
            self.redraw_charts()

    def redraw_charts(self) -> None:
        """Plotting costs ~10 ms of Python per chart, taken from the training thread: at most once a
        second while training (and at each epoch's end), so the app trains nearly as fast as headless."""
        self.charts_drawn = time.monotonic()
        for chart in self.query(MetricChart):
            chart.redraw()

    def on_engine_event(self, message: EngineEvent) -> None:
        if message.run_id != self.run_id:
            return
        event, st = message.event, self.status
        if isinstance(event, Recording):
            self.run_dir = Path(event.run_dir)
        elif isinstance(event, RunStarted):
            st.note = f"{event.spec}: {event.n_train:,} train, {event.n_dev:,} dev digits"
        elif isinstance(event, EpochEnded):
            self.drain()
            self.query_one("#loss", MetricChart).add_epoch(event.epoch, event.train_loss, event.dev_loss)
            self.query_one("#acc", MetricChart).add_epoch(event.epoch, event.train_acc, event.dev_acc)
            st.epoch, st.progress, st.lr = event.epoch, float(event.epoch), event.lr
            st.samples_per_sec, st.elapsed = event.samples_per_sec, event.elapsed
            st.best, st.best_epoch, st.bad_epochs = event.early.best, event.early.best_epoch, event.early.bad_epochs
            st.last = {"train_loss": event.train_loss, "train_acc": event.train_acc,
                       "dev_loss": event.dev_loss, "dev_acc": event.dev_acc}
            self.query_one(ConfusionPanel).set_matrix(event.confusion)
            self.query_one(DigitsPanel).set_proba(event.dev_proba)
            self.redraw_charts()
        elif isinstance(event, SettingsChanged):
            self.run_config = self.run_config.replace(**event.changes)
            text = ", ".join(f"{k} {v:g}" for k, v in event.changes.items())
            self.notify(f"{text} applied at epoch {event.epoch}, batch {event.batch}")
            self.show_settings()
        elif isinstance(event, Finished):
            result = event.result
            st.reason = result.reason
            st.patience = self.run_config.patience if self.run_config else st.patience
        self.show_status()

    @on(Worker.StateChanged)
    def worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "data":
            if worker.state == WorkerState.ERROR:
                self.failed(worker.error, "Cannot load data")
            return
        if worker.group != "train" or worker is not self.worker:
            return
        if worker.state == WorkerState.SUCCESS:
            result, summary = worker.result
            self.model, self.last_summary = result.model, summary
            self.run_dir = Path(summary["run_dir"])
            self.state = "finished"
            self.status.state = "finished"
            self.status.reason = result.reason
            self.status.test = summary.get("test_accuracy")
            self.status.note = f"run {self.run_dir.name}"
            self.drain()
            self.refresh_predictions()
            self.show_all()
        elif worker.state == WorkerState.ERROR:
            self.failed(worker.error, "Training failed")
        elif worker.state == WorkerState.CANCELLED and self.state in ("training", "paused", "stopping"):
            self.state = "finished"

    def failed(self, error: BaseException, title: str) -> None:
        """One place for worker failures: a message in the app, never a traceback."""
        self.state = "error" if self.splits is None else "idle"
        self.status.state = self.state
        self.status.reason = str(error) if isinstance(error, data.UserError) else f"{type(error).__name__}: {error}"
        self.show_status()
        self.notify(self.status.reason, title=title, severity="error", timeout=10)

    # -- drawing -----------------------------------------------------------

    def show_title(self) -> None:
        title = Text("nn-tui", style="bold")
        if self.splits is not None:
            s = self.splits
            title.append(f" · {s.name} {'/'.join(count(len(d)) for _, d in s.items())}", style="cyan")
        cfg = self.run_config if self.state in ("training", "paused") and self.run_config else self.config
        spec = self.model.spec if self.state == "model" and self.model else cfg.spec()
        title.append(f" · {spec} {spec.activation} · {cfg.optimizer} lr {cfg.lr:g} · batch {cfg.batch_size}")
        self.query_one("#title", Static).update(title)

    def show_status(self) -> None:
        """Only the status panel the layout shows (top right when wide, bottom left when compact)."""
        if self.is_mounted:
            self.query_one("#status" if self.wide else "#side-status", StatusPanel).show(self.status)

    def show_settings(self) -> None:
        running = self.run_config if self.state in ("training", "paused") else None
        self.query_one(SettingsPanel).show(running, self.config)

    def show_all(self) -> None:
        self.show_title()
        self.show_status()
        self.show_settings()

    def watch_state(self, state: str) -> None:
        self.status.state = state
        if self.is_mounted:
            self.show_all()

    # -- keys --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        state, loaded = self.state, self.splits is not None
        rules = {
            "train": state in ("idle", "finished", "model") and loaded,
            "pause": state == "training",
            "resume": state == "paused",
            "stop": state in ("training", "paused"),
            "edit": state != "loading" or loaded,
            "new_run": state in ("finished", "model"),
            "save": self.model is not None or (state in ("training", "paused") and self.best_file() is not None),
            "open": state in ("idle", "finished", "model") and loaded,
            "digits": loaded,
            "mistakes": loaded,
            "next_view": not self.wide,
            **dict.fromkeys(EXPLORE_ACTIONS, self.explore_ready()),
        }
        if action not in rules:
            return True
        return rules[action] or False  # hidden when it makes no sense now: the footer stays short

    def best_file(self) -> Path | None:
        """The best model the running run has saved so far (its directory comes with a Recording event)."""
        path = self.run_dir / "model.npz" if self.run_dir is not None else None
        return path if path is not None and path.is_file() else None

    def action_train(self) -> None:
        self.start_run()

    def action_pause(self) -> None:
        if self.control:
            self.control.pause()
            self.state = "paused"

    def action_resume(self) -> None:
        if self.control:
            self.control.resume()
            self.state = "training"

    def action_stop(self) -> None:
        if self.control:
            self.control.stop()
            self.state = "stopping"
            self.notify("Stopping after this batch; the best model so far is kept.")

    def action_new_run(self) -> None:
        self.model, self.run_config, self.last_summary = None, None, None
        self.reset_board(self.config)
        self.status = RunStatus(state="idle", monitor=self.config.monitor, patience=self.config.patience,
                                note="new run: press t to train")
        self.state = "idle"
        if self.data_key(self.config) != self.splits_key:
            self.start_loading(self.config)

    def action_edit(self) -> None:
        running = self.state in ("training", "paused")
        base = self.config if not running else self.config.replace(**{k: getattr(self.run_config, k) for k in LIVE})
        self.push_screen(EditScreen(base, running), self.apply_edit)

    def apply_edit(self, changes: dict | None) -> None:
        if not changes:
            return
        running = self.state in ("training", "paused")
        live = {k: v for k, v in changes.items() if k in LIVE}
        later = {k: v for k, v in changes.items() if k not in LIVE}
        self.config = self.config.replace(**changes)
        if running and live:
            self.control.change(**live)
        if running and later:
            self.notify(f"{', '.join(later)}: will apply to the next run", severity="warning")
        elif not running and self.data_key(self.config) != self.splits_key and self.state != "loading":
            self.start_loading(self.config)
        self.show_all()

    def action_save(self) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        spec = self.model.spec if self.model is not None else (self.run_config or self.config).spec()
        self.push_screen(SaveScreen(Path.cwd() / f"nn-tui-{spec}-{stamp}.npz"), self.save_to)

    def save_to(self, path: Path | None) -> None:
        if path is None:
            return
        try:
            if self.model is not None and self.state not in ("training", "paused"):
                meta = {"data": self.splits.name if self.splits else "",
                        "source": self.splits.source if self.splits else "",
                        "config": (self.run_config or self.config).to_dict()}
                if self.last_summary:
                    meta["metrics"] = {k: self.last_summary.get(k)
                                       for k in ("dev_accuracy", "test_accuracy", "best_epoch")}
                saved = models.save(path, self.model, meta)
            else:
                best = self.best_file()
                if best is None:
                    self.notify("No epoch has finished yet: nothing to save.", severity="warning")
                    return
                model, meta = models.load(best)
                saved = models.save(path, model, meta)
        except (OSError, models.CheckpointError) as e:
            self.notify(f"Cannot save: {e}", severity="error")
            return
        self.notify(f"Saved {saved}")

    def action_open(self) -> None:
        self.push_screen(OpenScreen(self.recent_models()), self.open_chosen)

    def open_chosen(self, path: Path | None) -> None:
        if path is not None:
            self.open_model(path)

    def recent_models(self, limit: int = 20) -> list[tuple[Path, str]]:
        """(model path, label) of the newest runs that saved a model, search trials included."""
        out = []
        for run in reversed(list_runs(self.runs_root)):
            if run.model_path is None:
                continue
            label = run.name + (f"   test {pct(run.test_acc)}" if run.test_acc is not None else "")
            out.append((run.model_path, label + ("   (damaged)" if run.damaged else "")))
            if len(out) == limit:
                break
        return out

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

    def action_next_view(self) -> None:
        self.view = (self.view + 1) % len(VIEWS)

    def action_focus_confusion(self) -> None:
        if not self.wide:
            self.view = VIEWS.index("confusion-box")
        self.query_one(ConfusionPanel).focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        if self.state in ("training", "paused", "stopping") and self.control is not None:
            self.control.stop()
            self.state = "stopping"
            self.notify("Stopping training and saving the best model...")
            if self.worker is not None:
                try:
                    await self.worker.wait()
                except (WorkerFailed, WorkerCancelled):
                    self.exit(message=f"nn-tui: the run ended with an error: {self.worker.error}")
                    return
        self.exit()


def make_app(config: TrainConfig | None = None, loader: Loader = load_splits, runs_root: Path | None = None,
             model_path: Path | None = None, **kw) -> NNTuiApp:
    """The one factory: the command line and the tests build the app the same way."""
    return NNTuiApp(config or TrainConfig(), loader, runs_root, model_path, **kw)
