"""Opening a model (o, --model FILE) shows that model's own run: its history in the charts (never the previous
run's), its best epoch and accuracy, its own patience and settings, its test accuracy; a bare file says it has
no history, a damaged metrics.jsonl is read around."""
from __future__ import annotations

import shutil

import models
from engine import TrainConfig
from engine.runs import train_run
from tui.app import make_app


def other_run(app_data, root):
    """A 784-16-10 run of 4 epochs, patience 7, lr 0.05, batch 32: unlike the app's own settings."""
    cfg = TrainConfig(hidden=(16,), lr=0.05, epochs=4, batch_size=32, schedule="constant", patience=7, seed=1)
    return train_run(app_data, cfg, root)


def chart_epochs(app) -> list[int]:
    return [e for e, _ in app.query_one("#loss").dev]


async def open_typed(pilot, path) -> None:
    await pilot.press("o")
    await pilot.pause()
    box = pilot.app.screen.query_one("#path")
    box.value = str(path)
    await pilot.press("enter")
    await pilot.pause()


async def test_o_replaces_the_charts_with_the_models_own_history_and_numbers(app_factory, app_data, tmp_path, ui):
    result, summary = other_run(app_data, tmp_path / "elsewhere")
    app = app_factory(epochs=2, patience=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.train_and_finish(pilot)
        assert chart_epochs(app) == [1, 2]  # the app's own run
        await open_typed(pilot, summary["model_path"])
        assert app.session.state == "model"
        assert chart_epochs(app) == [1, 2, 3, 4]  # the opened model's run, not the previous one's
        assert not app.query_one("#loss").batch_x  # no batch line left over from the previous run
        assert app.query_one("#acc").best_at == summary["best_epoch"]
        status = ui.text_of(app.query_one("#side-status"))
        best = f"{100 * summary['dev_accuracy']:.2f}% @ epoch {summary['best_epoch']}"
        assert best in status, status
        assert "/7 used" in status and "/3 used" not in status  # its own patience
        assert f"test     {100 * summary['test_accuracy']:.2f}%" in status
        title = ui.text_of(app.query_one("#title"))
        assert "784-16-10" in title and "lr 0.05" in title and "batch 32" in title
        assert "no history" not in ui.shown(app)


async def test_model_flag_opens_with_its_history(app_data, loader, runs_root, tmp_path, ui):
    _, summary = other_run(app_data, tmp_path / "elsewhere")
    cfg = TrainConfig(hidden=(32,), epochs=3, batch_size=64, lr=0.1, schedule="constant", patience=0)
    app = make_app(cfg, loader=loader, runs_root=runs_root, model_path=summary["model_path"])
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.wait_for(pilot, lambda: app.session.state == "model", 10, "the model to open")
        await pilot.pause()
        assert chart_epochs(app) == [1, 2, 3, 4]
        status = ui.text_of(app.query_one("#side-status"))
        assert "best acc -" not in status and f"@ epoch {summary['best_epoch']}" in status
        assert "/7 used" in status and "test" in status


async def test_a_bare_model_file_clears_the_charts_and_says_it_has_no_history(app_factory, tmp_path, ui):
    app = app_factory(epochs=2)
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.train_and_finish(pilot)
        bare = tmp_path / "bare.npz"
        models.save(bare, app.session.model, {"config": app.session.config.to_dict()})  # no run_dir, no metrics
        await pilot.press("n")
        await pilot.press("t")
        await ui.finished(pilot)
        assert chart_epochs(app) == [1, 2]
        await open_typed(pilot, bare)
        assert app.session.state == "model"
        assert chart_epochs(app) == [] and not app.query_one("#loss").batch_x
        assert app.query_one("#confusion").matrix is not None  # its predictions are shown
        status = ui.text_of(app.query_one("#side-status"))
        assert "no training history" in " ".join(status.split())
        assert "no history" in ui.shown(app)


async def test_a_damaged_history_is_read_around_with_a_message(app_factory, app_data, tmp_path, ui):
    _, summary = other_run(app_data, tmp_path / "elsewhere")
    run = tmp_path / "copy"
    shutil.copytree(summary["run_dir"], run)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    lines[1] = "{not json"
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.loaded(pilot)
        await open_typed(pilot, run / "model.npz")
        assert app.session.state == "model"
        assert chart_epochs(app) == [1, 3, 4]
        warning = ui.shown(app, "warning")
        assert "metrics.jsonl: 1 unreadable line (first: 2): skipped" in warning
        assert "Traceback" not in ui.shown(app)


async def test_a_copy_saved_with_w_brings_its_runs_history(app_factory, app_data, tmp_path, ui):
    _, summary = other_run(app_data, tmp_path / "elsewhere")
    model, meta = models.load(summary["model_path"])
    copy = tmp_path / "mine.npz"
    models.save(copy, model, {k: v for k, v in meta.items() if k not in ("format", "version", "spec", "sha256")})
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.loaded(pilot)
        await open_typed(pilot, copy)
        assert chart_epochs(app) == [1, 2, 3, 4]
        assert f"test     {100 * summary['test_accuracy']:.2f}%" in ui.text_of(app.query_one("#side-status"))
