"""Hyperparameter search: a grid (or a random part of it) trained with early stopping, ranked on dev.

Only the winner ever meets the test set, once, after every trial has ended. A search directory
holds search.json (the plan), one run directory per trial, leaderboard.csv + leaderboard.json
(rewritten after every trial, so an interrupted search still leaves its board) and the winner's
model.npz (+ .json).
"""
from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

import models
from models import atomic_write

from .config import ConfigError, TrainConfig
from .config import show_value as show
from .control import Control
from .grid import FIXED, SEARCHABLE, parse_space, parse_values  # noqa: F401 (the search's own API)
from .metrics import evaluate
from .runs import model_meta, runs_dir, train_run, write_json

RANK_BY = ("dev_acc", "dev_loss")
MAX_GRID = 10_000  # more combinations than this must be sampled (count=N)

Listener = Callable[[object], None]


# -- the plan ---------------------------------------------------------------

@dataclass(frozen=True)
class Trial:
    index: int  # 1-based, in the order trials run
    changes: dict  # the searched settings of this trial
    config: TrainConfig


def grid_size(space: dict[str, Sequence]) -> int:
    return math.prod(len(v) for v in space.values())


def plan(base: TrainConfig, space: dict[str, Sequence], count: int | None = None, shuffle: bool = False,
         seed: int = 0) -> list[Trial]:
    """The trials: every combination of `space` over `base`, in order; or `count` distinct random
    ones (all of them, shuffled, when count >= the grid); `shuffle` alone runs the whole grid in
    random order. Every config is built and checked here, before anything trains."""
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


# -- events -----------------------------------------------------------------

@dataclass(frozen=True)
class SearchStarted:
    path: str  # the search directory
    trials: int
    space: dict
    budget: float | None


@dataclass(frozen=True)
class TrialStarted:
    index: int
    total: int
    changes: dict
    config: dict


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


def rank_key(row: dict, rank_by: str = "dev_acc"):
    """Best first: higher dev accuracy (or lower dev loss), then the other, then the earlier trial.
    Trials with no evaluated epoch (nan) come last."""
    acc, loss = row.get("dev_acc"), row.get("dev_loss")
    acc = -acc if isinstance(acc, (int, float)) and math.isfinite(acc) else math.inf
    loss = loss if isinstance(loss, (int, float)) and math.isfinite(loss) else math.inf
    return (acc, loss, row["trial"]) if rank_by == "dev_acc" else (loss, acc, row["trial"])


def leaderboard(rows: list[dict], rank_by: str = "dev_acc") -> list[dict]:
    board = sorted(rows, key=lambda r: rank_key(r, rank_by))
    for rank, row in enumerate(board, 1):
        row["rank"] = rank
    return board


def make_row(trial: Trial, result, summary: dict) -> dict:
    run_dir = Path(summary["run_dir"])
    return {"rank": 0, "trial": trial.index, **{k: jsonable(v) for k, v in trial.changes.items()},
            "dev_acc": result.dev_acc, "dev_loss": result.dev_loss, "best_epoch": result.best_epoch,
            "epochs": result.epochs, "seconds": round(result.seconds, 3), "stop": result.stop,
            "reason": result.reason, "test_acc": None, "test_loss": None,
            "run": run_dir.name, "run_dir": str(run_dir), "model_path": summary.get("model_path")}


def board_csv(board: list[dict], names: list[str]) -> str:
    columns = ["rank", "trial", *names, "dev_acc", "dev_loss", "best_epoch", "epochs", "seconds", "stop",
               "test_acc", "test_loss", "run"]
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

    def to_dict(self) -> dict:
        return {**self.extra, "search_dir": str(self.path), "searched": self.names, "planned": self.planned,
                "done": self.done, "stop": self.stop, "reason": self.reason, "seconds": round(self.seconds, 3),
                "winner": self.winner, "test_accuracy": self.test_acc, "test_loss": self.test_loss,
                "model_path": str(self.model_path) if self.model_path else None, "rows": self.board}

    def save(self) -> None:
        """leaderboard.json and leaderboard.csv, each written atomically."""
        write_json(self.path / "leaderboard.json", self.to_dict())
        atomic_write(self.path / "leaderboard.csv", board_csv(self.board, self.names).encode())


def new_search_dir(root: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, k = root / f"search-{stamp}", 1
    while path.exists():
        k += 1
        path = root / f"search-{stamp}-{k}"
    path.mkdir(parents=True)
    return path


# -- the search -------------------------------------------------------------

def search(splits, base: TrainConfig, space: dict[str, Sequence], *, count: int | None = None,
           shuffle: bool = False, seed: int = 0, budget: float | None = None, root: Path | None = None,
           listener: Listener | None = None, control: Control | None = None, rank_by: str = "dev_acc",
           report_every: float = 0.1, clock: Callable[[], float] = time.monotonic) -> SearchResult:
    """Train every trial of `plan(base, space, count, shuffle, seed)` and rank them on the dev set.

    `splits` is a data.Splits; trials never touch its test split. After the last trial (or when
    `budget` seconds of wall time have passed at the start of a trial, or `control` is stopped) the
    best trial by `rank_by` is evaluated once on the test split and its model saved in the search
    directory (made under `root`). `listener` gets SearchStarted, TrialStarted, every training event
    of the running trial, TrialFinished, WinnerChosen and SearchFinished.
    """
    if rank_by not in RANK_BY:
        raise ConfigError(f"--rank-by {rank_by!r} is not one of {', '.join(RANK_BY)}")
    if budget is not None and not (isinstance(budget, (int, float)) and budget > 0 and math.isfinite(budget)):
        raise ConfigError(f"--budget {budget!r} must be a positive number of seconds")
    trials = plan(base, space, count, shuffle, seed)
    emit = listener or (lambda event: None)
    control = control or Control()
    names = list(space)
    path = new_search_dir(Path(root) if root else runs_dir())
    info = {"data": splits.name, "rank_by": rank_by, "budget": budget, "random": count is not None or shuffle,
            "seed": seed, "base": base.to_dict(), "space": {k: [jsonable(v) for v in vs] for k, vs in space.items()},
            "started": datetime.now().isoformat(timespec="seconds")}
    plan_rows = [{k: jsonable(v) for k, v in t.changes.items()} for t in trials]
    write_json(path / "search.json", {**info, "trials": plan_rows})
    emit(SearchStarted(str(path), len(trials), info["space"], budget))
    t0 = clock()
    rows: list[dict] = []
    board: list[dict] = []
    best_model, best_key = None, None
    stop, reason = "complete", f"all {len(trials)} trials done"
    for trial in trials:
        control.wait_if_paused()
        if control.stopping:
            stop, reason = "stopped", f"stopped by user after {len(rows)} of {len(trials)} trials"
            if rows and rows[-1]["stop"] == "stopped":
                reason = f"stopped by user during trial {rows[-1]['trial']} ({len(rows)} of {len(trials)} trials ran)"
            break
        if budget is not None and clock() - t0 >= budget:
            stop, reason = "budget", f"time budget of {budget:g} s used up after {len(rows)} of {len(trials)} trials"
            break
        emit(TrialStarted(trial.index, len(trials), dict(trial.changes), trial.config.to_dict()))
        result, summary = train_run(splits, trial.config, path, emit, control, test=False,
                                    report_every=report_every, name=f"t{trial.index:02d}-{trial.config.spec()}", keep=0)
        row = make_row(trial, result, summary)
        rows.append(row)
        if result.best_epoch and (best_key is None or rank_key(row, rank_by) < best_key):
            best_model, best_key = result.model, rank_key(row, rank_by)
        board = leaderboard(rows, rank_by)
        SearchResult(path, board, names, len(trials), "running", f"{len(rows)} of {len(trials)} trials done",
                     clock() - t0, extra=info).save()
        emit(TrialFinished(trial.index, len(trials), dict(row), tuple(dict(r) for r in board)))
    if stop == "complete" and control.stopping:  # the last trial itself was stopped
        stop = "stopped"
        reason = f"stopped by user during trial {rows[-1]['trial']} ({len(rows)} of {len(trials)} trials ran)"
    out = SearchResult(path, board, names, len(trials), stop, reason, 0.0, extra=info)
    if best_model is not None:
        winner = board[0]
        emit(WinnerChosen(dict(winner)))
        test = evaluate(best_model, splits.test.x, splits.test.y)  # the one and only look at the test set
        winner["test_acc"], winner["test_loss"] = test.accuracy, test.loss
        out.winner, out.test_acc, out.test_loss = winner, test.accuracy, test.loss
        metrics = {"dev_accuracy": winner["dev_acc"], "dev_loss": winner["dev_loss"],
                   "best_epoch": winner["best_epoch"], "test_accuracy": test.accuracy, "test_loss": test.loss}
        cfg = trials[winner["trial"] - 1].config
        out.model_path = models.save(path / "model.npz", best_model, model_meta(
            splits.name, splits.source, cfg, metrics, run_dir=winner["run_dir"], search_dir=str(path)))
        mark_winner(Path(winner["run_dir"]), test, str(path))
    out.seconds = clock() - t0
    out.save()
    emit(SearchFinished(out))
    return out


def mark_winner(run_dir: Path, test, search_dir: str) -> None:
    """Add the winner's test result to its trial's summary.json, so run listings show it."""
    import json

    summary_path = run_dir / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    summary.update(test_accuracy=test.accuracy, test_loss=test.loss, search_winner=search_dir)
    write_json(summary_path, summary)
