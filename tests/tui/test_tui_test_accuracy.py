"""The status's test accuracy is measured on the test split, never copied from the dev accuracy.

A run was seen with test and dev both at 94.12%. The code was read (session.finish_run and open, the status
panel, engine.runs.Recorder.finish and train_run, engine.search's winner): the test figure always comes from
`evaluate(model, splits.test.x, splits.test.y)`. These tests make the two splits disagree on purpose (the
"test" split is the dev images with every label moved by one, so a model right on dev is wrong on test):
shown test accuracy then must be far from the dev one, and equal to an evaluation on the test split.
"""
from __future__ import annotations

import data
from engine import evaluate


def shifted(app_data) -> data.Splits:
    """The tiny splits, with a test split that is the dev images labelled (label + 1) % 10."""
    dev = app_data.dev
    wrong = data.Dataset(dev.images.copy(), ((dev.labels.astype(int) + 1) % 10).astype(dev.labels.dtype))
    return data.Splits(app_data.train, dev, wrong, "mnist-shifted")


async def test_a_runs_test_accuracy_is_measured_on_the_test_split(app_factory, app_data, ui):
    splits = shifted(app_data)
    app = app_factory(loader=lambda cfg: splits, epochs=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.train_and_finish(pilot)
        st, model = app.session.status, app.session.model
        assert st.best > 0.6 and st.test < 0.2  # far apart: not one copied from the other
        assert st.test == evaluate(model, splits.test.x, splits.test.y).accuracy
        assert st.best == evaluate(model, splits.dev.x, splits.dev.y).accuracy
        status = ui.text_of(app.query_one("#side-status"))
        assert f"test     {100 * st.test:.2f}%" in status and f"{100 * st.best:.2f}% @ epoch" in status

        await pilot.press("o")  # opened again from its file: the test figure is the run's, not dev's
        await pilot.pause()
        app.screen.query_one("#path").value = str(app.session.model_path)
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.state == "model" and app.session.status.test == st.test
