"""`nn-tui predict MODEL --image FILE`: one digit from a PGM or PNG, as the network sees it, and its guess."""
from __future__ import annotations

from rich.text import Text

from .console import pct, use_color
from .render import digit_text, proba_text


def predict_image(args, con) -> int:
    """Print the preprocessed 28x28 digit and the ten probabilities; DataError / CheckpointError go up
    to the command line, which prints them on one line and exits 1."""
    import models
    from data import DataError
    from data.images import load_digit

    model, _ = models.load(args.model)
    digit = load_digit(args.image)
    if model.spec.inputs != digit.image.size:
        raise DataError(f"{args.model}: the model takes {model.spec.inputs} inputs, a 28x28 digit has {digit.image.size}")
    proba = model.predict_proba(digit.x)[0]
    guess = int(proba.argmax())
    color = use_color(con)
    height, width = digit.original.shape
    con.print(Text(f"{args.image}: {width}x{height} pixels", style="bold"), soft_wrap=True)  # a long path stays one line
    for note in digit.notes:
        con.print(Text(note, style="yellow"), soft_wrap=True)
    con.print(Text("As the network sees it: cropped, scaled to 20 px, centred in 28x28", style="dim"))
    con.print(digit_text(digit.image, color))
    con.print(proba_text(proba, 24, color))
    con.print(Text.assemble("prediction ", (str(guess), "bold"), f"  {pct(float(proba[guess]))}"))
    return 0
