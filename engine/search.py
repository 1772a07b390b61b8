"""Hyperparameter search on Optuna: a grid, random or TPE trials, trained by local worker processes,
pruned on the per-epoch dev metric, shared through any Optuna storage, ranked on dev.

Only the winner ever meets the test set, once, after the trials have ended (workers get the train
and dev splits only). A search directory holds search.json (the plan), one run directory per trial,
leaderboard.csv + leaderboard.json (rewritten after every trial, so an interrupted search still
leaves its board), the winner's model.npz (+ .json) and, by default, the study's Optuna journal.

The study holds the whole plan as Optuna's trial queue: the process that creates it enqueues every
trial (each grid point, each random pick, or N empty slots that the random or TPE sampler fills), and
workers only ever pop a waiting trial. So processes and machines sharing one study never run a trial
twice and never run more than planned (Optuna's GridSampler alone may hand one point to two workers).
A worker that dies leaves its trial running; the next process on the study sees it is stale (its
process is gone, or its heartbeat is old), marks it failed and enqueues it again.

optuna is imported inside the functions that need it, so `nn-tui train` never pays its start-up.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

import models
from models import atomic_write

from .config import FIELDS, ConfigError, TrainConfig, parse_value
from .config import show_value as show
from .control import Control
from .grid import FIXED, SEARCHABLE, Range, is_grid, parse_axis, parse_range, parse_space, parse_values  # noqa: F401
from .metrics import evaluate
from .runs import model_meta, runs_dir, train_run, unique_dir, write_json

RANK_BY = ("dev_acc", "dev_loss")
SAMPLERS = ("grid", "random", "tpe")
PRUNERS = ("median", "halving")
MAX_GRID = 10_000  # more combinations than this must be sampled (count=N)
JOURNAL = "optuna.journal"  # the default storage, inside the search directory
BEAT = 10.0  # seconds between a running trial's heartbeats
GRACE = 60.0  # a running trial whose heartbeat is older than this is stale
POLL = 0.25  # seconds between looks at the study

Listener = Callable[[object], None]


# -- the plan ---------------------------------------------------------------

@dataclass(frozen=True)
class Trial:
    index: int  # 1-based, in the order trials run
    changes: dict  # the searched settings of this trial
    config: TrainConfig


def grid_size(space: dict[str, Sequence]) -> int | None:
    """How many combinations the lists make (None when an axis is a range)."""
    return math.prod(len(v) for v in space.values()) if is_grid(space) else None


def plan(base: TrainConfig, space: dict[str, Sequence], count: int | None = None, shuffle: bool = False,
         seed: int = 0) -> list[Trial]:
    """The trials of a grid: every combination of `space` over `base`, in order; or `count` distinct
    random ones (all of them, shuffled, when count >= the grid); `shuffle` alone runs the whole grid
    in random order. Every config is built and checked here, before anything trains."""
    if not is_grid(space):
        raise ConfigError("a range (lo:hi) cannot be gridded: give --trials N and --sampler random or tpe")
    names = list(space)
    lists = [list(space[n]) for n in names]
    total = grid_size(space)
    if total == 0:
        raise ConfigError("the search space is empty: give at least one value for each setting")
    if count is not None and count < 1:
        raise ConfigError(f"--trials {count}: must be at least 1")
    if count is None and total > MAX_GRID:
        raise ConfigError(f"the grid has {total:,} combinations (more than {MAX_GRID:,}): sample some with --trials N")
    if count is None and not shuffle:
        picks = range(total)
    else:
        rng = np.random.default_rng(seed)
        want = total if count is None else min(count, total)
        if total <= 1_000_000:
            picks = [int(i) for i in rng.permutation(total)[:want]]
        else:
            seen: dict[int, None] = {}
            while len(seen) < want:
                seen.setdefault(int(rng.integers(total)), None)
            picks = list(seen)
    trials = []
    for k, flat in enumerate(picks, 1):
        changes = {}
        for name, values in zip(reversed(names), reversed(lists)):  # the last setting varies fastest
            flat, i = divmod(flat, len(values))
            changes[name] = values[i]
        changes = {n: changes[n] for n in names}
        trials.append(Trial(k, changes, base.replace(**changes)))
    return trials


def choose_sampler(space: dict, sampler: str | None, count: int | None) -> str:
    """grid when every axis is a list and no count is given; random with --trials; checked."""
    sampler = sampler or ("grid" if count is None and is_grid(space) else "random")
    if sampler not in SAMPLERS:
        raise ConfigError(f"--sampler {sampler!r} is not one of {', '.join(SAMPLERS)}")
    if sampler == "grid" and not is_grid(space):
        raise ConfigError("--sampler grid: a range (lo:hi) cannot be gridded; use --sampler random or tpe "
                          "with --trials N")
    if sampler == "grid" and count is not None:
        raise ConfigError(f"--sampler grid runs every combination ({grid_size(space)}): drop --trials, "
                          "or use --sampler random or tpe")
    if sampler != "grid" and count is None and not (sampler == "random" and is_grid(space)):
        raise ConfigError(f"--sampler {sampler} needs --trials N" if is_grid(space) else
                          f"a range (lo:hi) is sampled, not gridded: --sampler {sampler} needs --trials N")
    if count is not None and count < 1:
        raise ConfigError(f"--trials {count}: must be at least 1")
    return sampler


# -- Optuna's view of the settings --------------------------------------------

def encode(value):
    """A setting's value as Optuna stores it: hidden (128, 64) -> "128-64"; others unchanged."""
    return "-".join(map(str, value)) if isinstance(value, tuple) else value


def decode(name: str, value):
    if name == "hidden":
        return parse_value("hidden", str(value))
    if name in FIELDS and FIELDS[name].integer:
        return int(value)
    return value


def space_json(space: dict) -> dict:
    """The space as plain JSON (stored in search.json and in the study, compared when joining)."""
    return {n: {"range": [v.low, v.high], "log": v.log, "integer": v.integer} if isinstance(v, Range)
            else [jsonable(x) for x in v] for n, v in space.items()}


def space_from_json(saved: dict) -> dict:
    return {n: Range(*v["range"], v["log"], v["integer"]) if isinstance(v, dict)
            else [parse_value(n, encode(tuple(x)) if isinstance(x, list) else str(x)) for x in v]
            for n, v in saved.items()}


def suggest(trial, space: dict) -> dict:
    """The trial's settings: fixed ones from the queue, the rest drawn by the study's sampler."""
    changes = {}
    for name, axis in space.items():
        if isinstance(axis, Range):
            if axis.integer:
                value = trial.suggest_int(name, int(axis.low), int(axis.high), log=axis.log)
            else:
                value = trial.suggest_float(name, axis.low, axis.high, log=axis.log)
        else:
            value = trial.suggest_categorical(name, [encode(v) for v in axis])
        changes[name] = decode(name, value)
    return changes


_quieted = []


def quiet_optuna():
    """Import optuna with its logging and warnings silenced: the engine never prints."""
    import optuna

    if not _quieted:
        import warnings

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", module="optuna")
        _quieted.append(True)
    return optuna


def open_storage(url: str):
    """An Optuna storage from a URL (sqlite:///..., postgresql://..., mysql://...) or a path (a journal file)."""
    optuna = quiet_optuna()
    text = str(url)
    if "://" in text:
        try:
            kwargs = {} if text.startswith("sqlite") else {"pool_pre_ping": True}
            return optuna.storages.RDBStorage(text, engine_kwargs=kwargs)
        except ImportError:
            raise ConfigError(f"--storage {hide_password(text)}: its database driver is not installed (for PostgreSQL: "
                              "pip install 'nn-tui[postgres]')") from None
        except Exception as e:  # sqlalchemy's errors: unreachable server, bad URL, no permission
            raise ConfigError(f"--storage {hide_password(text)}: {one_line(e)}") from None
    path = Path(text).expanduser()
    if path.is_dir():
        raise ConfigError(f"--storage {text}: is a directory (give a journal file path or a database URL)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    except OSError as e:
        raise ConfigError(f"--storage {text}: {e.strerror or e}") from None


def hide_password(url: str) -> str:
    """postgresql://user:secret@host/db -> postgresql://user:***@host/db (for files and screens)."""
    head, sep, tail = str(url).partition("://")
    if not sep or "@" not in tail.split("/")[0]:
        return str(url)
    auth, _, rest = tail.partition("@")
    return f"{head}://{auth.split(':')[0]}{':***' if ':' in auth else ''}@{rest}"


def one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


# -- events -----------------------------------------------------------------

@dataclass(frozen=True)
class SearchStarted:
    path: str  # the search directory
    trials: int
    space: dict
    budget: float | None
    sampler: str = "grid"
    workers: int = 1
    prune: str | None = None
    study: str = ""
    storage: str = ""


@dataclass(frozen=True)
class TrialStarted:
    index: int
    total: int
    changes: dict
    config: dict
    worker: str = ""
    here: bool = False  # trained by the calling thread: its training events follow (else another process's)


@dataclass(frozen=True)
class TrialReported:
    """A running trial (of any process sharing the study) ended an epoch."""

    index: int
    epoch: int
    dev_acc: float
    dev_loss: float
    worker: str = ""


@dataclass(frozen=True)
class TrialFinished:
    index: int
    total: int
    row: dict  # this trial's leaderboard row
    board: tuple  # every finished trial's row, best first


@dataclass(frozen=True)
class WinnerChosen:
    """Emitted after the last trial and before the winner's single test evaluation."""

    row: dict


@dataclass(frozen=True)
class SearchFinished:
    result: "SearchResult"


# -- the leaderboard --------------------------------------------------------

def jsonable(value):
    return list(value) if isinstance(value, tuple) else value


STATES = ("complete", "pruned", "failed")


def rank_key(row: dict, rank_by: str = "dev_acc"):
    """Best first: complete trials, then pruned, then failed; within each, higher dev accuracy (or lower
    dev loss), then the other, then the earlier trial. Trials with no evaluated epoch (nan) come last."""
    acc, loss = row.get("dev_acc"), row.get("dev_loss")
    acc = -acc if isinstance(acc, (int, float)) and math.isfinite(acc) else math.inf
    loss = loss if isinstance(loss, (int, float)) and math.isfinite(loss) else math.inf
    state = STATES.index(row["state"]) if row.get("state") in STATES else 0
    return (state, acc, loss, row["trial"]) if rank_by == "dev_acc" else (state, loss, acc, row["trial"])


def leaderboard(rows: list[dict], rank_by: str = "dev_acc") -> list[dict]:
    board = sorted(rows, key=lambda r: rank_key(r, rank_by))
    for rank, row in enumerate(board, 1):
        row["rank"] = rank
    return board


COLUMNS = ("dev_acc", "dev_loss", "best_epoch", "epochs", "seconds", "stop", "worker", "test_acc", "test_loss", "run")


def board_csv(board: list[dict], names: list[str]) -> str:
    columns = ["rank", "trial", *names, "state", *COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in board:
        writer.writerow(["" if row.get(c) is None else show(row[c]) if c in names else row[c] for c in columns])
    return out.getvalue()


@dataclass
class SearchResult:
    """How a search went: the leaderboard (best first), the winner and its one test evaluation."""

    path: Path  # the search directory
    board: list[dict]
    names: list[str]  # the searched settings
    planned: int
    stop: str  # "complete" | "budget" | "stopped"
    reason: str
    seconds: float
    winner: dict | None = None
    test_acc: float | None = None
    test_loss: float | None = None
    model_path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def done(self) -> int:
        return len(self.board)

    def count(self, state: str) -> int:
        return sum(r.get("state") == state for r in self.board)

    def to_dict(self) -> dict:
        return {**self.extra, "search_dir": str(self.path), "searched": self.names, "planned": self.planned,
                "done": self.done, "complete": self.count("complete"), "pruned": self.count("pruned"),
                "failed": self.count("failed"), "stop": self.stop, "reason": self.reason,
                "seconds": round(self.seconds, 3), "winner": self.winner, "test_accuracy": self.test_acc,
                "test_loss": self.test_loss, "model_path": str(self.model_path) if self.model_path else None,
                "rows": self.board}

    def save(self) -> None:
        """leaderboard.json and leaderboard.csv, each written atomically."""
        write_json(self.path / "leaderboard.json", self.to_dict())
        atomic_write(self.path / "leaderboard.csv", board_csv(self.board, self.names).encode())


def new_search_dir(root: Path) -> Path:
    return unique_dir(root, f"search-{datetime.now():%Y%m%d-%H%M%S}")


# -- the study ----------------------------------------------------------------

def trial_row(t, names: list[str], host: str = "") -> dict:
    """A finished (or running) Optuna trial as a leaderboard row, from what its worker recorded."""
    a = t.user_attrs
    fixed = t.system_attrs.get("fixed_params", {})
    params = {**fixed, **t.params}
    state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
             "WAITING": "waiting"}[t.state.name]
    worker = a.get("worker", "")
    if a.get("host") and a.get("host") != host:
        worker = f"{worker}@{a['host']}"
    nan = math.nan
    settings = {n: jsonable(decode(n, params[n])) if n in params else None for n in names}
    return {"rank": 0, "trial": t.number + 1, **settings,
            "state": state, "dev_acc": a.get("dev_acc", nan), "dev_loss": a.get("dev_loss", nan),
            "best_epoch": a.get("best_epoch", 0), "epochs": a.get("epochs", 0), "seconds": a.get("seconds", 0.0),
            "stop": a.get("stop", state), "reason": a.get("reason", ""), "worker": worker, "test_acc": None,
            "test_loss": None, "run": Path(a["run_dir"]).name if a.get("run_dir") else "",
            "run_dir": a.get("run_dir", ""), "model_path": a.get("model_path")}


def is_stale(t, host: str, now: float) -> bool:
    """A running trial whose worker is gone: its process on this host has ended, or no heartbeat for GRACE s."""
    a = t.user_attrs
    if a.get("host") == host and isinstance(a.get("pid"), int):
        try:
            os.kill(a["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    beat = a.get("beat")
    if not isinstance(beat, (int, float)):  # popped but never started: judge by its start time
        start = t.datetime_start.timestamp() if t.datetime_start else now
        return now - start > GRACE
    return now - beat > GRACE


def retry(study, t, why: str) -> None:
    """Enqueue a failed trial again with the same fixed settings (sampled ones are sampled anew)."""
    fixed = dict(t.system_attrs.get("fixed_params", {}))
    study.enqueue_trial(fixed, user_attrs={"retry_of": t.number + 1, "retry_why": why}, skip_if_exists=False)


def reap(study, host: str) -> int:
    """Mark the study's stale running trials failed and enqueue each again; the number reaped.

    Exactly one process wins each trial's change to failed (the storage refuses the second), so each
    stale trial is enqueued again once."""
    optuna = quiet_optuna()
    from optuna.trial import TrialState

    n, now = 0, time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not is_stale(t, host, now):
            continue
        try:
            study._storage.set_trial_user_attr(t._trial_id, "stop", "lost")
            study._storage.set_trial_user_attr(t._trial_id, "reason", "its worker stopped without a word (killed?)")
            if not study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                continue
        except (optuna.exceptions.UpdateFinishedTrialError, KeyError):
            continue
        retry(study, t, "worker lost")
        n += 1
    return n


def take(study):
    """Pop a waiting trial of the study for this process (None when none is left); never creates one."""
    optuna = quiet_optuna()
    from optuna.trial import TrialState

    storage = study._storage
    for t in storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if storage.set_trial_state_values(t._trial_id, state=TrialState.RUNNING):
                return optuna.Trial(study, t._trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def make_sampler(kind: str, seed: int, count: int | None):
    optuna = quiet_optuna()
    if kind == "tpe":  # the constant liar keeps parallel workers from proposing the same point
        startup = max(2, min(10, (count or 10) // 4))
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True, n_startup_trials=startup)
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(kind: str | None):
    """median: a trial whose best dev metric is behind the median of earlier trials at the same epoch is
    stopped, from epoch 2 on, once 2 trials have finished. halving: asynchronous successive halving
    (rungs at epochs 1, 3, 9, ...; only the best third of the trials at a rung go on)."""
    optuna = quiet_optuna()
    if kind is None:
        return optuna.pruners.NopPruner()
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
    if kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    raise ConfigError(f"--prune {kind!r} is not one of {', '.join(PRUNERS)}")


def open_study(storage_url: str, name: str, info: dict, slots: list[dict] | None, seed: int = 0):
    """Create the study and enqueue its plan, or join the one of that name if it has the same plan.

    Returns (study, created). `info` is the plan compared when joining; `slots` are the queued trials'
    fixed settings (None: joining only, e.g. a resume that reads the plan from the study).
    """
    optuna = quiet_optuna()
    storage = open_storage(storage_url)
    direction = "maximize" if info["rank_by"] == "dev_acc" else "minimize"
    sampler = make_sampler(info["sampler"], seed, info.get("count"))
    pruner = make_pruner(info.get("prune"))
    created = False
    try:
        if slots is None:
            raise optuna.exceptions.DuplicatedStudyError
        study = optuna.create_study(storage=storage, study_name=name, direction=direction, sampler=sampler,
                                    pruner=pruner)
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        try:
            study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        except KeyError:
            raise ConfigError(f"no study {name!r} in {hide_password(storage_url)}") from None
    if created:
        study.set_user_attr("nn_tui", info)
        for fixed in slots:
            study.enqueue_trial(fixed, skip_if_exists=False)
        study.set_user_attr("nn_tui_enqueued", len(slots))
        return study, True
    for _ in range(int(30 / POLL)):  # its creator may still be enqueuing
        attrs = study.user_attrs
        if "nn_tui" in attrs and "nn_tui_enqueued" in attrs:
            break
        time.sleep(POLL)
    else:
        raise ConfigError(f"study {name!r} in {hide_password(storage_url)} was not made by nn-tui search "
                          "(or its maker stopped while setting it up)")
    theirs = attrs["nn_tui"]
    if slots is not None:
        for key in ("data", "rank_by", "sampler", "count", "prune", "space", "base"):
            if json.dumps(theirs.get(key), sort_keys=True) != json.dumps(info.get(key), sort_keys=True):
                raise ConfigError(f"study {name!r} in {hide_password(storage_url)} has another plan ({key} differs): "
                                  "give the same settings to join it, or another --study")
    return study, False


def plan_slots(base: TrainConfig, space: dict, sampler: str, count: int | None, shuffle: bool, seed: int) -> list[dict]:
    """The fixed settings of every queued trial: grid points, distinct random picks of lists, or empty slots."""
    if sampler == "grid" or (sampler == "random" and is_grid(space)):
        trials = plan(base, space, count, shuffle or sampler == "random", seed)
        return [{n: encode(v) for n, v in t.changes.items()} for t in trials]
    return [{} for _ in range(count)]


def read_plan(path: Path | str) -> dict:
    """The plan a search directory was started with (its search.json), to resume it; ConfigError if none."""
    path = Path(path).expanduser()
    try:
        saved = json.loads((path / "search.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not a search directory (no search.json)") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}/search.json: unreadable ({e})") from None
    if not isinstance(saved, dict) or "study" not in saved or "storage" not in saved:
        raise ConfigError(f"{path}/search.json: made by an older nn-tui, cannot be resumed")
    return saved


def latest_search(root: Path | str) -> Path:
    """The newest search directory under `root` that can be resumed; ConfigError if none."""
    found = []
    for path in Path(root).expanduser().glob("search-*/search.json"):
        try:
            found.append((path.stat().st_mtime, path.parent))
        except OSError:
            continue
    if not found:
        raise ConfigError(f"no search to resume in {root}: give its directory (--resume DIR)")
    return max(found)[1]


def study_plan(storage_url: str, name: str) -> dict:
    """The plan a study was made with (to join or resume it with its own settings); ConfigError if none."""
    optuna = quiet_optuna()
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(storage_url))
    except KeyError:
        raise ConfigError(f"no study {name!r} in {hide_password(storage_url)}") from None
    plan = study.user_attrs.get("nn_tui")
    if not isinstance(plan, dict):
        raise ConfigError(f"study {name!r} in {hide_password(storage_url)} was not made by nn-tui search")
    return plan


# -- one worker: pop, train, tell ----------------------------------------------

class TrialControl:
    """The search's Control seen by one trial, with a stop of its own (pruning)."""

    def __init__(self, parent: Control):
        self.parent, self.pruned = parent, False

    @property
    def stopping(self) -> bool:
        return self.pruned or self.parent.stopping

    @property
    def paused(self) -> bool:
        return self.parent.paused

    def wait_if_paused(self) -> None:
        self.parent.wait_if_paused()

    def take_changes(self) -> dict:
        return self.parent.take_changes()


class Heart:
    """Beats for the running trial every BEAT seconds, from its own thread."""

    def __init__(self, study):
        self.study, self.trial_id, self.done = study, None, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True, name="nn-tui-heartbeat")
        self.thread.start()

    def run(self) -> None:
        while not self.done.wait(BEAT):
            tid = self.trial_id
            if tid is not None:
                try:
                    self.study._storage.set_trial_user_attr(tid, "beat", time.time())
                except Exception:  # finished meanwhile, or the storage hiccuped: the next beat will do
                    pass

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=2)


def work(study, splits, base: TrainConfig, space: dict, search_dir: Path, *, worker: str, rank_by: str,
         control: Control, listener: Listener | None = None, report_every: float = 0.1,
         deadline: Callable[[], bool] = lambda: False, total: int = 0, claimed: set | None = None) -> dict:
    """Pop waiting trials of `study` and train them until none is left (or stop / the deadline).

    `splits` need only train and dev: the test split is never touched here. Every epoch is reported
    to Optuna (and pruned if the study's pruner says so). Returns what happened: {"trials", "why"}.
    """
    optuna = quiet_optuna()
    from optuna.trial import TrialState

    emit = listener or (lambda event: None)
    host, names, done, why = socket.gethostname(), list(space), 0, "no trial left"
    heart = Heart(study)
    try:
        while True:
            control.wait_if_paused()
            if control.stopping:
                why = "stopped"
                break
            if deadline():
                why = "budget"
                break
            reap(study, host)
            trial = take(study)
            if trial is None:
                break
            if claimed is not None:
                claimed.add(trial.number)
            heart.trial_id = trial._trial_id
            index = trial.number + 1
            storage, tid = study._storage, trial._trial_id
            for key, value in (("worker", worker), ("host", host), ("pid", os.getpid()), ("beat", time.time())):
                storage.set_trial_user_attr(tid, key, value)
            try:
                changes = suggest(trial, space)
                cfg = base.replace(**changes)
            except (ConfigError, ValueError) as e:
                storage.set_trial_user_attr(tid, "reason", f"bad settings: {one_line(e)}")
                study.tell(trial, state=TrialState.FAIL)
                continue
            emit(TrialStarted(index, total, dict(changes), cfg.to_dict(), worker, here=True))
            tc = TrialControl(control)

            def listen(event, trial=trial, tc=tc, index=index):
                from .events import EpochEnded, Recording

                if isinstance(event, Recording):
                    storage.set_trial_user_attr(tid, "run_dir", event.run_dir)
                elif isinstance(event, EpochEnded):
                    trial.report(getattr(event, rank_by), event.epoch)
                    storage.set_trial_user_attr(tid, "last", {"epoch": event.epoch, "dev_acc": event.dev_acc,
                                                              "dev_loss": event.dev_loss})
                    if trial.should_prune():
                        tc.pruned = True
                emit(event)
                if isinstance(event, EpochEnded):
                    emit(TrialReported(index, event.epoch, event.dev_acc, event.dev_loss, worker))

            try:
                result, summary = train_run(splits, cfg, search_dir, listen, tc, test=False, report_every=report_every,
                                            name=f"t{index:02d}-{cfg.spec()}", keep=0)
            except Exception as e:  # a trial that breaks is recorded as failed; the search goes on
                storage.set_trial_user_attr(tid, "stop", "error")
                storage.set_trial_user_attr(tid, "reason", f"{type(e).__name__}: {one_line(e)}")
                study.tell(trial, state=TrialState.FAIL)
                done += 1
                continue
            stop, reason = result.stop, result.reason
            if tc.pruned:
                stop = "pruned"
                reason = f"pruned at epoch {result.epochs} ({study.pruner.__class__.__name__})"
                summary.update(stop=stop, stop_reason=reason)
                write_json(Path(summary["run_dir"]) / "summary.json", summary)
            attrs = {"dev_acc": result.dev_acc, "dev_loss": result.dev_loss, "best_epoch": result.best_epoch,
                     "epochs": result.epochs, "seconds": round(result.seconds, 3), "stop": stop, "reason": reason,
                     "run_dir": summary["run_dir"], "model_path": summary.get("model_path")}
            for key, value in attrs.items():
                storage.set_trial_user_attr(tid, key, value)
            value = result.dev_acc if rank_by == "dev_acc" else result.dev_loss
            heart.trial_id = None
            try:
                if tc.pruned:
                    study.tell(trial, state=TrialState.PRUNED)
                elif stop == "stopped" or not result.best_epoch or not math.isfinite(value):
                    study.tell(trial, state=TrialState.FAIL)
                    if stop == "stopped":  # run again when the study is resumed
                        retry(study, study._storage.get_trial(tid), "stopped by user")
                else:
                    study.tell(trial, value)
            except optuna.exceptions.UpdateFinishedTrialError:  # reaped by another process meanwhile
                pass
            done += 1
            if stop != "stopped":
                emit(TrialFinished(index, total, trial_row(study._storage.get_trial(tid), names, host), ()))
    finally:
        heart.stop()
    return {"trials": done, "why": why}


# -- worker processes -----------------------------------------------------------

class Part:
    """A split as the trainer needs it: x (n, 784) float32, y (n,) uint8, len."""

    def __init__(self, x, y, n: int | None = None):
        self.x, self.y, self.n = x, y, len(x) if n is None else n

    def __len__(self) -> int:
        return self.n


class Shared:
    """Train and dev arrays in shared memory, made once by the search and mapped by each worker."""

    def __init__(self, splits):
        from multiprocessing import shared_memory

        self.blocks, self.spec = [], {}
        parts = ("x", splits.train.x), ("y", splits.train.y), ("x_dev", splits.dev.x), ("y_dev", splits.dev.y)
        for key, array in parts:
            array = np.ascontiguousarray(array)
            block = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
            np.ndarray(array.shape, array.dtype, buffer=block.buf)[...] = array
            self.blocks.append(block)
            self.spec[key] = (block.name, list(array.shape), array.dtype.str)

    def close(self) -> None:
        for block in self.blocks:
            block.close()
            try:
                block.unlink()
            except FileNotFoundError:
                pass
        self.blocks = []


def worker_main() -> None:
    """A worker process (`python -c "from engine.search import worker_main; worker_main()"`): its job as
    JSON on stdin, what happened as one JSON line on stdout, nothing else printed. One BLAS thread;
    SIGTERM stops it cleanly after the current batch, SIGUSR1 / SIGUSR2 pause and resume it."""
    import sys

    control = Control()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the search relays Ctrl+C as SIGTERM
    signal.signal(signal.SIGTERM, lambda *_: control.stop())
    signal.signal(signal.SIGUSR1, lambda *_: control.pause())
    signal.signal(signal.SIGUSR2, lambda *_: control.resume())
    blocks, arrays = [], {}
    try:
        from multiprocessing import resource_tracker, shared_memory

        from .threads import pin

        job = json.loads(sys.stdin.read())
        if job["threads"]:
            pin(job["threads"])  # every run of this worker keeps it (the thread chooser included)
        for key, (name, shape, dtype) in job["shared"].items():
            block = shared_memory.SharedMemory(name=name)
            resource_tracker.unregister(block._name, "shared_memory")  # the search owns it, and unlinks it
            blocks.append(block)
            arrays[key] = np.ndarray(tuple(shape), np.dtype(dtype), buffer=block.buf)
        splits = _WorkerSplits(Part(arrays["x"], arrays["y"]), Part(arrays["x_dev"], arrays["y_dev"]),
                               Part(None, None, job["test_size"]), job["data_name"], job["data_source"])
        info = job["info"]
        study, _ = open_study(job["storage"], job["study"], info, None, seed=job["seed"])
        parent, deadline = job["parent"], job["deadline"]
        outcome = work(study, splits, TrainConfig.from_dict(info["base"]), space_from_json(info["space"]),
                       Path(job["search_dir"]), worker=job["worker"], rank_by=info["rank_by"], control=control,
                       deadline=lambda: (deadline is not None and time.time() >= deadline) or os.getppid() != parent)
    except BaseException as e:  # told to the search in one line
        outcome = {"trials": 0, "why": "error", "error": f"{type(e).__name__}: {one_line(e)}"}
    arrays.clear()
    splits = None
    for block in blocks:
        try:
            block.close()
        except BufferError:
            pass
    sys.stdout.write(json.dumps(outcome) + "\n")
    sys.stdout.flush()


@dataclass
class _WorkerSplits:
    train: Part
    dev: Part
    test: Part  # its size only: workers never see the test set
    name: str
    source: str

    def items(self):
        return (("train", self.train), ("dev", self.dev), ("test", self.test))


# -- the search -------------------------------------------------------------

def search(splits, base: TrainConfig, space: dict, *, count: int | None = None, shuffle: bool = False,
           seed: int = 0, budget: float | None = None, root: Path | None = None, listener: Listener | None = None,
           control: Control | None = None, rank_by: str = "dev_acc", report_every: float = 0.1,
           clock: Callable[[], float] = time.monotonic, sampler: str | None = None, workers: int = 1,
           prune: str | None = None, storage: str | None = None, study: str | None = None,
           path: Path | None = None, threads: int | None = 1) -> SearchResult:
    """Train the trials of a study on `space` over `base` and rank them on the dev set.

    `sampler` grid | random | tpe (default: grid, or random with `count`); `count` trials for random
    and TPE. `workers` 1 trains in this thread (the listener gets every training event); more start
    that many processes with `threads` BLAS threads each (None: leave them be), sharing the train and
    dev arrays. `prune` median | halving | None. `storage` any Optuna storage URL or a journal file path
    (default: a journal in the search directory); `study` its name (default: the directory's name): a
    study that exists with the same plan is joined (how processes and machines share one search, and
    how a killed one resumes). `path` reuses a search directory (resume); else a new one under `root`.

    `splits` is a data.Splits; trials never touch its test split. When no trial is left (or `budget`
    seconds have passed at the start of a trial, or `control` is stopped) the best complete trial is
    evaluated once on the test split and its model saved in the search directory. `listener` gets
    SearchStarted, TrialStarted, TrialReported, TrialFinished (for every process's trials), the training
    events of this thread's trials, WinnerChosen and SearchFinished, one at a time.
    """
    if rank_by not in RANK_BY:
        raise ConfigError(f"--rank-by {rank_by!r} is not one of {', '.join(RANK_BY)}")
    if budget is not None and not (isinstance(budget, (int, float)) and budget > 0 and math.isfinite(budget)):
        raise ConfigError(f"--budget {budget!r} must be a positive number of seconds")
    if not (isinstance(workers, int) and 1 <= workers <= 64):
        raise ConfigError(f"--workers {workers!r}: a whole number from 1 to 64")
    if prune is not None and prune not in PRUNERS:
        raise ConfigError(f"--prune {prune!r} is not one of {', '.join(PRUNERS)}")
    sampler = choose_sampler(space, sampler, count)
    slots = plan_slots(base, space, sampler, count, shuffle, seed)
    lock = threading.Lock()

    def emit(event):
        if listener is not None:
            with lock:
                listener(event)

    control = control or Control()
    names = list(space)
    if path is not None:
        path = Path(path).expanduser()
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = new_search_dir(Path(root) if root else runs_dir())
    storage_url = str(storage) if storage else str(path / JOURNAL)
    if "://" not in storage_url:
        storage_url = str(Path(storage_url).expanduser().resolve())
    study_name = study or path.name
    info = {"data": splits.name, "rank_by": rank_by, "sampler": sampler, "count": count, "prune": prune,
            "base": base.to_dict(), "space": space_json(space)}
    the_study, created = open_study(storage_url, study_name, info, slots, seed)
    host = socket.gethostname()
    saved = {**info, "source": splits.source, "budget": budget, "seed": seed, "workers": workers, "threads": threads,
             "storage": hide_password(storage_url), "study": study_name, "created": created,
             "started": datetime.now().isoformat(timespec="seconds"),
             "trials": [{k: jsonable(decode(k, v)) for k, v in s.items()} for s in slots]}
    write_json(path / "search.json", saved)
    extra = {k: saved[k] for k in ("data", "rank_by", "sampler", "prune", "budget", "seed", "workers", "storage",
                                   "study", "space", "base")}
    planned = len(slots)
    emit(SearchStarted(str(path), planned, info["space"], budget, sampler, workers, prune, study_name,
                       hide_password(storage_url)))
    reap(the_study, host)
    t0 = clock()
    seen: dict[int, tuple] = {}  # trial number -> (state, last epoch) as last shown
    mine: set[int] = set()  # trials this thread trains (their events come from `work`)
    board: list[dict] = []

    looking = threading.Lock()

    def look(final: bool = False) -> None:
        """Tell the listener what changed in the study since the last look (any process's trials)."""
        with looking:
            see(final)

    def see(final: bool) -> None:
        nonlocal board
        trials = [t for t in the_study.get_trials(deepcopy=False) if t.state.name != "WAITING"]
        rows = {t.number: trial_row(t, names, host) for t in trials}
        finished = [row for row in rows.values() if row["state"] != "running"]
        changed = [t for t in trials
                   if t.state.name != "RUNNING" and seen.get(t.number, (None,))[0] in (None, "RUNNING")]
        if changed or final or len(finished) != len(board):
            board = leaderboard(finished, rank_by)
            SearchResult(path, board, names, planned, "running", f"{len(board)} of {planned} trials done",
                         clock() - t0, extra=extra).save()
        for t in trials:  # in trial order: started, epochs, finished
            state, row, last = t.state.name, rows[t.number], t.user_attrs.get("last") or {}
            before = seen.get(t.number, (None, 0))
            if t.number in mine or state == "RUNNING" and "worker" not in t.user_attrs:  # ours, or not started yet
                if t.number in mine:
                    seen[t.number] = (state, last.get("epoch", 0))
                continue
            if before[0] is None:
                fixed = {**t.system_attrs.get("fixed_params", {}), **t.params}
                changes = {n: decode(n, v) for n, v in fixed.items() if n in names}
                try:
                    cfg = base.replace(**changes).to_dict()
                except (ConfigError, TypeError, ValueError):
                    cfg = base.to_dict()
                emit(TrialStarted(t.number + 1, planned, changes, cfg, row["worker"]))
            if last.get("epoch", 0) > before[1]:
                emit(TrialReported(t.number + 1, last["epoch"], last.get("dev_acc", math.nan),
                                   last.get("dev_loss", math.nan), row["worker"]))
            if state != "RUNNING" and before[0] in (None, "RUNNING"):
                emit(TrialFinished(row["trial"], planned, dict(row), tuple(dict(r) for r in board)))
            seen[t.number] = (state, last.get("epoch", 0))

    outcomes: list[dict] = []
    if workers == 1:
        def forward(event):
            if isinstance(event, TrialFinished):
                look()  # this trial's row and the board, then its TrialFinished
                row = next((r for r in board if r["trial"] == event.index), event.row)
                event = TrialFinished(event.index, planned, dict(row), tuple(dict(r) for r in board))
            emit(event)

        watching = threading.Event()

        def watch():  # the trials of other processes, while this thread trains
            while not watching.wait(1.0):
                try:
                    look()
                except Exception:  # a busy storage: look again later
                    pass

        watcher = threading.Thread(target=watch, daemon=True, name="nn-tui-search-watch")
        watcher.start()
        try:
            outcomes.append(work(the_study, splits, base, space, path, worker="w1", rank_by=rank_by, control=control,
                                 listener=forward, report_every=report_every, total=planned, claimed=mine,
                                 deadline=lambda: budget is not None and clock() - t0 >= budget))
        finally:
            watching.set()
            watcher.join(timeout=5)
    else:
        outcomes = run_processes(splits, path, storage_url, study_name, info, workers, threads, seed, control,
                                 None if budget is None else time.time() + budget - (clock() - t0), look)
    look(final=True)
    return finish(splits, path, the_study, board, names, planned, info, extra, outcomes, control, t0, clock, emit,
                  budget)


def run_processes(splits, path: Path, storage_url: str, study_name: str, info: dict, workers: int, threads,
                  seed: int, control: Control, deadline: float | None, look) -> list[dict]:
    """Start `workers` processes on the study, look at it until they end; relay stop, pause and resume.

    Each is a fresh interpreter in its own session (so Ctrl+C reaches only the search, which relays it),
    mapping the train and dev arrays from shared memory; no fork, no pickle."""
    import subprocess
    import sys
    import tempfile

    shared = Shared(splits)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parents[1])] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    procs, logs = [], []
    try:
        for k in range(1, workers + 1):
            job = {"shared": shared.spec, "test_size": len(splits.test), "data_name": splits.name,
                   "data_source": splits.source, "info": info, "storage": storage_url, "study": study_name,
                   "seed": seed + k, "search_dir": str(path), "worker": f"w{k}", "threads": threads,
                   "deadline": deadline, "parent": os.getpid()}
            log = tempfile.TemporaryFile()
            proc = subprocess.Popen([sys.executable, "-c", "from engine.search import worker_main; worker_main()"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                    start_new_session=True)
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
            procs.append(proc)
            logs.append(log)
        paused, stopped = False, False
        while any(p.poll() is None for p in procs):
            if control.stopping and not stopped:
                stopped = True
                _signal_all(procs, signal.SIGTERM)
                _signal_all(procs, signal.SIGUSR2)
            if control.paused != paused and not stopped:
                paused = control.paused
                _signal_all(procs, signal.SIGUSR1 if paused else signal.SIGUSR2)
            try:
                look()
            except Exception:  # a busy storage: look again later
                pass
            time.sleep(POLL)
    except BaseException:  # a second Ctrl+C, or an error here: the workers go at once
        for p in procs:
            if p.poll() is None:
                p.kill()
        raise
    finally:
        outcomes = []
        for p, log in zip(procs, logs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            out = p.stdout.read()
            p.stdout.close()
            try:
                outcomes.append(json.loads(out.decode().strip().splitlines()[-1]))
            except (ValueError, IndexError):
                log.seek(0)
                said = [line for line in log.read().decode(errors="replace").splitlines() if line.strip()]
                outcomes.append({"trials": 0, "why": "error", "error": said[-1] if said else
                                 f"a worker ended without a word (exit status {p.returncode})"})
            log.close()
        shared.close()
    return outcomes


def _signal_all(procs, sig) -> None:
    for p in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass


def finish(splits, path: Path, study, board: list[dict], names: list[str], planned: int, info: dict, extra: dict,
           outcomes: list[dict], control: Control, t0: float, clock, emit, budget) -> SearchResult:
    """Pick the winner among complete trials, evaluate it once on the test split, save the board."""
    from optuna.trial import TrialState

    left = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    cut = [r["trial"] for r in board if r["stop"] == "stopped"]
    done = len(board) - len(cut)
    errors = [o["error"] for o in outcomes if o.get("error")]
    if control.stopping:
        stop, reason = "stopped", f"stopped by user after {done} of {planned} trials"
        if cut:
            reason = (f"stopped by user during trial {', '.join(map(str, sorted(cut)))} "
                      f"({done} of {planned} trials ran)")
    elif any(o["why"] == "budget" for o in outcomes) and left:
        stop, reason = "budget", f"time budget of {budget:g} s used up after {done} of {planned} trials"
    elif errors and left:
        stop, reason = "stopped", f"workers failed ({errors[0]}) after {done} of {planned} trials"
    else:
        stop, reason = "complete", f"all {planned} trials done"
        if running:
            reason = f"no trial left to start: {done} of {planned} done, {running} still running elsewhere"
    pruned = sum(r["state"] == "pruned" for r in board)
    if pruned:
        reason += f" ({pruned} pruned)"
    out = SearchResult(path, board, names, planned, stop, reason, 0.0, extra={**extra, "errors": errors})
    winner = board[0] if board and board[0]["state"] == "complete" else None
    model_file = Path(winner["model_path"]) if winner and winner.get("model_path") else None
    if winner and model_file and model_file.is_file():
        emit(WinnerChosen(dict(winner)))
        model, meta = models.load(model_file)
        test = evaluate(model, splits.test.x, splits.test.y)  # the one and only look at the test set
        winner["test_acc"], winner["test_loss"] = test.accuracy, test.loss
        out.winner, out.test_acc, out.test_loss = winner, test.accuracy, test.loss
        metrics = {"dev_accuracy": winner["dev_acc"], "dev_loss": winner["dev_loss"],
                   "best_epoch": winner["best_epoch"], "test_accuracy": test.accuracy, "test_loss": test.loss}
        cfg = TrainConfig.from_dict(meta["config"])
        out.model_path = models.save(path / "model.npz", model, model_meta(
            splits.name, splits.source, cfg, metrics, run_dir=winner["run_dir"], search_dir=str(path)))
        mark_winner(Path(winner["run_dir"]), test, str(path))
    elif winner:
        out.winner = winner
        out.reason += f"; the winner's model is not on this machine ({winner['worker']}): not tested here"
    out.seconds = clock() - t0
    out.save()
    emit(SearchFinished(out))
    return out


def mark_winner(run_dir: Path, test, search_dir: str) -> None:
    """Add the winner's test result to its trial's summary.json, so run listings show it."""
    summary_path = run_dir / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    summary.update(test_accuracy=test.accuracy, test_loss=test.loss, search_winner=search_dir)
    write_json(summary_path, summary)
