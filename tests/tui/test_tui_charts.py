"""The loss and accuracy charts: round ticks, an x axis fitted to the epochs run, the best epoch starred,
smoothing, log scale, marks, and a legend on a row of its own (what a person reads on the chart)."""
from __future__ import annotations

import math
from itertools import pairwise

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal

from tui.widgets.charts import MetricChart, epoch_axis, log_ticks, nice_ticks, smooth, tick_label

BRAILLE = {chr(c) for c in range(0x2801, 0x2900)}


@pytest.mark.parametrize("low, high, count, expected", [
    (0.0, 0.264, 6, [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]),
    (0.0, 0.264, 3, [0.0, 0.1, 0.2]),
    (92.3, 100.0, 4, [94.0, 96.0, 98.0, 100.0]),
    (0.0, 2.3, 2, [0.0, 2.0]),
])
def test_ticks_are_round_numbers_inside_the_range(low, high, count, expected):
    ticks = nice_ticks(low, high, count)
    assert ticks == pytest.approx(expected)
    assert all(low <= t <= high for t in ticks)


def test_tick_labels_have_the_decimals_of_their_step_only():
    assert [tick_label(t, 0.05) for t in (0.0, 0.05, 0.1)] == ["0.00", "0.05", "0.10"]
    assert [tick_label(t, 2.0) for t in (94.0, 96.0)] == ["94", "96"]
    assert tick_label(0.5, 0.5) == "0.5"


def test_log_ticks_are_1_2_5_per_decade_and_thin_out():
    assert log_ticks(0.015, 0.6, 6) == pytest.approx([0.02, 0.05, 0.1, 0.2, 0.5])
    assert log_ticks(0.015, 0.6, 3) == pytest.approx([0.03, 0.1, 0.3])
    assert log_ticks(0.015, 0.6, 1) == pytest.approx([0.1])  # 1s only (0.01 is out of range)
    assert log_ticks(1e-4, 10, 3) == pytest.approx([1e-4, 1e-2, 1])


def test_smoothing_is_a_debiased_moving_average():
    xs = [i / 10 for i in range(50)]
    assert smooth(xs, [3.0] * 50, 0.5) == pytest.approx([3.0] * 50)  # debiased: no pull towards 0 at the start
    step = smooth(xs, [0.0] * 25 + [1.0] * 25, 0.5)
    assert step[0] == 0 and step[24] == pytest.approx(0)
    assert step[25] == pytest.approx(1 - math.exp(-0.2))  # one step of 0.1 with tau 0.5
    assert 0.98 < step[-1] < 1 and all(a <= b for a, b in pairwise(step[25:]))


def test_the_x_axis_spans_the_epochs_run_so_far():
    assert [epoch_axis(x) for x in (0, 0.3, 1.0, 1.01, 6.0)] == [1, 1, 1, 2, 6]


class Charts(App):
    def __init__(self, fill):
        super().__init__()
        self.fill = fill

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield MetricChart("loss", id="loss")
            yield MetricChart("accuracy %", percent=True, id="acc")

    def on_mount(self) -> None:
        for chart in self.query(MetricChart):
            self.fill(chart)
            chart.redraw()


def early_stopped(chart: MetricChart, best: int = 3, stopped: int = 6, epochs: int = 30) -> None:
    """A run early-stopped after `stopped` of `epochs`, best dev at epoch `best`."""
    chart.reset(epochs)
    for i in range(1, stopped * 20 + 1):
        x = i / 20
        chart.add_batch(x, 0.5 * math.exp(-x) + 0.05 * (i % 3) if not chart.percent else 0.9 + 0.01 * math.log1p(x))
    for e in range(1, stopped + 1):
        dev = 0.2 + 0.01 * abs(e - best)
        chart.add_epoch(e, 0.1 / e, dev if not chart.percent else 0.99 - 0.01 * abs(e - best))


def lines(chart: MetricChart) -> list[str]:
    """The chart as the screen shows it, one string a row."""
    console = chart.app.console
    return ["".join(seg.text for seg in line)
            for line in console.render_lines(chart.render(), console.options.update_width(chart.size.width))]


async def test_an_early_stopped_run_fills_the_width_and_stars_its_best_epoch():
    app = Charts(early_stopped)
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        loss, acc = app.query_one("#loss", MetricChart), app.query_one("#acc", MetricChart)
        text = lines(loss)
        assert text[0].startswith("loss") and "★ best @3" in text[0] and "◆ dev" in text[0]
        assert not BRAILLE & set(text[0])  # the legend row is outside the plot: no curve drawn on it
        ticks = text[-1].split()
        assert ticks[0] == "0" and ticks[-1] == "6"  # 6 of 30 epochs run: the axis ends at 6
        assert "★" in "".join(text[1:]) and "★" in "".join(lines(acc)[1:])
        assert "best @3" in lines(acc)[0]
        # round y labels: every label has at most two decimals, steps equal
        labels = [line.split("┤")[0].strip() for line in text if "┤" in line]
        assert len(labels) >= 3 and all(len(lab.split(".")[-1]) <= 2 for lab in labels)
        values = [float(lab) for lab in labels]
        assert len({round(a - b, 9) for a, b in pairwise(values)}) == 1


async def test_charts_at_80_columns_keep_more_than_three_plot_rows_and_a_legend_that_fits():
    app = Charts(early_stopped)
    async with app.run_test(size=(80, 8)) as pilot:  # the height the dashboard gives them at 80x24
        await pilot.pause()
        for chart in app.query(MetricChart):
            text = lines(chart)
            plot_rows = [line for line in text[1:] if "┤" in line or "│" in line]
            assert len(plot_rows) >= 4, text
            assert len(text[0].rstrip()) <= chart.size.width and "★" in text[0]


async def test_log_scale_smoothing_and_marks_toggle_what_is_drawn():
    def with_mark(chart):
        early_stopped(chart)
        chart.add_mark(MetricChart.progress(3, 50, 100), "lr 0.05")

    app = Charts(with_mark)
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        loss = app.query_one("#loss", MetricChart)
        assert "━ smoothed" in lines(loss)[0] and "┊ change" in lines(loss)[0]
        assert loss.marks == [(2.5, "lr 0.05")]
        assert "┴" in lines(loss)[-2]  # the mark crosses the x axis at 2.5 epochs
        assert loss.toggle_log() and loss.toggle_smoothing() is False
        loss.redraw()
        await pilot.pause()
        text = lines(loss)
        assert text[0].startswith("loss (log)") and "⠤" in text[0] and "━" not in text[0]
        labels = [line.split("┤")[0].strip() for line in text if "┤" in line]
        assert len(labels) >= 3 and all(f"{float(lab):.0e}"[0] in "125" for lab in labels), labels  # 1-2-5 a decade


async def test_the_app_can_star_the_monitored_best_epoch_on_both_charts():
    def fill(chart):
        early_stopped(chart, best=3)
        chart.best_at = 5  # e.g. monitor dev_loss while accuracy peaked at 3

    app = Charts(fill)
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        for chart in app.query(MetricChart):
            assert "best @5" in lines(chart)[0]

