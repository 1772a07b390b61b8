"""Argument parsing that keeps the README's promise: a bad option is one line on stderr and exit 1.

`Parser` replaces argparse's usage block and exit 2; `whole(...)` and `number(...)` are argparse types
that check the range too, so `--threads -3` or `--seed -1` never reach the code that would choke on them.
"""
from __future__ import annotations

import argparse
import difflib
import re

from data.errors import UserError


class UsageError(UserError):
    """A bad option or argument on the command line; main() prints it on one line and exits 1."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 1, through UsageError) and a "did you mean" for a misspelt flag."""

    def error(self, message: str):
        raise UsageError(explain(message, self))


def explain(message: str, parser: argparse.ArgumentParser) -> str:
    """argparse's message, on one line, said the way the rest of nn-tui says things."""
    message = " ".join(message.split())
    m = re.match(r"argument (\S+?)(?:/\S+)?: invalid (int|float|count) value: '(.*)'$", message)
    if m:
        flag, kind, value = m.groups()
        return f"{flag} {value!r} is not a {'whole number' if kind != 'float' else 'number'}"
    m = re.match(r"argument (\S+?)(?:/\S+)?: (--\S+ .*)$", message)
    if m and m.group(2).startswith(m.group(1)):  # our own type's message already names the flag
        return m.group(2)
    m = re.match(r"unrecognized arguments: (.*)$", message)
    if m:
        unknown = m.group(1).split()[0]
        flags = sorted(every_flag(parser))
        close = difflib.get_close_matches(unknown.split("=")[0], flags, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else " (see --help)"
        return f"unknown option {unknown}{hint}" if unknown.startswith("-") else f"unexpected argument {unknown!r}"
    return message


def every_flag(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings of `parser` and of all its subcommands."""
    flags = {s for a in parser._actions for s in a.option_strings if s.startswith("--")}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags |= every_flag(sub)
    return flags


def whole(flag: str, low: int | None = None, high: int | None = None):
    """argparse type: a whole number in [low, high]; the error names `flag`."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a whole number") from None
        if low is not None and value < low or high is not None and value > high:
            span = f"at least {low}" if high is None else f"{low}-{high}" if low is not None else f"at most {high}"
            raise argparse.ArgumentTypeError(f"{flag} {value} is out of range: {span}")
        return value
    return convert


def number(flag: str, low: float | None = None, high: float | None = None, open_low: bool = False):
    """argparse type: a finite number in [low, high] (or (low, high] with open_low)."""
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a finite number")
        if low is not None and (value < low or open_low and value == low) or high is not None and value > high:
            left = "(" if open_low else "["
            raise argparse.ArgumentTypeError(f"{flag} {value:g} is out of range: {left}{low:g}, {high:g}]"
                                             if high is not None else f"{flag} {value:g} must be above {low:g}")
        return value
    return convert


SEED_MAX = 2**32 - 1


def seed(flag: str = "--seed"):
    return whole(flag, 0, SEED_MAX)
