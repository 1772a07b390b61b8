"""The one base class of errors a user can fix (bad file, bad setting, bad model, unknown run).

Every layer raises its own subclass with a one-line message naming what is wrong and where; the command
line and the app catch UserError once and show the message, never a traceback.
"""
from __future__ import annotations


class UserError(ValueError):
    """Something the user gave (a file, a setting, a name) is wrong; the message says what, in one line."""


class DataError(UserError):
    """A dataset could not be read; the message names the file and the problem, in one line."""
