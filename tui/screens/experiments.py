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
HINTS = {"hidden": "hidden sizes to try, comma-separated: 64,128,256-128 ('-' joins layers of one network), "
                   "or a range 32:512; each one is a trial",
         "lr": "learning rates to try: 0.1,0.05 or a range 1e-4:0.3",
         "trials": "blank: every combination; N: N drawn by the sampler",
         "sampler": "grid | random | tpe (blank: grid, or random with trials)",
         "workers": "trials at once, each in its own process (1: in the app)",
         "prune": "off | median | halving: stop hopeless trials on their dev accuracy",
         "storage": "blank: a journal in the search directory; a file, sqlite:///, postgresql://",
         "study": "blank: the search directory's name; the same name and settings join a study",
         "budget": "seconds; blank: no limit", "optimizer": "sgd,momentum,nesterov,adam",
         "activation": "relu,leaky_relu,tanh,sigmoid"}
LABELS = {"hidden": "hidden sizes", "batch_size": "batch size"}  # the grid's row names
# why a trial ended, in the leaderboard's narrow column
ENDED_SHORT = {"max-epochs": "max ep", "early-stopped": "early", "stopped": "stopped", "pruned": "pruned",
               "diverged": "diverged", "error": "failed", "failed": "failed", "lost": "lost", "budget": "budget",
               "unfinished": "unfinished"}
# leaderboard columns dropped first when the window is narrow (never cut): least telling first
DROP_ORDER = ("dev_loss", "seconds", "worker", "trial", "epochs", "test_acc", "stop")
HEADERS = {"rank": "#", "trial": "trial", "dev_acc": "dev acc", "dev_loss": "dev loss", "epochs": "epochs",
           "seconds": "time", "stop": "ended", "test_acc": "test", "worker": "worker"}
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


# -- when a search ends ------------------------------------------------------

class WinnerScreen(ModalScreen[bool]):
    """Asked when a search ends with a winner: show it on the dashboard (True), or keep what the dashboard
    showed before the search (False)."""

    DEFAULT_CSS = """
    WinnerScreen { align: center middle; }
    #winner { width: 72; max-width: 100%; height: auto; border: thick $primary; padding: 1 2; background: $panel; }
    """
    BINDINGS = [Binding("u,enter", "choose(True)", "use the winner"),
                Binding("k,escape", "choose(False)", "keep current")]

    def __init__(self, note: str, before: str):
        super().__init__()
        self.note, self.before = note, before

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Search finished\n", "bold"), f"{self.note}\n\n",
                                   ("u", "bold"), " or ", ("enter", "bold"), ": use the winner on the dashboard\n",
                                   ("k", "bold"), " or ", ("esc", "bold"), f": keep current ({self.before})\n",
                                   ("The winner stays saved in the search directory either way.", "dim")),
                     id="winner")
        yield Footer(compact=True)

    def action_choose(self, use: bool) -> None:
        self.dismiss(use)


def ask_winner(app) -> None:
    """If a finished search's winner waits for a decision, ask once (the app calls this on every change)."""
    session = app.session
    if not session.search.offer or any(isinstance(s, WinnerScreen) for s in app.screen_stack):
        return
    run_dir, model_path = session.search.before
    before = (f"{Path(run_dir).name}" if run_dir is not None else f"{Path(model_path).name}" if model_path
              else "an empty dashboard")

    def chosen(use: bool | None) -> None:
        if use:
            session.use_winner()
        else:
            session.keep_current()

    app.push_screen(WinnerScreen(session.search.note, before), chosen)


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
    #grid-hint { height: auto; max-height: 5; color: $text-muted; }
    #board-box { width: 1fr; height: 1fr; }
    #search-status { height: auto; max-height: 6; }
    #board { height: 1fr; }
    #board-note { height: auto; color: $text-muted; }
    """
    AUTO_FOCUS = "#grid"
    BINDINGS = [
        Binding("escape", "back", "dashboard"),
        Binding("tab", "focus_next", "grid ⇄ board"),
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
        yield Static(Text.assemble(("Experiments", "bold"), " Optuna search, ranked on dev (test: winner only) ",
                                   ("tab: grid ⇄ board", "bold")), id="experiments-title")
        with Horizontal(id="experiments-body"):
            with Vertical(id="grid-box", classes="box"):
                yield DataTable(id="grid", cursor_type="row", zebra_stripes=True)
                yield Input(id="grid-input", validators=[self.validator], placeholder="enter: edit this row")
                yield Static("", id="grid-error")
                yield Static("", id="grid-hint")
            with Vertical(id="board-box", classes="box"):
                yield Static("", id="search-status")
                yield DataTable(id="board", cursor_type="row", zebra_stripes=True)
                yield Static("", id="board-note")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#grid-box").border_title = "values to try  enter: edit"
        self.query_one("#board-box").border_title = "leaderboard  o: sort  enter: open"
        grid = self.query_one("#grid", DataTable)
        grid.add_column("setting", key="setting")
        grid.add_column("values", key="values")
        for name in ROWS:
            grid.add_row(LABELS.get(name, name.replace("_", " ")), self.search.texts.get(name, ""), key=name)
        self.show_hint(ROWS[0])

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
            box.placeholder = f"{LABELS.get(name, name.replace('_', ' '))}: a,b,c"
            self.show_hint(name)
            box.focus()
        elif event.data_table.id == "board" and event.row_key.value is not None:
            self.open_trial(int(event.row_key.value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "grid" and 0 <= event.cursor_row < len(ROWS):
            self.show_hint(ROWS[event.cursor_row])

    def show_hint(self, name: str) -> None:
        """What the chosen row takes, in full (wrapped under the grid: a placeholder would be cut)."""
        label = LABELS.get(name, name.replace("_", " "))
        hint = HINTS.get(name, "values to try, comma-separated: each one is a trial")
        self.query_one("#grid-hint", Static).update(Text(hint if hint.startswith(label) else f"{label}: {hint}"))

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

    def descending(self) -> bool:
        """Whether the board reads from the largest value down (dev accuracy sorts best first)."""
        s = self.search
        return (s.sort == "dev_acc") != bool(s.reverse)

    def board_rows(self) -> tuple[list[str], list[tuple[dict, str]]]:
        """The leaderboard's column keys and its rows as ({key: text}, style), finished trials sorted, then
        the trials training now."""
        s = self.search
        keys = ["rank", "trial", *s.names, "dev_acc", "dev_loss", "epochs", "seconds", "stop"]  # board_cells' order
        if any(r.get("test_acc") is not None for r in s.board):
            keys.append("test_acc")
        workers = {r.get("worker") for r in s.board} | {r.get("worker") for r in s.live.values()}
        if len(workers - {None, ""}) > 1:
            keys.append("worker")
        rows = []
        for row in sorted(s.board, key=self.sort_key, reverse=s.reverse):
            best = row.get("rank") == 1 and row.get("state", "complete") == "complete"
            style = "bold green" if best else "dim" if row.get("state") in ("pruned", "failed") else ""
            stop = "pruned" if row.get("state") == "pruned" else row.get("stop", "")
            cells = dict(zip(keys, board_cells(row, s.names)))
            cells.update(stop=ENDED_SHORT.get(stop, stop), worker=row.get("worker", "") or "",
                         test_acc=pct(row["test_acc"]) if row.get("test_acc") is not None else "")
            if best:
                cells["rank"] = "★ 1"
            rows.append((cells, style))
        for index in sorted(s.live):
            c = s.live[index]
            cells = {"rank": "", "trial": str(c["index"]), **{n: show_value(c["changes"].get(n)) for n in s.names},
                     "dev_acc": pct(c["dev"]) if c["dev"] is not None else "...", "dev_loss": "",
                     "epochs": f"{c['epoch']}/{c['epochs']}", "seconds": "", "stop": "training", "test_acc": "",
                     "worker": c.get("worker", "") or ""}
            rows.append((cells, "yellow"))
        return keys, rows

    def board_width(self) -> int:
        """Columns the leaderboard's cells may use: the window less the grid, the borders and a scroll bar."""
        grid = self.query_one("#grid-box").outer_size.width or 32
        return max(self.app.size.width - grid - 4, 20)

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
        keys, rows = self.board_rows()
        arrow = " ▼" if self.descending() else " ▲"
        labels = {k: HEADERS.get(k, k.replace("_", " ")) + (arrow if k == s.sort else "") for k in keys}
        widths = {k: max([len(labels[k])] + [len(c[k]) for c, _ in rows]) + 2 for k in keys}
        room, hidden = self.board_width(), []
        for key in DROP_ORDER:  # never cut a number: leave out whole columns, and say which
            if sum(widths[k] for k in keys) <= room:
                break
            if key in keys and key != s.sort:
                keys.remove(key)
                hidden.append(labels[key].strip(" ▲▼"))
        for key in keys:
            table.add_column(labels[key], key=key)
        for cells, style in rows:
            key = cells["trial"] if style != "yellow" else None
            table.add_row(*(Text(cells[k], style=style) for k in keys), key=key)
        self.query_one("#board-note", Static).update(
            f"not shown at this width: {', '.join(hidden)} (a wider window shows them)" if hidden else "")
        if keep is not None:
            try:
                table.move_cursor(row=table.get_row_index(keep))
            except Exception:
                pass

    def on_resize(self, event) -> None:
        self.fill_board()

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
        way = "largest first ▼" if self.descending() else "smallest first ▲"
        self.notify(f"sorted by {HEADERS.get(s.sort, s.sort.replace('_', ' '))}, {way}", timeout=2)

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
