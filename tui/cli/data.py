"""`nn-tui data info` and `nn-tui data download`."""
from __future__ import annotations

import numpy as np
from rich import box
from rich.columns import Columns
from rich.table import Table
from rich.text import Text

from ..render import digit_text
from ..text import class_label
from .args import number, seed, whole
from .console import console, download_with_progress, load_data, use_color


def register(sub) -> None:
    p = sub.add_parser("data", help="dataset summary and downloads", description="Dataset summary and downloads.")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    info = dsub.add_parser("info", help="counts per split and class, pixel mean, sample digits, mean digit per class",
                           description="Print a dataset's splits, class counts, pixel mean, sample digits and "
                                       "the mean image of each class.")
    info.add_argument("--data", default="mnist",
                      help="source name (mnist, fashion-mnist, kmnist) or a path (default mnist)")
    info.add_argument("--dev-size", type=number("--dev-size", 0, 1e7, open_low=True), default=5000,
                      help="dev set size, a count or a fraction (default 5000)")
    info.add_argument("--seed", type=seed(), default=0, help="seed of the split shuffle (default 0)")
    info.add_argument("--samples", type=whole("--samples", 0, 1000), default=6,
                      help="how many sample digits to draw (default 6)")
    info.set_defaults(run=run_info)
    dl = dsub.add_parser("download", help="download a named source into the cache",
                         description="Download a named source (fashion-mnist, kmnist) into the user cache, "
                                     "verifying its checksums.")
    dl.add_argument("name", help="source name; `nn-tui data download --list` shows them", nargs="?")
    dl.add_argument("--list", action="store_true", help="list the named sources and where they are")
    dl.set_defaults(run=run_download)


def run_download(args) -> int:
    import data

    con = console()
    if args.list or not args.name:
        table = Table("name", "description", "status", box=None)
        for s in data.SOURCES.values():
            table.add_row(s.name, s.description, "bundled" if s.bundled else
                          (f"downloaded: {s.directory()}" if s.is_present() else "not downloaded"))
        con.print(table)
        return 0
    if args.name not in data.SOURCES:
        raise data.DataError(f"unknown source {args.name!r}; choose from {', '.join(data.SOURCES)}")
    source = data.SOURCES[args.name]
    if source.bundled:
        con.print(f"{source.name} is bundled with nn-tui: nothing to download ({source.directory()})")
        return 0
    if source.is_present():
        con.print(f"{source.name} is already downloaded: {source.directory()}")
        return 0
    download_with_progress(source, con)
    data.read_source(source)  # verify it reads
    con.print(f"[green]downloaded and verified[/] {source.name}: {source.directory()}")
    return 0


def run_info(args) -> int:
    from data import CLASSES, DIGITS

    con = console()
    splits = load_data(args.data, args.dev_size, args.seed, con)
    color = use_color(con)
    noun = splits.noun
    con.print(Text.assemble(("Dataset ", "bold"), (splits.name, "bold cyan"),
                            f"   {sum(len(d) for _, d in splits.items()):,} {noun} of 28x28 pixels"))
    table = Table(title=f"{noun.capitalize()} per class and split", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("class", justify="right" if splits.classes == DIGITS else "left")
    for name, d in splits.items():
        table.add_column(name, justify="right")
        table.add_column("share", justify="right", style="dim")
    table.add_column("train+dev", justify="right")
    counts = [d.class_counts() for _, d in splits.items()]
    pool = counts[0] + counts[1]
    for c in range(CLASSES):
        cells = (cell for n in counts for cell in (f"{n[c]:,}", f"{100 * n[c] / n.sum():.1f}%"))
        table.add_row(class_label(splits.classes, c), *cells, f"{pool[c]:,}")
    table.add_section()
    table.add_row("total", *(cell for n in counts for cell in (f"{n.sum():,}", "")), f"{pool.sum():,}")
    table.add_row("pixel mean", *(cell for _, d in splits.items() for cell in (f"{d.images.mean():.2f}", "")))
    con.print(table)
    k = min(args.samples, len(splits.train))
    if k > 0:
        con.print(Text(f"First {k} training {noun}", style="bold"))
        con.print(Columns([_captioned(digit_text(splits.train.images[i], color),
                                      f"label {class_label(splits.classes, int(splits.train.labels[i]))}")
                           for i in range(k)], padding=(0, 2)))
    con.print(Text("Mean image of each class (training split)", style="bold"))
    means = []
    for c in range(CLASSES):
        sel = splits.train.images[splits.train.labels == c]
        mean = sel.mean(axis=0) if len(sel) else np.zeros((28, 28))
        caption = f"{class_label(splits.classes, c)}: {len(sel):,}"
        means.append(_captioned(digit_text(mean, color, scale=2), caption))
    con.print(Columns(means, padding=(0, 2)))
    return 0


def _captioned(picture: Text, caption: str) -> Text:
    out = picture.copy()
    out.append("\n" + caption, style="dim")
    return out
