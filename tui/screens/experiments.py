"""The Experiments screen: define a search grid from the keyboard, run it in the worker while the
dashboard follows the current trial, and read the leaderboard (sortable, the best highlighted).

The search runs on the app (its worker, its Control, its dashboard), not on this screen: leaving
the screen (escape) shows the current trial training live, and coming back shows the board.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from engine import BatchEnded, ConfigError, EpochEnded, RunStarted, TrainConfig
from engine.grid import parse_grid, parse_values
from engine.runs import load_history
from engine.search import SearchFinished, SearchStarted, TrialFinished, TrialStarted, WinnerChosen, plan, search

from ..messages import EngineEvent, SearchEvent
from ..text import board_cells, duration, pct, settings_text, show_value
from ..widgets.status import RunStatus
from .editor import FieldValidator

GRID = ("hidden", "lr", "l2", "optimizer", "batch_size", "dropout", "activation", "momentum", "epochs", "patience")
EXTRA = ("trials", "budget")
ROWS = GRID + EXTRA
HINTS = {"hidden": "64,128,256-128 ('-' joins layers)", "trials": "blank: every combination; N: N at random",
         "budget": "seconds; blank: no limit", "optimizer": "sgd,momentum,nesterov,adam",
         "activation": "relu,leaky_relu,tanh,sigmoid"}
SORTS = ("rank", "trial", "dev_acc", "dev_loss", "seconds", "epochs")  # then each searched setting
BUSY = ("training", "paused", "stopping")


def parse_extra(name: str, text: str):
    """trials: blank or a whole number >= 1; budget: blank or seconds > 0."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} {text!r} is not a number") from None
    if name == "trials" and (not value.is_integer() or value < 1):
        raise ConfigError(f"trials {text}: a whole number of at least 1 (blank: every combination)")
    if name == "budget" and not 0 < value < float("inf"):
        raise ConfigError(f"budget {text}: seconds above 0 (blank: no limit)")
    return int(value) if name == "trials" else value


def check(name: str, text: str):
    return parse_extra(name, text) if name in EXTRA else parse_values(name, text)


@dataclass
class SearchSession:
    """What the Experiments screen shows; kept on the app so it outlives the screen."""

    texts: dict[str, str]
    running: bool = False
    total: int = 0
    names: list[str] = field(default_factory=list)
    board: list[dict] = field(default_factory=list)
    current: dict | None = None  # the trial training now
    result: object = None  # engine.search.SearchResult
    path: Path | None = None
    note: str = "Define the grid (enter edits a row), then press t to run the search."
    sort: str = "rank"
    reverse: bool = False
    base_id: int = 0


def default_texts(cfg: TrainConfig) -> dict[str, str]:
    texts = {name: show_value(getattr(cfg, name)) if name != "hidden" else "64,128,256" for name in GRID}
    texts["l2"] = "0,1e-4,1e-3"
    texts.update(trials="", budget="")
    return texts


def session_of(app) -> SearchSession:
    session = getattr(app, "search_session", None)
    if session is None:
        session = app.search_session = SearchSession(default_texts(app.config))
    return session


def read_form(texts: dict[str, str], config: TrainConfig):
    """(base config, space, count, budget) from the form; ConfigError naming the bad row."""
    base, space = parse_grid({name: texts.get(name, "") for name in GRID}, config)
    count, budget = parse_extra("trials", texts.get("trials", "")), parse_extra("budget", texts.get("budget", ""))
    return base, space, count, budget


# -- running a search on the app ---------------------------------------------

def start_search(app, base: TrainConfig, space: dict, count: int | None, budget: float | None) -> int:
    """Start the search in the app's worker; returns the number of trials. ConfigError if the plan is bad."""
    from .. import app as app_module

    trials = plan(base, space, count, count is not None, 0)
    s = session_of(app)
    s.running, s.total, s.names, s.board = True, len(trials), list(space), []
    s.current, s.result, s.path = None, None, None
    s.note = f"search of {len(trials)} trials started"
    app.control = app_module.Control()  # the dashboard's space and s keys steer the search
    s.base_id = app.run_id = app.run_id + 1
    app.run_config = trials[0].config
    app.model, app.run_dir, app.last_summary = None, None, None
    app.reset_board(trials[0].config)
    app.status = RunStatus(state="training", epochs=base.epochs, lr=base.lr, monitor=base.monitor,
                           patience=base.patience, note=s.note)
    app.t_start = time.monotonic()
    app.state = "training"
    app.worker = app.run_worker(partial(search_thread, app, base, space, count, budget, app.control, s.base_id,
                                        app.splits_for(base)),
                                thread=True, group="search", exclusive=True, exit_on_error=False, name="search")
    return len(trials)


def search_thread(app, base: TrainConfig, space: dict, count, budget, control, base_id: int, splits) -> None:
    """Runs in the worker thread: never touches a widget; posts SearchEvents and fills the inbox."""
    try:
        splits = app.splits_in_thread(base, splits)
        current = [base_id]

        def listener(event) -> None:
            if isinstance(event, TrialStarted):
                current[0] = base_id + event.index
            if isinstance(event, BatchEnded):
                app.inbox.append((current[0], event))
            else:
                app.post_message(SearchEvent(event, current[0]))

        result = search(splits, base, space, count=count, shuffle=count is not None, budget=budget,
                        root=app.runs_root, listener=listener, control=control)
        app.post_message(SearchEvent(result=result, run_id=current[0]))
    except Exception as e:  # shown in the app, never a traceback
        app.post_message(SearchEvent(error=e))


def handle_search_event(app, message: SearchEvent) -> None:
    """On the UI thread: follow the search on the dashboard and keep the session up to date."""
    s = session_of(app)
    if message.error is not None:
        s.running, s.current = False, None
        s.note = f"search failed: {message.error}"
        app.failed(message.error, "Search failed")
    elif message.result is not None:
        finish(app, s, message.result)
    else:
        event = message.event
        if isinstance(event, SearchStarted):
            s.path = Path(event.path)
        elif isinstance(event, TrialStarted):
            cfg = TrainConfig.from_dict(event.config)
            app.drain()
            app.run_id, app.run_config = message.run_id, cfg
            app.reset_board(cfg)
            s.current = {"index": event.index, "changes": event.changes, "epoch": 0, "epochs": cfg.epochs, "dev": None}
            s.note = f"trial {event.index}/{event.total}: {settings_text(event.changes)}"
            app.status = RunStatus(state=app.state, epochs=cfg.epochs, lr=cfg.lr, monitor=cfg.monitor,
                                   patience=cfg.patience, note=s.note)
            app.t_start = time.monotonic()
            app.show_all()
        elif isinstance(event, TrialFinished):
            s.board, s.current = list(event.board), None
            s.note = f"{len(s.board)} of {s.total} trials done"
        elif isinstance(event, WinnerChosen):
            s.note = f"winner: trial {event.row['trial']}; testing it once on the test set..."
        elif isinstance(event, SearchFinished):
            pass  # the result follows
        else:
            if isinstance(event, EpochEnded) and s.current is not None:
                s.current.update(epoch=event.epoch, dev=event.dev_acc)
            app.on_engine_event(EngineEvent(event, message.run_id))
            if isinstance(event, RunStarted) and s.current is not None:
                app.status.note = s.note  # which trial, rather than the sizes of the data
                app.show_status()
    screen = app.screen
    if isinstance(screen, ExperimentsScreen):
        screen.show_session()


def finish(app, s: SearchSession, result) -> None:
    s.running, s.current, s.result, s.board = False, None, result, list(result.board)
    app.drain()
    app.run_id += 1  # nothing late from the search thread reaches the dashboard now
    app.state = "finished"
    if result.winner:
        w = result.winner
        s.note = (f"{result.reason}. Winner: trial {w['trial']} ({settings_text({n: w[n] for n in result.names})}), "
                  f"dev {pct(w['dev_acc'])}, test {pct(result.test_acc)} (measured once)")
        show_run(app, Path(w["run_dir"]), result.model_path, pop=False)
        app.last_summary = {"test_accuracy": result.test_acc, "dev_accuracy": w["dev_acc"],
                            "best_epoch": w["best_epoch"],
                            "run_dir": w["run_dir"], "model_path": str(result.model_path)}
        app.status.note = f"search winner, trial {w['trial']}: test {pct(result.test_acc)}"
    else:
        s.note = f"{result.reason}: no trial finished an epoch, so there is no winner"
    app.status.reason = result.reason
    app.show_all()
    app.notify(s.note, title="Search finished", timeout=8)


def show_run(app, run_dir: Path, model_path: Path | None = None, pop: bool = True) -> bool:
    """Open a run's model in the dashboard, with its loss and accuracy history in the charts;
    `pop` goes back to the dashboard to show it."""
    from ..widgets.charts import MetricChart

    if app.state in BUSY:
        app.notify("Training is running: stop it (s) or let it end before opening a run.", severity="warning")
        return False
    if app.splits is None:
        app.notify("The data is still loading.", severity="warning")
        return False
    model_path = Path(model_path) if model_path else Path(run_dir) / "model.npz"
    if not model_path.is_file():
        app.notify(f"{Path(run_dir).name} has no saved model.", severity="error")
        return False
    while pop and len(app.screen_stack) > 1:
        app.pop_screen()
    app.open_model(model_path)
    if app.model is None or app.state != "model":
        return False
    history = load_history(run_dir)
    for chart in app.query(MetricChart):
        chart.reset(max([h["epoch"] for h in history] or [1]))
    loss, acc = app.query_one("#loss", MetricChart), app.query_one("#acc", MetricChart)
    for h in history:
        try:
            loss.add_epoch(h["epoch"], h["train_loss"], h["dev_loss"])
            acc.add_epoch(h["epoch"], h["train_acc"], h["dev_acc"])
        except (KeyError, TypeError):
            continue
    app.redraw_charts()
    app.run_dir = Path(run_dir)
    return True


# -- the screen ---------------------------------------------------------------

class ExperimentsScreen(ModalScreen[None]):
    """Grid form on the left, leaderboard on the right. Keys: enter edit / open, t run, space pause,
    s stop, o sort, p picture, esc back. Modal (covering the whole window), so only its own keys act."""

    DEFAULT_CSS = """
    ExperimentsScreen { background: $background; }
    #experiments-title { height: auto; padding: 0 1; background: $panel; }
    #experiments-body { height: 1fr; }
    #grid-box { width: 32; height: 1fr; }
    #grid { height: 1fr; }
    #grid-error { height: auto; }
    #board-box { width: 1fr; height: 1fr; }
    #search-status { height: auto; max-height: 6; }
    #board { height: 1fr; }
    """
    AUTO_FOCUS = "#grid"
    BINDINGS = [
        Binding("escape", "back", "dashboard"),
        Binding("t", "start", "run search"),
        Binding("space", "app.pause", "pause"),
        Binding("space", "app.resume", "resume"),
        Binding("s", "app.stop", "stop"),
        Binding("o", "sort", "sort"),
        Binding("p", "app.screenshot", "picture", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self):
        super().__init__()
        self.validator = FieldValidator(check, name="hidden")
        self.editing: str | None = None

    @property
    def session(self) -> SearchSession:
        return session_of(self.app)

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Experiments", "bold"),
                                   "  search a grid; ranked on dev, only the winner sees test"), id="experiments-title")
        with Horizontal(id="experiments-body"):
            with Vertical(id="grid-box", classes="box"):
                yield DataTable(id="grid", cursor_type="row", zebra_stripes=True)
                yield Input(id="grid-input", validators=[self.validator], placeholder="enter edits the chosen row")
                yield Static("", id="grid-error")
            with Vertical(id="board-box", classes="box"):
                yield Static("", id="search-status")
                yield DataTable(id="board", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#grid-box").border_title = "grid  enter: edit (a,b,c)"
        self.query_one("#board-box").border_title = "leaderboard  o: sort  enter: open"
        grid = self.query_one("#grid", DataTable)
        grid.add_column("setting", key="setting")
        grid.add_column("values", key="values")
        for name in ROWS:
            grid.add_row(name.replace("_", " "), self.session.texts.get(name, ""), key=name)

    def on_screen_resume(self) -> None:
        """Also runs when the screen is first shown (filling the board in on_mount too would fill it
        twice before its first render, and textual 8.2.8 then draws every column at its label's width)."""
        self.show_session()
        self.refresh_bindings()

    # -- the grid form ----------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "grid":
            name = ROWS[event.cursor_row]
            self.editing = self.validator.name = name
            box = self.query_one("#grid-input", Input)
            box.value = self.session.texts.get(name, "")
            box.placeholder = f"{name.replace('_', ' ')}: {HINTS.get(name, 'values separated by commas')}"
            box.focus()
        elif event.data_table.id == "board" and event.row_key.value is not None:
            self.open_trial(int(event.row_key.value))

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        self.show_error(result.failure_descriptions[0] if result is not None and not result.is_valid else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = self.editing
        if name is None:
            return
        try:
            check(name, event.value)
        except ConfigError as e:
            self.show_error(str(e))
            self.app.bell()
            return
        self.set_text(name, event.value.strip())
        grid = self.query_one("#grid", DataTable)
        grid.focus()
        grid.move_cursor(row=min(ROWS.index(name) + 1, len(ROWS) - 1))
        self.editing = None
        self.show_session()

    def set_text(self, name: str, text: str) -> None:
        self.session.texts[name] = text
        self.query_one("#grid", DataTable).update_cell(name, "values", text)

    def show_error(self, text: str) -> None:
        self.query_one("#grid-error", Static).update(Text(text, style="bold red"))

    # -- the leaderboard --------------------------------------------------

    def sort_key(self, row: dict):
        key = self.session.sort
        value = row.get(key)
        if key in ("dev_acc",):
            return -value if value == value else float("inf")
        if isinstance(value, (int, float)):
            return value if value == value else float("inf")
        return show_value(value) if value is not None else ""

    def show_session(self) -> None:
        s = self.session
        status = Text()
        if s.running:
            status.append("searching  ", style="bold green")
        status.append(s.note)
        if not s.running:
            try:
                base, space, count, budget = read_form(s.texts, self.app.config)
                n = len(plan(base, space, count, count is not None, 0))
                status.append(f"\nthe grid now: {n} trial{'s' * (n != 1)}"
                              + (f", budget {duration(budget)}" if budget else ""), style="dim")
            except ConfigError as e:
                status.append(f"\n{e}", style="red")
        if s.path is not None:
            status.append(f"\n{s.path}", style="dim")
        self.query_one("#search-status", Static).update(status)
        self.fill_board()
        self.refresh_bindings()

    def fill_board(self) -> None:
        s = self.session
        table = self.query_one("#board", DataTable)
        keep = None
        if table.row_count:
            try:
                keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            except Exception:
                keep = None
        table.clear(columns=True)
        columns = [("rank", "#"), ("trial", "trial"), *((n, n.replace("_", " ")) for n in s.names),
                   ("dev_acc", "dev acc"), ("dev_loss", "dev loss"), ("epochs", "epochs"), ("seconds", "time"),
                   ("stop", "ended")]
        for key, label in columns:
            arrow = (" ▲" if s.reverse else " ▼") if key == s.sort else ""
            table.add_column(label + arrow, key=key)
        rows = sorted(s.board, key=self.sort_key, reverse=s.reverse)
        for row in rows:
            best = row.get("rank") == 1
            style = "bold green" if best else ""
            cells = board_cells(row, s.names)
            if best:
                cells[0] = "★ 1"
            if row.get("test_acc") is not None:
                cells[-1] += f", test {pct(row['test_acc'])}"
            table.add_row(*(Text(c, style=style) for c in cells), key=str(row["trial"]))
        if s.current is not None:
            c = s.current
            cells = ["", str(c["index"]), *(show_value(c["changes"].get(n)) for n in s.names),
                     pct(c["dev"]) if c["dev"] is not None else "...", "", f"{c['epoch']}/{c['epochs']}", "",
                     "training"]
            table.add_row(*(Text(x, style="yellow") for x in cells), key=None)
        if keep is not None:
            try:
                table.move_cursor(row=table.get_row_index(keep))
            except Exception:
                pass

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.data_table.id != "board":
            return
        key = event.column_key.value
        s = self.session
        s.reverse = not s.reverse if s.sort == key else False
        s.sort = key
        self.fill_board()

    def action_sort(self) -> None:
        s = self.session
        order = list(SORTS) + s.names
        s.sort = order[(order.index(s.sort) + 1) % len(order)] if s.sort in order else "rank"
        s.reverse = False
        self.fill_board()
        self.notify(f"sorted by {s.sort.replace('_', ' ')}", timeout=2)

    def open_trial(self, trial: int) -> None:
        row = next((r for r in self.session.board if r["trial"] == trial), None)
        if row is not None:
            show_run(self.app, Path(row["run_dir"]))

    # -- keys -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "start":
            return (not self.session.running and self.app.state not in BUSY and self.app.splits is not None
                    and not isinstance(self.focused, Input)) or None
        if action == "sort" and isinstance(self.focused, Input):
            return False
        return True

    def action_start(self) -> None:
        if self.session.running or self.app.state in BUSY:
            self.notify("A run or search is already going.", severity="warning")
            return
        try:
            base, space, count, budget = read_form(self.session.texts, self.app.config)
            n = start_search(self.app, base, space, count, budget)
        except ConfigError as e:
            self.show_error(str(e))
            self.app.bell()
            return
        self.notify(f"Search started: {n} trials. Escape shows the dashboard following the current trial.")
        self.query_one("#board", DataTable).focus()
        self.show_session()

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#grid", DataTable).focus()
            self.editing = None
            self.show_error("")
        else:
            self.app.pop_screen()
