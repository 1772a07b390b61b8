"""The Experiments screen: define a search grid from the keyboard, run it in the worker while the
dashboard follows the current trial, and read the leaderboard (sortable, the best highlighted).

The search runs on the session (its worker, its Control, its dashboard), not on this screen: leaving
the screen (escape) shows the current trial training live, and coming back shows the board.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from engine import ConfigError, TrainConfig
from engine.grid import parse_axis, parse_grid
from engine.search import PRUNERS, SAMPLERS, choose_sampler, plan_slots

from ..session import Search
from ..text import board_cells, duration, pct, show_value
from .editor import FieldValidator
from .help import HelpScreen

GRID = ("hidden", "lr", "l2", "optimizer", "batch_size", "dropout", "activation", "momentum", "epochs", "patience")
EXTRA = ("sampler", "trials", "workers", "prune", "budget", "storage", "study")
ROWS = GRID + EXTRA
HINTS = {"hidden": "64,128,256-128 ('-' joins layers), or a range 32:512", "lr": "0.1,0.05 or a range 1e-4:0.3",
         "trials": "blank: every combination; N: N drawn by the sampler",
         "sampler": "grid | random | tpe (blank: grid, or random with trials)",
         "workers": "trials at once, each in its own process (1: in the app)",
         "prune": "off | median | halving: stop hopeless trials on their dev accuracy",
         "storage": "blank: a journal in the search directory; a file, sqlite:///, postgresql://",
         "study": "blank: the search directory's name; the same name and settings join a study",
         "budget": "seconds; blank: no limit", "optimizer": "sgd,momentum,nesterov,adam",
         "activation": "relu,leaky_relu,tanh,sigmoid"}
SORTS = ("rank", "trial", "dev_acc", "dev_loss", "seconds", "epochs")  # then each searched setting


def parse_extra(name: str, text: str):
    """trials: blank or a whole number >= 1; budget: blank or seconds > 0; workers: 1-64; sampler, prune:
    a choice (blank: the default); storage, study: text (blank: the default)."""
    text = text.strip()
    if name in ("storage", "study"):
        return text or None
    if name == "sampler":
        if text and text not in SAMPLERS:
            raise ConfigError(f"sampler {text!r} is not one of {', '.join(SAMPLERS)} "
                              "(blank: grid, or random with trials)")
        return text or None
    if name == "prune":
        if text and text not in ("off",) + PRUNERS:
            raise ConfigError(f"prune {text!r} is not one of off, {', '.join(PRUNERS)}")
        return None if text in ("", "off") else text
    if not text:
        return 1 if name == "workers" else None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} {text!r} is not a number") from None
    if name == "trials" and (not value.is_integer() or value < 1):
        raise ConfigError(f"trials {text}: a whole number of at least 1 (blank: every combination)")
    if name == "workers" and (not value.is_integer() or not 1 <= value <= 64):
        raise ConfigError(f"workers {text}: a whole number from 1 to 64")
    if name == "budget" and not 0 < value < float("inf"):
        raise ConfigError(f"budget {text}: seconds above 0 (blank: no limit)")
    return value if name == "budget" else int(value)


def check(name: str, text: str):
    return parse_extra(name, text) if name in EXTRA else parse_axis(name, text)


def default_texts(cfg: TrainConfig) -> dict[str, str]:
    texts = {name: show_value(getattr(cfg, name)) if name != "hidden" else "64,128,256" for name in GRID}
    texts["l2"] = "0,1e-4,1e-3"
    texts.update(sampler="", trials="", workers="1", prune="off", budget="", storage="", study="")
    return texts


def read_form(texts: dict[str, str], config: TrainConfig):
    """(base config, space, count, budget, options) from the form; ConfigError naming the bad row. `options`
    are the sampler, workers, prune, storage and study for Session.start_search."""
    base, space = parse_grid({name: texts.get(name, "") for name in GRID}, config)
    extra = {name: parse_extra(name, texts.get(name, "")) for name in EXTRA}
    count, budget = extra.pop("trials"), extra.pop("budget")
    return base, space, count, budget, extra


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
    def search(self) -> Search:
        """The search's form and board, on the session (they outlive this screen)."""
        search = self.app.session.search
        if not search.texts:
            search.texts.update(default_texts(self.app.session.config))
        return search

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Experiments", "bold"), "  search on Optuna; ranked on dev, only the winner "
                                   "sees test"), id="experiments-title")
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
            grid.add_row(name.replace("_", " "), self.search.texts.get(name, ""), key=name)

    def on_screen_resume(self) -> None:
        """Also runs when the screen is first shown (filling the board in on_mount too would fill it
        twice before its first render, and textual 8.2.8 then draws every column at its label's width)."""
        self.session_changed()
        self.refresh_bindings()

    # -- the grid form ----------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "grid":
            name = ROWS[event.cursor_row]
            self.editing = self.validator.name = name
            box = self.query_one("#grid-input", Input)
            box.value = self.search.texts.get(name, "")
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
        self.session_changed()

    def set_text(self, name: str, text: str) -> None:
        self.search.texts[name] = text
        self.query_one("#grid", DataTable).update_cell(name, "values", text)

    def show_error(self, text: str) -> None:
        self.query_one("#grid-error", Static).update(Text(text, style="bold red"))

    # -- the leaderboard --------------------------------------------------

    def sort_key(self, row: dict):
        key = self.search.sort
        value = row.get(key)
        if key in ("dev_acc",):
            return -value if value == value else float("inf")
        if isinstance(value, (int, float)):
            return value if value == value else float("inf")
        return show_value(value) if value is not None else ""

    def session_changed(self) -> None:
        s = self.search
        status = Text()
        if s.running:
            status.append("searching  ", style="bold green")
        status.append(s.note)
        if s.running and s.study:
            best = next((r for r in s.board if r.get("state", "complete") == "complete"), None)
            pruned = sum(r.get("state") == "pruned" for r in s.board)
            status.append(f"\n{len(s.live)} running" + (f", {pruned} pruned" if pruned else "")
                          + (f", best so far {pct(best['dev_acc'])} (trial {best['trial']})" if best else ""))
            status.append(f"\n{s.study}", style="dim")
        if not s.running:
            try:
                base, space, count, budget, options = read_form(s.texts, self.app.session.config)
                sampler = choose_sampler(space, options["sampler"], count)
                n = len(plan_slots(base, space, sampler, count, count is not None, 0))
                status.append(f"\nthe plan now: {n} trial{'s' * (n != 1)}, {sampler}, {options['workers']} worker"
                              f"{'s' * (options['workers'] > 1)}, " + (f"{options['prune']} pruning" if
                                                                        options["prune"] else "no pruning")
                              + (f", budget {duration(budget)}" if budget else ""), style="dim")
            except ConfigError as e:
                status.append(f"\n{e}", style="red")
        if s.path is not None:
            status.append(f"\n{s.path}", style="dim")
        self.query_one("#search-status", Static).update(status)
        self.fill_board()
        self.refresh_bindings()

    def fill_board(self) -> None:
        s = self.search
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
        workers = {r.get("worker") for r in s.board} | {r.get("worker") for r in s.live.values()}
        if len(workers - {None, ""}) > 1:
            columns.append(("worker", "worker"))
        for key, label in columns:
            arrow = (" ▲" if s.reverse else " ▼") if key == s.sort else ""
            table.add_column(label + arrow, key=key)
        rows = sorted(s.board, key=self.sort_key, reverse=s.reverse)
        wide = len(columns)
        for row in rows:
            best = row.get("rank") == 1 and row.get("state", "complete") == "complete"
            style = "bold green" if best else "dim" if row.get("state") in ("pruned", "failed") else ""
            cells = board_cells(row, s.names)
            if best:
                cells[0] = "★ 1"
            if row.get("state") == "pruned":
                cells[-1] = f"pruned at {row['epochs']}"
            if row.get("test_acc") is not None:
                cells[-1] += f", test {pct(row['test_acc'])}"
            cells += [row.get("worker", "")] * (wide - len(cells))
            table.add_row(*(Text(c, style=style) for c in cells), key=str(row["trial"]))
        for index in sorted(s.live):
            c = s.live[index]
            cells = ["", str(c["index"]), *(show_value(c["changes"].get(n)) for n in s.names),
                     pct(c["dev"]) if c["dev"] is not None else "...", "", f"{c['epoch']}/{c['epochs']}", "",
                     "training"]
            cells += [c.get("worker", "")] * (wide - len(cells))
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
        s = self.search
        s.reverse = not s.reverse if s.sort == key else False
        s.sort = key
        self.fill_board()

    def action_sort(self) -> None:
        s = self.search
        order = list(SORTS) + s.names
        s.sort = order[(order.index(s.sort) + 1) % len(order)] if s.sort in order else "rank"
        s.reverse = False
        self.fill_board()
        self.notify(f"sorted by {s.sort.replace('_', ' ')}", timeout=2)

    def open_trial(self, trial: int) -> None:
        row = next((r for r in self.search.board if r["trial"] == trial), None)
        if row is not None and self.app.session.show_run(Path(row["run_dir"])):
            self.app.pop_screen()  # back to the dashboard, which shows that trial

    # -- keys -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "start":
            session = self.app.session
            return (not self.search.running and not session.state.busy and session.splits is not None
                    and not isinstance(self.focused, Input)) or None
        if action == "sort" and isinstance(self.focused, Input):
            return False
        return True

    def action_start(self) -> None:
        if self.search.running or self.app.session.state.busy:
            self.notify("A run or search is already going.", severity="warning")
            return
        try:
            base, space, count, budget, options = read_form(self.search.texts, self.app.session.config)
            n = self.app.session.start_search(base, space, count, budget, **options)
        except ConfigError as e:
            self.show_error(str(e))
            self.app.bell()
            return
        self.notify(f"Search started: {n} trials. Escape shows the dashboard following the current trial.")
        self.query_one("#board", DataTable).focus()
        self.session_changed()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.app.BINDINGS))

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#grid", DataTable).focus()
            self.editing = None
            self.show_error("")
        else:
            self.app.pop_screen()
