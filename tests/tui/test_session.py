"""The Session on its own, without Pilot: a fake host runs its workers one after the other and hands their
messages back, so a run, a search, a failure, open, save and edit are each a few plain calls."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.worker import WorkerState

import data
import models
import tui.session
from engine import TrainConfig
from engine.runs import train_run
from tui.messages import DataLoaded, EngineEvent
from tui.session import Session, State


class FakeHost:
    """Records what the session asks of the screen; `run()` plays the workers as Textual would: each message
    reaches the session as it is posted (here at once, in the worker's own thread), the worker's end last."""

    def __init__(self):
        self.workers, self.notes, self.drawn = [], [], []
        self.predictions = self.history = self.session = None

    def run_worker(self, work, **kw):
        worker = SimpleNamespace(work=work, group=kw["group"], name=kw.get("name"), state=WorkerState.PENDING,
                                 result=None, error=None)
        self.workers.append(worker)
        return worker

    def post_message(self, message) -> bool:
        if isinstance(message, DataLoaded):
            self.session.data_loaded(message.splits, message.key)
        elif isinstance(message, EngineEvent):
            self.session.event(message.event, message.run_id)
        return True

    def notify(self, message, severity="information", **kw) -> None:
        self.notes.append((str(message), severity))

    def show_data(self, splits) -> None:
        self.drawn.append("data")

    def reset_board(self, epochs: int) -> None:
        self.drawn.append(("reset", epochs))

    def show_epoch(self, event) -> None:  # as the app does: the waiting batches first
        self.drawn.append(("epoch", event.epoch, len(self.session.drain())))

    def show_predictions(self, evaluation) -> None:
        self.predictions = evaluation

    def show_history(self, history) -> None:
        self.history = history

    def show_state(self) -> None:
        self.drawn.append("state")

    def show_mark(self, x: float, label: str) -> None:
        self.drawn.append(("mark", x, label))

    def show_health(self, record, alerts) -> None:
        self.drawn.append(("health", record and record["epoch"], [a.kind for a in alerts]))

    def run(self, session: Session) -> None:
        """Each pending worker in turn: its work (in this thread), its messages, then its end."""
        self.session = session
        while self.workers:
            worker = self.workers.pop(0)
            try:
                worker.result, worker.state = worker.work(), WorkerState.SUCCESS
            except Exception as e:
                worker.error, worker.state = e, WorkerState.ERROR
            session.worker_changed(worker)

    def errors(self) -> str:
        return "\n".join(text for text, severity in self.notes if severity == "error")


def config(**changes) -> TrainConfig:
    return TrainConfig(**{**dict(hidden=(32,), epochs=2, batch_size=64, lr=0.1, schedule="constant", patience=0,
                                 seed=0, dev_size=200), **changes})


@pytest.fixture
def make(tiny, tmp_path):
    """make(**config_changes) -> (session, host): loaded, idle, runs under tmp_path/runs."""
    def build(control=None, **changes):
        host = FakeHost()
        session = Session(config(**changes), host, loader=lambda cfg: tiny, runs_root=tmp_path / "runs",
                          **({"control": control} if control else {}))
        session.load(session.config)
        host.run(session)
        assert session.state is State.IDLE and session.splits is tiny
        return session, host
    return build


def test_the_state_groups():
    assert {s for s in State if s.running} == {State.TRAINING, State.PAUSED}
    assert {s for s in State if s.busy} == {State.TRAINING, State.PAUSED, State.STOPPING}
    assert {s for s in State if s.ready} == {State.IDLE, State.FINISHED, State.MODEL}
    assert State.TRAINING == "training" and f"{State.MODEL}" == "model" and {"idle": 1}[State.IDLE] == 1


def test_a_run_from_start_to_end(make, slow_control):
    counting = slow_control(0.03)  # a few batch reports an epoch (they come every 0.1 s)
    session, host = make(control=counting)
    session.start()
    assert session.state is State.TRAINING and session.run_id == 1 and session.model is None
    assert type(session.control) is counting  # the injected class, not the engine's own
    host.run(session)
    assert session.state is State.FINISHED and session.control.batches > 0
    epochs = [d for d in host.drawn if isinstance(d, tuple) and d[0] == "epoch"]
    assert [e[1] for e in epochs] == [1, 2] and all(batches for *_, batches in epochs)  # drawn before the end
    assert session.status.progress == 2.0 and session.status.epoch == 2  # the end, not the last batch report
    assert session.status.reason == "max epochs (2) reached" and session.status.test is not None
    assert session.run_dir.is_dir() and session.model_path == session.run_dir / "model.npz"
    assert session.model_meta["config"] == session.config.to_dict() and session.model_meta["data"] == "mnist-tiny"
    assert host.predictions.confusion.sum() == 200  # the kept model's, on the dev digits
    assert not session.inbox and session.drain() == []


def test_a_failing_run_is_one_notification(make, monkeypatch):
    session, host = make()

    def explode(*args, **kw):
        raise RuntimeError("matmul: shapes not aligned")

    monkeypatch.setattr(tui.session, "train_run", explode)
    session.start()
    host.run(session)
    assert session.state is State.IDLE and session.status.reason == "RuntimeError: matmul: shapes not aligned"
    assert "RuntimeError: matmul" in host.errors()


def test_data_that_fails_to_load_is_an_error_state(tmp_path):
    host = FakeHost()

    def broken(cfg):
        raise data.DataError("digits.csv: line 3 has 12 values")

    session = Session(config(), host, loader=broken, runs_root=tmp_path)
    session.load(session.config)
    host.run(session)
    assert session.state is State.ERROR and session.status.reason == "digits.csv: line 3 has 12 values"


def test_pause_resume_stop_and_edit(make):
    session, host = make()
    session.start()
    session.pause()
    assert session.state is State.PAUSED and session.control.paused
    session.edit({"lr": 0.05, "epochs": 9})  # lr reaches the run, epochs waits for the next one
    assert session.config.lr == 0.05 and session.config.epochs == 9 and session.run_config.epochs == 2
    assert session.control.take_changes() == {"lr": 0.05}
    assert any("epochs 2 → 9: will apply to the next run" in text for text, _ in host.notes)
    assert session.editable().lr == 0.1  # the running run's own value until the loop takes the change
    session.resume()
    assert session.state is State.TRAINING
    assert session.stop() and session.state is State.STOPPING and session.control.stopping
    host.run(session)
    assert session.state is State.FINISHED


def test_open_and_save_keep_the_models_own_settings(make, tiny, tmp_path):
    """The save bug: a 784-16-10 model trained at lr 0.05, opened while the next run's settings are
    784-32-10 at lr 0.1, was saved with the editor's settings."""
    _, summary = train_run(tiny, config(hidden=(16,), lr=0.05, epochs=1), tmp_path / "other")
    session, host = make()
    assert session.open(summary["model_path"]) and session.state is State.MODEL
    saved = session.save(tmp_path / "saved.npz")
    model, meta = models.load(saved)
    assert str(model.spec) == "784-16-10"
    assert meta["config"]["hidden"] == [16] and meta["config"]["lr"] == 0.05 and meta["data"] == "mnist-tiny"
    assert meta["run_dir"] == summary["run_dir"]


def test_a_search_and_its_winner(make, tmp_path):
    session, host = make()
    n = session.start_search(config(epochs=1), {"lr": [0.1, 1e-5]}, None, None)
    assert n == 2 and session.search.running and session.state is State.TRAINING
    host.run(session)
    s = session.search
    assert not s.running and s.result.stop == "complete" and [r["trial"] for r in s.board] == [1, 2]
    winner = s.result.winner
    assert s.offer and session.model is None  # the winner waits for the person to choose it
    assert session.use_winner() and not s.offer
    assert winner["trial"] == 1 and session.state is State.MODEL and session.run_dir == Path(winner["run_dir"])
    assert session.model_meta["config"]["lr"] == 0.1  # the winner's, though trial 2 (lr 1e-5) ran last
    _, meta = models.load(session.save(tmp_path / "winner.npz"))
    assert meta["config"]["lr"] == 0.1 and meta["metrics"]["test_accuracy"] == s.result.test_acc
    assert any("Search finished" in text or "Winner" in text for text, _ in host.notes)


def test_a_search_of_two_worker_processes_lists_their_trials_live(make):
    session, host = make()
    n = session.start_search(config(epochs=2), {"lr": [0.1, 0.05, 0.02]}, None, None, workers=2)
    assert n == 3
    live = []
    real = session.search_event

    def spy(event, run_id):
        real(event, run_id)
        live.append(len(session.search.live))

    session.search_event = spy
    host.run(session)
    s = session.search
    assert s.result.stop == "complete" and len(s.board) == 3 and s.live == {} and s.current is None
    assert max(live) >= 1 and {r["worker"] for r in s.board} <= {"w1", "w2"}
    assert session.use_winner() and session.state is State.MODEL and session.run_dir == Path(s.result.winner["run_dir"])


def test_keeping_the_model_from_before_a_search(make, make_run, tmp_path):
    """keep_current() puts back on the dashboard the run it showed before the search, not the winner."""
    session, host = make()
    run = make_run(tmp_path / "past", epochs=2)
    assert session.show_run(run)
    session.start_search(config(epochs=1), {"lr": [0.1, 1e-5]}, None, None)
    host.run(session)
    assert session.search.offer
    session.keep_current()
    assert not session.search.offer and session.state is State.MODEL and session.run_dir == run
    assert session.search.result.winner["run_dir"] != str(run)


def test_show_run_waits_for_the_run_and_needs_a_model(make, make_run, tmp_path):
    session, host = make()
    empty = tmp_path / "runs" / "nothing-here"
    empty.mkdir(parents=True)
    assert not session.show_run(empty) and "has no saved model" in host.errors()
    run = make_run(tmp_path / "past", epochs=2)
    session.start()
    assert not session.show_run(run)  # training: refused
    host.run(session)
    assert session.show_run(run) and session.state is State.MODEL and session.run_dir == run
    assert [h["epoch"] for h in host.history] == [1, 2]


def test_the_status_carries_the_thread_count_in_use(make):
    from tui.widgets.status import StatusPanel

    session, host = make(threads=1)  # an explicit count (the tests pin one BLAS thread anyway)
    session.start()
    host.run(session)
    assert session.status.threads == 1
    drawn = []
    panel = StatusPanel()
    panel.update = drawn.append
    panel.show(session.status, str(session.state))
    from rich.console import Console

    console = Console(width=60, record=True)
    console.print(drawn[-1])
    assert "/s · 1 thread" in console.export_text()
