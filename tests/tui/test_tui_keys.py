"""Every key of the dashboard, pressed through Pilot, each with an effect someone would see."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from tui.app import VIEWS, NNTuiApp
from tui.screens.help import HelpScreen
from tui.widgets.charts import MetricChart
from tui.widgets.confusion import ConfusionPanel
from tui.widgets.digits import DigitsPanel
from tui.widgets.status import StatusPanel


async def test_keys_that_make_no_sense_are_hidden(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        idle = ui.keys(app)
        assert idle["t"] == "train" and "e" in idle and "o" in idle and "q" in idle
        for key in ("space", "s", "n", "w"):
            assert key not in idle, f"{key} shown while idle"
        assert app.check_action("pause", ()) is False and app.check_action("resume", ()) is False
        assert app.check_action("train", ()) is True

        await pilot.press("t")
        assert app.session.state == "training"
        training = ui.keys(app)
        assert training["space"] == "pause" and training["s"] == "stop"
        assert "t" not in training and "o" not in training and "n" not in training

        await pilot.press("space")
        assert app.session.state == "paused"
        assert ui.keys(app)["space"] == "resume"
        await pilot.press("s")
        await ui.finished(pilot)
        done = ui.keys(app)
        assert done["t"] == "train" and done["n"] == "new_run"
        assert "space" not in done and "s" not in done


async def test_t_trains_a_run_to_the_end(app_factory, runs_root, ui):
    app = app_factory(epochs=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        assert app.query_one(ConfusionPanel).matrix is None
        await pilot.press("t")
        assert app.session.state in ("training", "finished")  # a 3-epoch run on 1,000 digits may already be over
        await ui.finished(pilot)
        assert app.session.state == "finished"
        assert app.session.status.epoch == 3 and app.session.status.reason == "max epochs (3) reached"
        [run] = list(runs_root.iterdir())
        assert app.session.run_dir == run
        summary = json.loads((run / "summary.json").read_text())
        assert summary["epochs"] == 3 and 0 < summary["test_accuracy"] <= 1
        assert (run / "model.npz").is_file() and (run / "metrics.jsonl").read_text().count("\n") == 3
        # the board shows the run
        assert app.session.model is not None
        assert app.query_one(ConfusionPanel).matrix.sum() == 300
        assert app.query_one(DigitsPanel).proba.shape == (300, 10)
        assert len(app.query_one("#loss", MetricChart).dev) == 3
        status = ui.text_of(app.query_one("#side-status", StatusPanel))
        assert "finished 3/3" in status and re.search(r"test\s+\d+\.\d\d%", status) and run.name in status


async def test_t_shows_training_then_a_run_directory(app_factory, slow, runs_root, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        assert app.session.state == "training"
        assert "training" in ui.text_of(app.query_one("#side-status", StatusPanel))
        await ui.wait_for(pilot, lambda: runs_root.exists() and list(runs_root.glob("*/config.json")), 5,
                          "the run directory")
        await ui.epochs_done(pilot, 1)
        assert app.query_one(ConfusionPanel).matrix is not None
        await pilot.press("s")
        await ui.finished(pilot)


async def test_space_pauses_the_engine_and_resumes_it(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        await ui.wait_for(pilot, lambda: app.session.control.batches > 5, 5, "some batches")
        await pilot.press("space")
        assert app.session.state == "paused" and app.session.control.paused
        assert "paused" in ui.text_of(app.query_one("#side-status", StatusPanel))
        await pilot.pause(0.1)  # the batch under way when the key came ends
        before = app.session.control.batches
        await pilot.pause(0.4)  # ~30 batches' time at the slowed speed
        assert app.session.control.batches == before, "the engine kept training while paused"

        await pilot.press("space")
        assert app.session.state == "training" and not app.session.control.paused
        await ui.wait_for(pilot, lambda: app.session.control.batches > before + 3, 5, "training to go on after resume")
        await pilot.press("s")
        await ui.finished(pilot)


async def test_s_stops_and_keeps_the_best_model(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        await ui.epochs_done(pilot, 1)
        await pilot.press("s")
        assert app.session.state in ("stopping", "finished")
        assert "Stopping" in ui.shown(app)
        await ui.finished(pilot)
        assert app.session.state == "finished"
        result = app.session.worker.result[0]
        assert result.stop == "stopped" and result.best_epoch >= 1
        assert "stopped by user" in app.session.status.reason
        assert app.session.model is result.model
        summary = json.loads((app.session.run_dir / "summary.json").read_text())
        assert summary["stop"] == "stopped" and summary["model_path"] and (app.session.run_dir / "model.npz").is_file()
        assert "stopped by user" in ui.text_of(app.query_one("#side-status", StatusPanel))


async def test_s_while_paused_ends_the_run(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t", "space")
        assert app.session.state == "paused"
        await pilot.press("s")
        await ui.finished(pilot)
        assert app.session.state == "finished" and app.session.worker.result[0].stop == "stopped"


async def test_n_clears_the_board_after_a_run(app_factory, ui):
    app = app_factory(epochs=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        assert app.query_one(ConfusionPanel).matrix is not None
        await pilot.press("n")
        assert app.session.state == "idle"
        assert app.session.model is None and app.session.run_config is None
        assert app.query_one(ConfusionPanel).matrix is None
        assert app.query_one(DigitsPanel).proba is None
        for chart in app.query(MetricChart):
            assert not chart.batch_x and not chart.dev
        assert "new run" in ui.text_of(app.query_one("#side-status", StatusPanel))
        assert "n" not in ui.keys(app)
        await pilot.press("t")  # and a new run starts from there
        await ui.finished(pilot)
        assert app.session.state == "finished" and app.session.run_id == 2


async def test_d_pages_through_the_digits(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        panel = app.query_one(DigitsPanel)
        await pilot.press("d")
        assert app.view == VIEWS.index("digits-box")  # compact: the digits come into view
        await pilot.pause()
        assert panel.shown > 0
        start = panel.start
        assert f"dev digits {start + 1}-" in ui.text_of(panel)
        await pilot.press("d")
        await pilot.pause()
        assert panel.start == start + panel.shown
        assert f"dev digits {panel.start + 1}-" in ui.text_of(panel)


async def test_m_without_predictions_warns(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("m")
        assert "no predictions yet" in ui.shown(app, "warning")
        assert not app.query_one(DigitsPanel).mistakes_only


async def test_m_shows_only_mistakes_after_a_run(app_factory, ui):
    app = app_factory(epochs=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        panel = app.query_one(DigitsPanel)
        await pilot.press("m")
        await pilot.pause()
        assert panel.mistakes_only and "Showing mistakes only." in ui.shown(app)
        wrong = panel.indices()
        assert 0 < len(wrong) < 300
        assert np.all(panel.proba[wrong].argmax(axis=1) != panel.labels[wrong])
        assert "mistakes only" in ui.text_of(panel) and "✗" in ui.text_of(panel)
        await pilot.press("m")
        assert not panel.mistakes_only and len(panel.indices()) == 300


async def test_v_cycles_the_panels_in_compact_layout(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        assert not app.wide and ui.keys(app)["v"] == "next_view"

        def showing():
            return [name for name in VIEWS if app.query_one(f"#{name}").display and
                    app.query_one(f"#{name}").region.area]

        assert showing() == ["confusion-box"]
        for expected in ("digits-box", "settings-box", "health-box", "confusion-box"):
            await pilot.press("v")
            await pilot.pause()
            assert showing() == [expected]


async def test_v_is_hidden_in_wide_layout(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(160, 50)) as pilot:
        await ui.loaded(pilot)
        assert app.wide
        assert "v" not in ui.keys(app) and app.check_action("next_view", ()) is False
        for name in VIEWS:
            assert app.query_one(f"#{name}").region.area, f"{name} not shown in the wide layout"
        assert app.query_one("#status-box").region.area and not app.query_one("#side-status-box").region.area
        view = app.view
        await pilot.press("v")
        assert app.view == view
        await pilot.resize_terminal(80, 24)  # shrinking brings the key back
        await pilot.pause()
        assert not app.wide and "v" in ui.keys(app)


class Cells(NNTuiApp):
    """The app, keeping the cells the confusion matrix asks for."""

    chosen: list

    def on_confusion_panel_cell_chosen(self, message: ConfusionPanel.CellChosen) -> None:
        self.chosen = [*getattr(self, "chosen", []), (message.true, message.pred)]


async def test_c_focuses_the_confusion_matrix_and_arrows_move(app_factory, ui):
    app = app_factory(cls=Cells, epochs=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        await pilot.press("v")  # away from the matrix: c brings it back
        await pilot.press("c")
        panel = app.query_one(ConfusionPanel)
        assert panel.has_focus and app.view == VIEWS.index("confusion-box")
        assert panel.cursor == (4, 9)
        await pilot.press("up", "right", "right")
        assert panel.cursor == (3, 1)  # wraps from column 9 to 0, then 1
        await pilot.pause()
        assert "cursor: true 3, predicted 1" in ui.text_of(panel)
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen == [(3, 1)]


async def test_question_mark_opens_help_and_escape_closes_it(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen) and app.is_running
        await pilot.press("question_mark")
        await pilot.pause()
        scroll = app.screen.query_one("#help")
        if scroll.max_scroll_y:  # at 80x24 the help is taller than the screen: the keyboard scrolls it
            await pilot.press("end")
            await pilot.pause()
            assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("q")  # q closes the help, it does not quit
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen) and app.is_running


async def test_q_quits_when_idle(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_q_while_training_stops_the_run_cleanly(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        await ui.epochs_done(pilot, 1)
        await pilot.press("q")
        await ui.wait_for(pilot, lambda: not app.is_running, 10, "the app to quit")
    worker = app.session.worker
    assert worker.is_finished and worker.result is not None
    result, summary = worker.result
    assert result.stop == "stopped"
    run = Path(summary["run_dir"])
    assert run.parent == app.session.runs_root
    assert json.loads((run / "summary.json").read_text())["stop"] == "stopped"
    assert (run / "model.npz").is_file()


def test_the_footer_the_help_and_the_readme_list_the_same_keys():
    """One list of keys, the app's bindings: the help screen is built from them and the README's table
    must name the same keys in the same order."""
    import re
    from pathlib import Path

    from tui.screens.help import key_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### Keys", 1)[1].split("\n\n", 2)[1]
    listed = re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)
    helped = [key for key, _ in key_table(NNTuiApp.BINDINGS)]
    assert listed == helped
    footer = {b.key_display or b.key for b in NNTuiApp.BINDINGS if b.show}
    assert footer <= set(helped)
