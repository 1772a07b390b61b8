"""The dashboard's doors to experiments: x (search, the Experiments screen), r (past runs, the Runs
screen) and p (an SVG screenshot of the current screen).

Mixed into NNTuiApp. A search runs on the app like a training run: its worker, its Control (so
space and s steer it), its dashboard (which follows the current trial).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .messages import SearchEvent


class ExperimentActions:
    screenshot_dir: Path | None = None  # where p saves pictures (default: the working directory)

    def action_experiments(self) -> None:
        from .screens.experiments import ExperimentsScreen

        self.push_screen(ExperimentsScreen())

    def action_runs(self) -> None:
        from .screens.runs import RunsScreen

        self.push_screen(RunsScreen())

    def action_screenshot(self) -> None:
        name = type(self.screen).__name__.removesuffix("Screen").lower() or "dashboard"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path(self.screenshot_dir or Path.cwd())
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(f"nn-tui-{name}-{stamp}.svg", str(folder))
        except OSError as e:
            self.notify(f"Cannot save a screenshot in {folder}: {e.strerror or e}", severity="error")
            return
        self.notify(f"Screenshot saved: {Path(path).resolve()}", title="Picture", timeout=8)

    def on_search_event(self, message: SearchEvent) -> None:
        from .screens.experiments import handle_search_event

        handle_search_event(self, message)
