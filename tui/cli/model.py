"""`nn-tui eval MODEL` and `nn-tui predict MODEL [--image FILE]`: what a saved model does on the test split,
or on one digit from a PGM or PNG file."""
from __future__ import annotations

import numpy as np
from rich import box
from rich.columns import Columns
from rich.table import Table
from rich.text import Text

from data import DIGITS
from data.files import dumps

from ..render import digit_text, proba_text
from ..text import class_label, pct
from .args import seed, whole
from .console import console, load_data, use_color


def register(sub) -> None:
    ev = sub.add_parser("eval", help="accuracy, loss, confusion matrix and per-class table of a saved model",
                        description="Evaluate a saved model on the test split of its dataset (or --data).")
    ev.add_argument("model", help="model file (.npz) written by nn-tui")
    ev.add_argument("--data", help="dataset (default: the one the model was trained on)")
    ev.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ev.set_defaults(run=run_eval)
    pr = sub.add_parser("predict", help="test digits drawn in the terminal with the model's guesses",
                        description="Draw test digits with their true label, the model's prediction and its "
                                    "probability.")
    pr.add_argument("model", help="model file (.npz) written by nn-tui")
    pr.add_argument("--data", help="dataset (default: the one the model was trained on)")
    pr.add_argument("--count", type=whole("--count", 1, 10000), default=8, help="how many digits (default 8)")
    pr.add_argument("--errors", action="store_true", help="only digits the model gets wrong, most confident first")
    pr.add_argument("--seed", type=seed(), default=None, help="which random sample (default: a new one each time)")
    pr.add_argument("--image", metavar="FILE", help="predict one image file instead (PGM, or PNG with the image extra)")
    pr.set_defaults(run=run_predict)


def load_model_and_data(args, con):
    import models

    model, meta = models.load(args.model)
    from engine.runs import check_fits, model_data_settings

    dev_size, seed = model_data_settings(meta, args.model)
    name = args.data or meta.get("source") or meta.get("data") or "mnist"
    splits = load_data(name, dev_size, seed, con)
    check_fits(model, splits.test, args.model)
    return model, meta, splits


def run_eval(args) -> int:

    from engine import evaluate, per_class

    con = console()
    model, meta, splits = load_model_and_data(args, con)
    ev = evaluate(model, splits.test.x, splits.test.y)
    stats = per_class(ev.confusion)
    if args.json:
        print(dumps({"model": args.model, "data": splits.name, "test_accuracy": ev.accuracy, "test_loss": ev.loss,
                          "confusion": ev.confusion.tolist(), **{k: v.tolist() for k, v in stats.items()}}))
        return 0
    con.print(f"[bold]{args.model}[/]", soft_wrap=True)
    con.print(f"{model.spec} {model.spec.activation} on the {splits.name} test split ({len(splits.test):,} "
              f"{splits.noun})")
    errors = int((ev.pred != splits.test.y).sum())
    con.print(f"accuracy [bold]{pct(ev.accuracy)}[/]   loss {ev.loss:.4f}   errors {errors:,}")
    con.print(confusion_table(ev.confusion))
    table = Table(title="Per class", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("class")
    for name in ("precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for c in range(len(ev.confusion)):
        table.add_row(class_label(splits.classes, c), pct(stats["precision"][c]), pct(stats["recall"][c]),
                      pct(stats["f1"][c]), f"{int(stats['support'][c]):,}")
    con.print(table)
    return 0


def confusion_table(conf: np.ndarray) -> Table:
    """Counts, rows = true class, columns = predicted; the diagonal green, errors shaded by rate. One space
    between columns and no rules between them, so ten columns of counts up to 99,999 fit 80 columns."""
    table = Table(title="Confusion matrix (rows: true, columns: predicted)", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0, 0, 1))
    table.add_column("true", justify="right", style="bold")
    for c in range(len(conf)):
        table.add_column(str(c), justify="right", no_wrap=True)
    table.add_column("recall", justify="right", no_wrap=True)
    for r, row in enumerate(conf):
        total = row.sum()
        cells = []
        for c, n in enumerate(row):
            rate = n / total if total else 0
            shade = "bold red" if rate >= 0.02 else "red" if rate >= 0.005 else "dim" if n == 0 else ""
            style = "green" if r == c else shade
            cells.append(Text(f"{n:,}", style=style))
        table.add_row(str(r), *cells, pct(row[r] / total if total else 0))
    return table


def caption(true: int | None, pred: int, prob: float, classes=DIGITS) -> Text:
    """`7 → 1  97.00% ✗` under a digit; class names where the dataset has them, the guess on its own line."""
    def name(c: int) -> str:
        return class_label(classes, c)

    if true is None:
        return Text(f"→ {name(pred)}  {pct(prob)}")
    ok = true == pred
    gap = " " if classes == DIGITS else "\n"  # a name and its guess would not fit under one picture
    return Text(f"{name(true)}{gap}→ {name(pred)}  {pct(prob)}" + ("" if ok else " ✗"),
                style="green" if ok else "bold red")


def run_predict(args) -> int:
    con = console()
    if args.image:
        return predict_image(args, con)
    model, meta, splits = load_model_and_data(args, con)
    test = splits.test
    proba = model.predict_proba(test.x)
    pred = proba.argmax(axis=1)
    if args.errors:
        wrong = np.flatnonzero(pred != test.y)
        order = wrong[np.argsort(-proba[wrong, pred[wrong]], kind="stable")]
        chosen = order[: args.count]
        con.print(f"{len(wrong):,} of {len(test):,} test {splits.noun} are wrong; "
                  f"the {len(chosen)} most confident mistakes:")
    else:
        rng = np.random.default_rng(args.seed)
        chosen = rng.choice(len(test), size=min(args.count, len(test)), replace=False)
    color = use_color(con)
    cells = []
    for i in chosen:
        picture = digit_text(test.images[i], color)
        picture.append("\n")
        picture.append_text(caption(int(test.y[i]), int(pred[i]), float(proba[i, pred[i]]), splits.classes))
        cells.append(picture)
    con.print(Columns(cells, padding=(0, 2)))
    con.print(Text("caption: true → predicted  probability", style="dim"))
    return 0


def predict_image(args, con) -> int:
    """Print the preprocessed 28x28 digit and the ten probabilities; DataError / CheckpointError go up
    to the command line, which prints them on one line and exits 1."""
    import models
    from data import DataError
    from data.images import load_digit

    model, _ = models.load(args.model)
    digit = load_digit(args.image)
    if model.spec.inputs != digit.image.size:
        raise DataError(f"{args.model}: the model takes {model.spec.inputs} inputs, "
                        f"a 28x28 digit has {digit.image.size}")
    proba = model.predict_proba(digit.x)[0]
    guess = int(proba.argmax())
    color = use_color(con)
    height, width = digit.original.shape
    # soft_wrap: a long path stays one line
    con.print(Text(f"{args.image}: {width}x{height} pixels", style="bold"), soft_wrap=True)
    for note in digit.notes:
        con.print(Text(note, style="yellow"), soft_wrap=True)
    con.print(Text("As the network sees it: cropped, scaled to 20 px, centred in 28x28", style="dim"))
    con.print(digit_text(digit.image, color))
    con.print(proba_text(proba, 24, color))
    con.print(Text.assemble("prediction ", (str(guess), "bold"), f"  {pct(float(proba[guess]))}"))
    return 0
