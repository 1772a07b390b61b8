"""The one owner of a run and a search: every piece of run state has exactly one writer, here.

A Session holds the state (one `State`, with its groups running / busy / ready), the status shown in the
status panel, the settings of the next run and of the running one, the splits, the model in hand with its
own metadata and the file it came from, the run id, the control, the worker, the batch inbox, the run
directory and the search. Each thing that happens to a run is one method: load, start, start_search, pause,
resume, stop, event, drain, worker_changed, fail, open, save, show_run, new_run, edit.

It never touches a widget. What it needs from the screen goes through its host (the app; a fake in the
tests), see `Host`: run a worker, post a message, notify, and draw what changed.
"""
from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Callable, Protocol

from textual.worker import WorkerState

import data
import models
from engine import (
    LIVE,
    BatchEnded,
    Control,
    EpochEnded,
    Evaluation,
    Finished,
    Recording,
    RunStarted,
    SettingsChanged,
    TrainConfig,
    evaluate,
)
from engine.health import alerts
from engine.runs import (
    FIXED_IN_FORK,
    NOT_RUNS,
    Fork,
    RunError,
    fork_point,
    list_runs,
    load_history,
    model_meta,
    read_history,
    read_run,
    runs_dir,
    train_run,
    undo_point,
)
from engine.search import (
    SearchFinished,
    SearchStarted,
    TrialFinished,
    TrialReported,
    TrialStarted,
    WinnerChosen,
    choose_sampler,
    plan_slots,
    search,
)

from .messages import DataLoaded, EngineEvent
from .text import change_text, changes_text, pct, settings_text, show_value

Loader = Callable[[TrainConfig], data.Splits]
SEARCH_EVENTS = (SearchStarted, TrialStarted, TrialReported, TrialFinished, WinnerChosen, SearchFinished)
OWN_META = ("format", "version", "spec", "sha256")  # models.save writes these itself
SAVED, SCREENSHOTS = NOT_RUNS  # folders of the runs directory: models saved with w, pictures taken with p
RECENT = "recent-models.json"  # in the runs directory: the files saved with w, newest first


class State(str, Enum):
    """What the dashboard is doing. A str, so it prints, compares and looks up as its value."""

    LOADING = "loading"
    IDLE = "idle"
    TRAINING = "training"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    MODEL = "model"  # viewing an opened model
    ERROR = "error"  # no data to train on

    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value

    @property
    def running(self) -> bool:
        """A run or search is training (or paused): its control takes live changes."""
        return self in (State.TRAINING, State.PAUSED)

    @property
    def busy(self) -> bool:
        """A worker is training, paused or winding down: no new run, no opening another model."""
        return self.running or self is State.STOPPING

    @property
    def ready(self) -> bool:
        """Nothing training: a run can start, a model can be opened."""
        return self in (State.IDLE, State.FINISHED, State.MODEL)


@dataclass
class RunStatus:
    """What the status panel shows of the current run."""

    epoch: int = 0
    epochs: int = 0
    progress: float = 0.0  # epochs done as a float
    lr: float = 0.0
    samples_per_sec: float = 0.0
    threads: int = 0  # BLAS threads in use (0: not known yet)
    elapsed: float = 0.0
    monitor: str = "dev_acc"
    best: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0
    patience: int = 0
    last: dict = field(default_factory=dict)  # train/dev loss/acc of the last epoch
    reason: str = ""
    test: float | None = None  # test accuracy, measured once when a run ends
    note: str = ""  # e.g. the model file being viewed
    alert: str = ""  # the first training-health alert, with what to try
    change: str = ""  # the last live change: lr 0.1 -> 5 at epoch 3 batch 120
    stop: str = ""  # how the run ended: max-epochs, early-stopped, stopped, diverged


@dataclass
class Search:
    """The Experiments screen's form and board; kept on the session so they outlive the screen."""

    texts: dict[str, str] = field(default_factory=dict)  # the grid form, row -> text
    running: bool = False
    total: int = 0
    names: list[str] = field(default_factory=list)
    board: list[dict] = field(default_factory=list)
    current: dict | None = None  # the trial this process trains now (the dashboard follows it)
    live: dict = field(default_factory=dict)  # every running trial of the study, any process: index -> state
    study: str = ""  # what the study is: its name, sampler, workers, pruning, storage (from SearchStarted)
    result: object = None  # engine.search.SearchResult
    path: Path | None = None
    note: str = "Define the grid (enter edits a row), then press t to run the search."
    sort: str = "rank"
    reverse: bool = False
    base_id: int = 0  # trial k's events carry run id base_id + k
    before: tuple = (None, None)  # what the dashboard showed before the search: (run dir, model file)
    offer: bool = False  # a winner waits for the person: use it on the dashboard, or keep the one before


class Host(Protocol):
    """What a Session needs from the screen. NNTuiApp is one; the session tests pass a fake."""

    def run_worker(self, work, **kw): ...
    def post_message(self, message) -> bool: ...
    def notify(self, message: str, **kw) -> None: ...
    def show_data(self, splits: data.Splits) -> None: ...
    def reset_board(self, epochs: int) -> None: ...
    def show_epoch(self, event: EpochEnded) -> None: ...
    def show_predictions(self, evaluation: Evaluation) -> None: ...
    def show_history(self, history: list[dict]) -> None: ...
    def show_state(self) -> None: ...
    def show_mark(self, x: float, label: str) -> None: ...  # a live change or a fork at x epochs
    def show_health(self, record: dict | None, alerts: list) -> None: ...


def number(value) -> float | None:
    """`value` when it is a real number (not a bool), else None: metadata read from files is checked."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def short_path(path: Path | str, root: Path | None = None, room: int = 48) -> str:
    """A path short enough for a one-line notice: under the runs directory as `runs/...` (the folder's own
    name), under the home directory as `~/...`; one still longer than `room` keeps its last two parts."""
    path = Path(path)
    text = str(path)
    for base, shown in ((root, Path(root.name) if root else None), (Path.home(), Path("~"))):
        if base is not None and path.is_relative_to(base):
            text = str(shown / path.relative_to(base))
            break
    if len(text) > room and len(path.parts) > 2:
        text = str(Path("…", *path.parts[-2:]))
    return text


def load_splits(cfg: TrainConfig) -> data.Splits:
    splits = data.load(cfg.data, cfg.dev_size, cfg.seed)
    for _, d in splits.items():
        d.x  # float32 once, in the loading thread
    return splits


def data_key(cfg: TrainConfig) -> tuple:
    """The settings that decide the splits: a change of any reloads the data."""
    return (cfg.data, cfg.dev_size, cfg.seed)


class Session:
    def __init__(self, config: TrainConfig, host: Host, loader: Loader = load_splits, runs_root: Path | None = None,
                 control: type[Control] = Control, model_path: Path | None = None):
        self.host, self.loader, self.control_class = host, loader, control
        self.runs_root = runs_root or runs_dir()
        self.config = config  # settings of the next run
        self.run_config: TrainConfig | None = None  # settings of the run in progress
        self.state = State.LOADING
        self.status = self.new_status(config)
        self.splits: data.Splits | None = None
        self.splits_key: tuple | None = None
        self.model: models.MLP | None = None
        self.model_meta: dict = {}  # the model's own metadata: its settings, data, metrics
        self.model_path: Path | None = None  # the file it came from
        self.opening = model_path  # opened once the data is in
        self.summary: dict | None = None  # the last run's summary (or the search winner's)
        self.run_id = 0
        self.control: Control | None = None
        self.worker = None
        self.inbox: deque = deque()  # (run_id, BatchEnded) from the training thread
        self.run_dir: Path | None = None
        self.search = Search()
        self.t_start = 0.0
        self.clock: tuple[float, float | None] = (0.0, None)  # training seconds at the last sync, and since when
        self.history: list[dict] = []  # the current run's epoch records (a fork's begin with its parent's)
        self.changes: list[dict] = []  # its live changes {epoch, batch, field, old, new}, inherited ones too
        self.alerts: list = []  # engine.health alerts over `history`
        self.n_train, self.batches = 0, 1  # for placing marks: training digits, batches per epoch
        self.pending: dict = {}  # live changes sent to the running run, not taken by its loop yet

    def new_status(self, cfg: TrainConfig, running: bool = False, note: str = "") -> RunStatus:
        return RunStatus(epochs=cfg.epochs if running else 0, lr=cfg.lr if running else 0.0, monitor=cfg.monitor,
                         patience=cfg.patience, note=note)

    # -- data ----------------------------------------------------------------

    def load(self, cfg: TrainConfig) -> None:
        self.state = State.LOADING
        self.status.note = f"loading {cfg.data}..."
        self.host.show_state()
        self.host.run_worker(partial(self.load_thread, cfg), thread=True, group="data", exclusive=True,
                             exit_on_error=False, name="load")

    def load_thread(self, cfg: TrainConfig) -> None:
        self.host.post_message(DataLoaded(self.loader(cfg), data_key(cfg)))

    def data_loaded(self, splits: data.Splits, key: tuple) -> None:
        self.splits, self.splits_key = splits, key
        self.host.show_data(splits)
        if self.state is State.LOADING:
            self.state = State.IDLE
            self.status.note = "press t to train, e to edit settings, ? for help"
            self.status.reason = ""  # a failed load's error is over
        if self.opening is not None:
            path, self.opening = self.opening, None
            self.open(path)
        self.host.show_state()

    def splits_for(self, cfg: TrainConfig) -> data.Splits | None:
        """On the UI thread: the loaded splits if `cfg` trains on them, else None (the worker loads)."""
        return self.splits if data_key(cfg) == self.splits_key else None

    def splits_in_thread(self, cfg: TrainConfig, splits: data.Splits | None) -> data.Splits:
        """In a worker thread: the splits chosen on the UI thread, or freshly loaded (and announced)."""
        if splits is None:
            splits = self.loader(cfg)
            self.host.post_message(DataLoaded(splits, data_key(cfg)))
        return splits

    # -- a run -----------------------------------------------------------------

    def begin(self, cfg: TrainConfig, note: str = "") -> None:
        """A fresh run id, control and dashboard for a run or a search whose first run trains `cfg`."""
        self.run_id += 1
        self.control = self.control_class()
        self.run_config = cfg
        self.model, self.model_meta, self.model_path = None, {}, None
        self.run_dir, self.summary = None, None
        self.history, self.changes, self.alerts, self.pending = [], [], [], {}
        self.clear_board(cfg)
        self.host.show_health(None, [])
        self.state = State.TRAINING
        self.status = self.new_status(cfg, running=True, note=note)
        self.t_start = time.monotonic()
        self.clock = (0.0, self.t_start)  # training seconds at the last sync, and when (None: not counting)
        self.host.show_state()

    def start(self, fork: Fork | None = None, cfg: TrainConfig | None = None, note: str = "") -> None:
        """Start a run of the next run's settings; or, with `fork`, a branch from that checkpoint with `cfg`."""
        cfg = cfg or self.config
        self.begin(cfg, note)
        self.worker = self.host.run_worker(
            partial(self.train_thread, cfg, self.control, self.run_id, self.splits_for(cfg), fork), thread=True,
            group="run", exclusive=True, exit_on_error=False, name=f"run {self.run_id}")

    def fork(self, best: bool = False) -> bool:
        """Branch the current run at its last checkpoint (`best`: its best epoch's): the run stops and is kept
        whole; training goes on in the branch with the live settings in force now and the next run's other
        settings (a finished run's epochs are extended). False, with a notice, when there is nothing to fork."""
        try:
            if self.run_dir is None or self.search.running:
                raise RunError("nothing to fork: train a run first (t)")
            if best and not self.status.best_epoch:
                raise RunError("no epoch has ended yet: nothing to fork at")
            point = fork_point(self.run_dir, self.status.best_epoch if best else None)
            wanted = {k: v for k, v in self.config.to_dict().items() if k not in FIXED_IN_FORK}
            cfg = point.settings(**{k: getattr(self.config, k) for k in wanted
                                    if getattr(self.config, k) != getattr(point.config, k)})
        except data.UserError as e:
            self.host.notify(str(e), title="Cannot fork", severity="warning")
            return False
        if cfg.epochs <= point.epoch:
            cfg = cfg.replace(epochs=point.epoch + self.config.epochs)
        return self.branch(point, cfg, f"fork of {point.parent.name} at epoch {point.epoch}")

    def undo(self) -> bool:
        """Undo the current run's last live change: back to the last checkpoint before it and on from there,
        with the settings in force then (a branch; the run with the change is kept)."""
        try:
            if self.run_dir is None or self.search.running:
                raise RunError("no run to undo a change in")
            point, change = undo_point(self.run_dir)
        except data.UserError as e:
            self.host.notify(str(e), title="Cannot undo", severity="warning")
            return False
        cfg = point.config.replace(epochs=max(point.config.epochs, point.epoch + 1))
        self.config = self.config.replace(**{k: getattr(cfg, k) for k in LIVE})  # the editor shows them too
        return self.branch(point, cfg, f"undid {change_text(change)}: back to epoch {point.epoch}")

    def branch(self, point: Fork, cfg: TrainConfig, note: str) -> bool:
        if self.control is not None and self.state.busy:
            self.control.stop()  # the parent ends after its batch; its directory stays whole
        self.start(point, cfg, note)
        self.host.notify(note, title="Branch")
        return True

    def train_thread(self, cfg: TrainConfig, control: Control, run_id: int, splits: data.Splits | None,
                     fork: Fork | None = None):
        """In the worker thread: never touches a widget, only posts messages and fills the inbox.
        Returns (Result, summary) or raises."""
        splits = self.splits_in_thread(cfg, splits)

        def listener(event) -> None:
            if isinstance(event, BatchEnded):
                self.inbox.append((run_id, event))
            else:
                self.host.post_message(EngineEvent(event, run_id))

        return train_run(splits, cfg, self.runs_root, listener, control, **({"fork": fork} if fork else {}))

    def started_from(self, event: RunStarted) -> None:
        """A fork or undo began: its parent's epochs on the charts, the fork point and inherited changes marked."""
        self.history = [dict(h) for h in event.history]
        self.changes = read_run(self.run_dir).changes if self.run_dir is not None else []  # the inherited ones
        self.host.show_history(self.history)
        self.host.show_mark(float(event.start_epoch), f"fork at epoch {event.start_epoch}")
        for c in self.changes:
            self.host.show_mark(c["epoch"] - 1 + c.get("batch", 0) / max(self.batches, 1), change_text(c))
        self.alerts = alerts(self.history, self.changes)
        self.status.alert = self.alerts[0].message if self.alerts else ""
        self.host.show_health(self.history[-1] if self.history else None, self.alerts)

    def clear_board(self, cfg: TrainConfig) -> None:
        self.inbox.clear()
        self.host.reset_board(cfg.epochs)

    def pause(self) -> None:
        if self.control:
            self.clock = (self.training_seconds(), None)
            self.control.pause()
            self.state = State.PAUSED
            self.status.elapsed = self.clock[0]
            self.host.show_state()

    def resume(self) -> None:
        if self.control:
            self.control.resume()
            self.state = State.TRAINING
            self.clock = (self.clock[0], time.monotonic())
            self.host.show_state()

    def stop(self) -> bool:
        """Ask the run (or search) to stop after this batch; False when nothing is running."""
        if not self.control:
            return False
        self.control.stop()
        self.state = State.STOPPING
        self.host.show_state()
        return True

    def drain(self) -> list[BatchEnded]:
        """The batch reports of the current run waiting in the inbox, oldest first; the status follows them."""
        batches = []
        while self.inbox:
            run_id, event = self.inbox.popleft()
            if run_id == self.run_id:
                batches.append(event)
        st = self.status
        if batches:
            last = batches[-1]
            st.epoch, st.progress, st.lr, st.samples_per_sec = last.epoch, last.progress, last.lr, last.samples_per_sec
            st.threads = last.threads
        if self.state is State.TRAINING:
            st.elapsed = self.training_seconds()
        return batches

    def training_seconds(self) -> float:
        """Seconds of training so far, pauses excluded: the engine's figure at the last epoch, plus the time
        since, while training (the same clock the status shows at the end)."""
        base, since = self.clock
        return base + (time.monotonic() - since if since is not None and self.state is State.TRAINING else 0.0)

    def event(self, event, run_id: int) -> None:
        """An engine event from the worker (on the UI thread): a run's or a search's."""
        if isinstance(event, SEARCH_EVENTS):
            self.search_event(event, run_id)
            self.host.show_state()
            return
        if run_id != self.run_id:
            return  # from a run that has been left behind
        st, s = self.status, self.search
        if isinstance(event, Recording):
            self.run_dir = Path(event.run_dir)
        elif isinstance(event, RunStarted):
            if not st.note or not event.start_epoch:
                st.note = s.note if s.running and s.current else (
                    f"{event.spec}: {event.n_train:,} train, {event.n_dev:,} dev digits")
            self.n_train, self.batches = event.n_train, event.batches_per_epoch
            if event.history:
                self.started_from(event)
        elif isinstance(event, EpochEnded):
            self.host.show_epoch(event)  # first: it draws the batches still waiting, which move the status on
            if s.running and s.current is not None:
                s.current.update(epoch=event.epoch, dev=event.dev_acc)
            st.epoch, st.progress, st.lr = event.epoch, float(event.epoch), event.lr
            st.samples_per_sec, st.elapsed, st.threads = event.samples_per_sec, event.elapsed, event.threads
            self.clock = (event.elapsed, time.monotonic() if self.state is State.TRAINING else None)
            st.best, st.best_epoch, st.bad_epochs = event.early.best, event.early.best_epoch, event.early.bad_epochs
            st.last = {"epoch": event.epoch, "train_loss": event.train_loss, "train_acc": event.train_acc,
                       "dev_loss": event.dev_loss, "dev_acc": event.dev_acc}
            if not s.running:
                self.history.append(event.record())
                self.alerts = alerts(self.history, self.changes)
                st.alert = self.alerts[0].message if self.alerts else ""
                self.host.show_health(self.history[-1], self.alerts)
        elif isinstance(event, SettingsChanged):
            self.run_config = self.run_config.replace(**event.changes)
            for k in event.changes:
                self.pending.pop(k, None)
            entries = event.entries()
            self.changes.extend(entries)
            self.host.show_mark(event.epoch - 1 + event.batch / max(self.batches, 1), changes_text(entries, None))
            if "batch_size" in event.changes:
                self.batches = -(-self.n_train // int(event.changes["batch_size"]))
            st.change = ", ".join(f"{c['field'].replace('_', ' ')} {c['old']:g} -> {c['new']:g}" for c in entries)
            text = ", ".join(f"{k} {v:g}" for k, v in event.changes.items())
            undo = "" if s.running else " · u undoes it"
            self.host.notify(f"{text} applied at epoch {event.epoch}, batch {event.batch}{undo}")
        elif isinstance(event, Finished):
            st.reason, st.stop = event.result.reason, event.result.stop
            st.elapsed = event.result.seconds  # training time, pauses excluded, as the CLI says
            self.clock = (st.elapsed, None)
            st.patience = self.run_config.patience if self.run_config else st.patience
        self.host.show_state()

    def worker_changed(self, worker) -> None:
        """The one handler of every worker's end: data loaded or not, a run or a search done or failed."""
        if worker.group == "data":
            if worker.state == WorkerState.ERROR:
                self.fail(worker.error, "Cannot load data")
            return
        if worker is not self.worker:
            return
        if worker.state == WorkerState.SUCCESS:
            if self.search.running:
                self.finish_search(worker.result)
            else:
                self.finish_run(*worker.result)
        elif worker.state == WorkerState.ERROR:
            self.fail(worker.error, "Search failed" if self.search.running else "Training failed")
        elif worker.state == WorkerState.CANCELLED and self.state.busy:
            self.state = State.FINISHED
            self.host.show_state()

    def finish_run(self, result, summary: dict) -> None:
        self.drain()
        self.summary, self.run_dir = summary, Path(summary["run_dir"])
        self.take_model(result.model, summary.get("model_path"))
        self.state = State.FINISHED
        st = self.status
        st.reason, st.test, st.note = result.reason, summary.get("test_accuracy"), f"run {self.run_dir.name}"
        if self.model is not None:
            self.refresh_predictions()
        self.host.show_state()

    def take_model(self, model, path) -> None:
        """The model a run ended with, and the metadata its run saved with it (its own settings and metrics)."""
        self.model, self.model_path = model, Path(path) if path else None
        try:
            self.model_meta = models.load(self.model_path)[1] if self.model_path else None
        except models.CheckpointError:
            self.model_meta = None
        if self.model_meta is None and self.splits is not None:  # no epoch ended: nothing was saved
            self.model_meta = model_meta(self.splits.name, self.splits.source, self.run_config, {})
        self.model_meta = self.model_meta or {}

    def fail(self, error: BaseException, title: str) -> None:
        """One place for worker failures: a message in the app, never a traceback."""
        if self.search.running:
            self.search.running, self.search.current, self.search.live = False, None, {}
            self.search.note = f"search failed: {error}"
        loading = self.state is State.LOADING
        self.state = State.ERROR if self.splits is None else State.IDLE
        st = self.status
        st.reason = str(error) if isinstance(error, data.UserError) else f"{type(error).__name__}: {error}"
        if loading:  # not "loading ..." beside the error: what is on screen now, and what to do
            st.note = (f"still showing {self.splits.name}; e changes the data" if self.splits is not None
                       else "e changes the data")
        self.host.show_state()
        self.host.notify(st.reason, title=title, severity="error", timeout=10)

    # -- a search --------------------------------------------------------------

    def start_search(self, base: TrainConfig, space: dict, count: int | None, budget: float | None,
                     sampler: str | None = None, workers: int = 1, prune: str | None = None,
                     storage: str | None = None, study: str | None = None) -> int:
        """Start the search in the worker; returns the number of trials. ConfigError if the plan is bad."""
        sampler = choose_sampler(space, sampler, count)
        total = len(plan_slots(base, space, sampler, count, count is not None, 0))
        s = self.search
        s.running, s.total, s.names, s.board, s.live = True, total, list(space), [], {}
        s.current, s.result, s.path, s.study = None, None, None, ""
        s.before = (self.run_dir, self.model_path) if self.model is not None else (None, None)
        s.offer = False
        s.note = f"search of {total} trials started"
        self.begin(base.replace(**{n: v[0] for n, v in space.items() if isinstance(v, list)}), note=s.note)
        self.status.epochs, self.status.lr = base.epochs, base.lr
        s.base_id = self.run_id
        options = {"sampler": sampler, "workers": workers, "prune": prune, "storage": storage, "study": study}
        self.worker = self.host.run_worker(
            partial(self.search_thread, base, space, count, budget, self.control, s.base_id, self.splits_for(base),
                    options),
            thread=True, group="run", exclusive=True, exit_on_error=False, name="search")
        return total

    def search_thread(self, base: TrainConfig, space: dict, count, budget, control: Control, base_id: int, splits,
                      options: dict | None = None):
        """In the worker thread: posts the search's events and fills the inbox; returns the SearchResult or raises."""
        splits = self.splits_in_thread(base, splits)
        current = [base_id]

        def listener(event) -> None:
            if isinstance(event, TrialStarted) and event.here:
                current[0] = base_id + event.index
            if isinstance(event, BatchEnded):
                self.inbox.append((current[0], event))
            else:
                self.host.post_message(EngineEvent(event, current[0]))

        return search(splits, base, space, count=count, shuffle=count is not None, budget=budget,
                      root=self.runs_root, listener=listener, control=control, **(options or {}))

    def search_event(self, event, run_id: int) -> None:
        s = self.search
        if isinstance(event, SearchStarted):
            s.path, s.total = Path(event.path), event.trials
            pruning = {"median": "median pruning", "halving": "successive halving"}.get(event.prune, "no pruning")
            s.study = (f"study {event.study}: {event.sampler}, {event.workers} worker{'s' * (event.workers > 1)}, "
                       f"{pruning}; in {event.storage}")
        elif isinstance(event, TrialStarted):
            s.live[event.index] = {"index": event.index, "changes": event.changes, "epoch": 0,
                                   "epochs": event.config.get("epochs", 0), "dev": None, "worker": event.worker}
            if not event.here:  # another process's trial: listed, not followed
                return
            cfg = TrainConfig.from_dict(event.config)
            self.drain()
            self.run_id, self.run_config = run_id, cfg
            self.clear_board(cfg)
            s.current = s.live[event.index]
            s.note = f"trial {event.index}/{event.total}: {settings_text(event.changes)}"
            self.status = self.new_status(cfg, running=True, note=s.note)
            self.t_start = time.monotonic()
            self.clock = (0.0, self.t_start)
        elif isinstance(event, TrialReported) and event.index in s.live:
            s.live[event.index].update(epoch=event.epoch, dev=event.dev_acc)
        elif isinstance(event, TrialFinished):
            s.board = list(event.board)
            s.live.pop(event.index, None)
            if s.current is not None and s.current["index"] == event.index:
                s.current = None
            s.note = f"{len(s.board)} of {s.total} trials done"
        elif isinstance(event, WinnerChosen):
            s.note = f"winner: trial {event.row['trial']}; testing it once on the test set..."

    def finish_search(self, result) -> None:
        s = self.search
        s.running, s.current, s.result, s.board, s.live = False, None, result, list(result.board), {}
        self.drain()
        self.run_id += 1  # nothing late from the search thread reaches the dashboard now
        self.state = State.FINISHED
        if result.winner:
            w = result.winner
            what = settings_text({n: w[n] for n in result.names})
            s.note = (f"{result.reason}. Winner: trial {w['trial']} ({what}), dev {pct(w['dev_acc'])}, "
                      f"test {pct(result.test_acc)} (measured once)")
            s.offer = True  # the app asks: use_winner() or keep_current()
        else:
            s.note = f"{result.reason}: no trial finished an epoch, so there is no winner"
        self.status.reason = result.reason
        self.host.show_state()
        self.host.notify(s.note, title="Search finished", timeout=8)

    def use_winner(self) -> bool:
        """Open the finished search's winner on the dashboard (asked when the search ends)."""
        s, result = self.search, self.search.result
        s.offer = False
        if result is None or not result.winner or not self.show_run(Path(result.winner["run_dir"]),
                                                                    result.model_path):
            return False
        w = result.winner
        self.summary = {"test_accuracy": result.test_acc, "dev_accuracy": w["dev_acc"],
                        "best_epoch": w["best_epoch"], "run_dir": w["run_dir"], "model_path": str(result.model_path)}
        self.status.note = f"search winner, trial {w['trial']}: test {pct(result.test_acc)}"
        self.status.reason = result.reason
        self.host.show_state()
        return True

    def keep_current(self) -> None:
        """Leave the winner in its search directory: the dashboard shows again what it showed before."""
        s = self.search
        s.offer = False
        run_dir, model_path = s.before
        if run_dir is not None and self.show_run(run_dir, model_path):
            return
        if model_path is not None and self.open(model_path):
            return
        self.new_run()

    # -- models and past runs -------------------------------------------------

    def refresh_predictions(self) -> Evaluation:
        """Confusion matrix and digits from the model in hand (after a run: the restored best weights,
        which may differ from the last epoch's), so a cell lists as many digits as it shows."""
        ev = evaluate(self.model, self.splits.dev.x, self.splits.dev.y)
        self.host.show_predictions(ev)
        return ev

    def open(self, path: Path) -> bool:
        """Open a saved model to view its predictions on the dev digits; refusals are notifications."""
        problem = self.try_open(path)
        if problem:
            self.host.notify(problem, title="Cannot open model", severity="error", timeout=8)
        return problem is None

    def try_open(self, path: Path) -> str | None:
        """Open a saved model with its own history (its run's metrics.jsonl), best epoch, settings and test
        accuracy; None when opened, else the one-line reason it was refused (nothing changes then)."""
        path = Path(path)
        if self.state.busy:
            return "a run is training: stop it (s) or let it end before opening a model"
        if self.splits is None:
            return "the data is still loading"
        try:
            model, meta = models.load(path)
        except data.UserError as e:  # a bad file, a special file, tampered metadata: one line
            return str(e)
        if model.spec.inputs != self.splits.dev.x.shape[1]:
            return f"{path}: the model takes {model.spec.inputs} inputs, the digits have {self.splits.dev.x.shape[1]}"
        run = self.model_run(path, meta)
        history, problem = read_history(run / "metrics.jsonl") if run else ([], None)
        summary = read_run(run).summary if run else {}
        cfg = self.model_config(meta)
        self.run_config, self.summary = None, summary or None
        self.history, self.changes, self.alerts = history, [], []
        self.clear_board(cfg)  # the previous run's charts, matrix and digits go
        self.host.show_health(None, [])
        self.model, self.model_meta, self.model_path, self.run_dir = model, meta, path, run
        ev = self.refresh_predictions()
        self.state = State.MODEL
        self.status = st = self.new_status(cfg, note=f"viewing {short_path(path, self.runs_root)} ({model.spec}): "
                                                     f"dev accuracy {pct(ev.accuracy)}")
        metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        st.best_epoch = int(number(metrics.get("best_epoch")) or number(metrics.get("epoch"))
                            or number(summary.get("best_epoch")) or 0)
        key = "dev_acc" if cfg.monitor == "dev_acc" else "dev_loss"
        st.best = number(metrics.get("dev_accuracy" if key == "dev_acc" else "dev_loss"))
        at_best = [h for h in history if h["epoch"] == st.best_epoch]
        if st.best is None and at_best:
            st.best = number(at_best[0].get(key))
        st.test = number(metrics.get("test_accuracy"))  # measured once, on the test split, when its run ended
        if st.test is None and number(summary.get("best_epoch")) == st.best_epoch:  # the run's test: this model
            st.test = number(summary.get("test_accuracy"))
        if history:
            last = history[-1]
            if all(isinstance(last.get(k), (int, float)) for k in ("train_loss", "train_acc", "dev_loss", "dev_acc")):
                st.last = {k: last[k] for k in ("epoch", "train_loss", "train_acc", "dev_loss", "dev_acc")}
            if st.best_epoch:
                st.bad_epochs = max(0, last["epoch"] - st.best_epoch)
        if number(summary.get("best_epoch")) == st.best_epoch:  # the run that ended with this model
            st.elapsed = number(summary.get("seconds")) or 0.0
            st.samples_per_sec = number(summary.get("samples_per_sec")) or 0.0
        st.reason = str(summary.get("stop_reason") or "")
        st.stop = str(summary.get("stop") or "")
        if not history:
            st.note += "; no training history" + ("" if problem and run else " (no metrics.jsonl beside it)")
        self.host.show_history(history)
        self.host.show_state()
        if problem and problem != "no metrics.jsonl":  # damaged lines are skipped, never a traceback
            self.host.notify(f"{problem}: skipped" + ("; the other epochs are shown" if history else ""),
                             title="History", severity="warning", timeout=6)
        self.host.notify(f"Opened {path.name}: dev accuracy {pct(ev.accuracy)}"
                         + ("" if history else "; no history"), timeout=4)
        return None

    @staticmethod
    def model_run(path: Path, meta: dict) -> Path | None:
        """The run directory a model file belongs to: its own folder when metrics.jsonl sits beside it, else
        the run its metadata names (a copy saved with w), when that is still there."""
        if (path.parent / "metrics.jsonl").exists():
            return path.parent
        named = meta.get("run_dir")
        if isinstance(named, str) and named and (Path(named) / "metrics.jsonl").exists():
            return Path(named)
        return None

    def model_config(self, meta: dict) -> TrainConfig:
        """The settings the model was trained with (its metadata), else the next run's."""
        try:
            return TrainConfig.from_dict(meta["config"])
        except (KeyError, TypeError, ValueError):
            return self.config

    def show_run(self, run_dir: Path, model_path: Path | None = None) -> bool:
        """Open a run's model in the dashboard, with its loss and accuracy history in the charts."""
        if self.state.busy:
            self.host.notify("Training is running: stop it (s) or let it end before opening a run.",
                             severity="warning")
            return False
        if self.splits is None:
            self.host.notify("The data is still loading.", severity="warning")
            return False
        model_path = Path(model_path) if model_path else Path(run_dir) / "model.npz"
        if not model_path.is_file():
            self.host.notify(f"{Path(run_dir).name} has no saved model.", severity="error")
            return False
        if not self.open(model_path):
            return False
        if self.run_dir != Path(run_dir):  # a search winner's copy: its trial's history
            self.run_dir, self.history = Path(run_dir), load_history(run_dir)
            self.host.show_history(self.history)
        return True

    def best_file(self) -> Path | None:
        """The best model the running run has saved so far (its directory comes with a Recording event)."""
        path = self.run_dir / "model.npz" if self.run_dir is not None else None
        return path if path is not None and path.is_file() else None

    def save(self, path: Path | None) -> Path | None:
        """Save the model in hand with its own metadata (or, mid-run, the best epoch's file as it is)."""
        if path is None:
            return None
        try:
            if self.model is not None and not self.state.running:
                meta = {k: v for k, v in self.model_meta.items() if k not in OWN_META}
                saved = models.save(path, self.model, meta)
            else:
                best = self.best_file()
                if best is None:
                    self.host.notify("No epoch has finished yet: nothing to save.", severity="warning")
                    return None
                model, meta = models.load(best)
                saved = models.save(path, model, {k: v for k, v in meta.items() if k not in OWN_META})
        except (OSError, ValueError, models.CheckpointError) as e:
            self.host.notify(f"Cannot save: {e}", severity="error")
            return None
        self.remember(saved)
        self.host.notify(f"Saved {short_path(saved, self.runs_root)}", timeout=4)
        return saved

    def recent_models(self, limit: int = 20) -> list[tuple[Path, str]]:
        """(model path, label) of the newest models: those saved with w (remembered in RECENT under the runs
        directory, wherever they were saved) and the runs that saved one, search trials included."""
        found = []  # (time, path, label)
        for path in self.saved_models():
            try:
                when = path.stat().st_mtime
            except OSError:
                continue
            shown = str(path.relative_to(self.runs_root)) if path.is_relative_to(self.runs_root) else short_path(path)
            found.append((when, path, f"{shown}{self.test_label(path)}   (saved with w)"))
        for run in list_runs(self.runs_root):
            if run.model_path is None:
                continue
            label = run.name + (f"   test {pct(run.test_acc)}" if run.test_acc is not None else "")
            started = run.started.timestamp() if run.started else 0.0
            found.append((started, run.model_path, label + ("   (damaged)" if run.damaged else "")))
        found.sort(key=lambda f: f[0], reverse=True)
        return [(path, label) for _, path, label in found[:limit]]

    @staticmethod
    def test_label(path: Path) -> str:
        """`   test 97.12%` from the model's .json mirror, when it says."""
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            test = number(meta["metrics"]["test_accuracy"])
        except (OSError, ValueError, KeyError, TypeError):
            return ""
        return f"   test {pct(test)}" if test is not None else ""

    def saved_models(self) -> list[Path]:
        """The files saved with w that are still there, newest first (the list is a small JSON file)."""
        try:
            listed = json.loads((self.runs_root / RECENT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        paths = [Path(p) for p in listed if isinstance(p, str)] if isinstance(listed, list) else []
        return [p for p in paths if p.is_file()]

    def remember(self, path: Path) -> None:
        """Add a file saved with w to the recent list (a failure to write it is not worth a message)."""
        path = Path(path).resolve()
        paths = [str(path)] + [str(p) for p in self.saved_models() if p.resolve() != path]
        try:
            self.runs_root.mkdir(parents=True, exist_ok=True)
            models.atomic_write(self.runs_root / RECENT, (json.dumps(paths[:50], indent=1) + "\n").encode())
        except OSError:
            pass

    def default_save_path(self) -> Path:
        """Where w offers to save: the runs directory's `saved` folder, named by architecture and time."""
        spec = self.model.spec if self.model is not None else (self.run_config or self.config).spec()
        return self.runs_root / SAVED / f"{spec}-{time.strftime('%Y%m%d-%H%M%S')}.npz"

    def explore_ready(self) -> bool:
        """A trained or opened model and its data are in hand, and nothing is training. The explore screens
        get that model, never one a training thread is changing (a run always trains a fresh MLP anyway)."""
        return self.model is not None and self.splits is not None and self.state in (State.FINISHED, State.MODEL)

    # -- settings ----------------------------------------------------------------

    def new_run(self) -> None:
        """Clear the dashboard for a new run (the data reloads if its settings changed)."""
        self.model, self.model_meta, self.model_path = None, {}, None
        self.run_config, self.summary = None, None
        self.clear_board(self.config)
        self.status = self.new_status(self.config, note="new run: press t to train")
        self.state = State.IDLE
        if data_key(self.config) != self.splits_key:
            self.load(self.config)
        self.host.show_state()

    def shown_config(self) -> TrainConfig:
        """The settings the dashboard describes: the running run's (with its live changes), an opened model's
        own, else the next run's."""
        if self.state.busy and self.run_config is not None:
            return self.run_config
        if self.state is State.MODEL and self.model_meta:
            return self.model_config(self.model_meta)
        return self.config

    def editable(self) -> TrainConfig:
        """The settings the editor starts from: the next run's, with the running run's live values."""
        if not self.state.running:
            return self.config
        return self.config.replace(**{k: getattr(self.run_config, k) for k in LIVE})

    def edit(self, changes: dict | None) -> None:
        """The editor's changes: live ones reach a running run at its next batch, the rest the next run.
        One line says what changed and when it applies."""
        if not changes:
            return
        running = self.state.running
        before = self.editable()
        live = {k: v for k, v in changes.items() if k in LIVE}
        later = {k: v for k, v in changes.items() if k not in LIVE}
        self.config = self.config.replace(**changes)

        def said(names) -> str:
            return ", ".join(f"{k.replace('_', ' ')} {show_value(getattr(before, k))} → {show_value(changes[k])}"
                             for k in names)

        if running and live:
            self.control.change(**live)
            self.pending.update(live)  # the header shows them until the loop takes them
        if running:
            parts = ([f"{said(live)} at the next batch"] if live else []) + (
                [f"{said(later)}: will apply to the next run"] if later else [])
            self.host.notify("; ".join(parts), title="Applied", severity="warning" if later else "information")
        else:
            self.host.notify(f"{said(changes)}: for the next run", title="Applied")
            if data_key(self.config) != self.splits_key and self.state is not State.LOADING:
                self.load(self.config)
        self.host.show_state()
