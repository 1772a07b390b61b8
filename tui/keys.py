"""The dashboard's keys: one list, from which the footer (the short labels), the help screen (the tooltips)
and the README's key table (checked by a test) all come."""
from __future__ import annotations

from textual.binding import Binding

# The footer shows the keys of the dashboard's own work (they fit 80 columns in every state); the doors
# to other screens are listed on the help screen (?), which is built from these bindings' tooltips.
KEYS = [
    Binding("t", "train", "train", tooltip="start training (a new run when the last one has ended)"),
    Binding("space", "pause", "pause", tooltip="pause / resume training"),
    Binding("space", "resume", "resume", tooltip="pause / resume training"),
    Binding("s", "stop", "stop", tooltip="stop training; the best model so far is kept and saved in the run "
                                         "directory"),
    Binding("e", "edit", "edit", tooltip="edit settings: live ones (lr, l2, momentum, batch size) apply at the "
                                         "next batch"),
    Binding("n", "new_run", "new run", tooltip="new run: clear the dashboard and start again from fresh weights"),
    Binding("w", "save", "save", tooltip="save the current model to a file"),
    Binding("o", "open", "open", tooltip="open a saved model to view its predictions"),
    Binding("d", "digits", "digits", tooltip="next sample of digits"),
    Binding("m", "mistakes", "mistakes", tooltip="mistakes only: show just the digits the network gets wrong"),
    Binding("v", "next_view", "view", show=False,
            tooltip="next panel (confusion, digits, settings) when the window is small"),
    Binding("c", "focus_confusion", "cells", show=False,
            tooltip="focus the confusion matrix: arrows pick a cell, enter lists its digits"),
    Binding("b", "browse_cell", "cell digits", show=False,  # enter on the focused matrix does the same
            tooltip="the dev digits of the confusion cell under the cursor, most confident mistakes first"),
    Binding("g", "draw", "draw", show=False,
            tooltip="draw a digit (arrows, space, p pen, e eraser, x, c; or the mouse) and watch the guess"),
    Binding("i", "inside", "inside", show=False,
            tooltip="inside the network: a hidden unit's weights (left/right), activations, dead units"),
    Binding("k", "robustness", "robust", show=False,
            tooltip="robustness to noise, rotation and shift; a confidence threshold for \"not sure\""),
    Binding("x", "experiments", "experiments", show=False,
            tooltip="experiments: define a hyperparameter grid, run the search, sort its leaderboard, open a "
                    "trial"),
    Binding("f", "fork", "fork", show=False,
            tooltip="fork: branch the run at its last epoch and train on in the branch (the run is kept); the "
                    "editor's pending settings apply to the branch"),
    Binding("F", "fork_best", "fork best", show=False, key_display="shift+f",
            tooltip="fork the run at its best epoch"),
    Binding("u", "undo", "undo", show=False,
            tooltip="undo the last live change: back to the last epoch before it, with the settings then, and on"),
    Binding("r", "runs", "runs", show=False,
            tooltip="runs: every past run (damaged ones too); space marks runs to overlay their curves, enter "
                    "opens one"),
    Binding("p", "screenshot", "picture", show=False,
            tooltip="picture: save an SVG screenshot of the current screen (dashboard, experiments, runs)"),
    Binding("l", "log_scale", "log loss", show=False, tooltip="loss chart on a log scale, or back to linear"),
    Binding("a", "smoothing", "smooth", show=False,
            tooltip="smooth the per-batch lines (a moving average, the raw line faint behind) or show them raw"),
    Binding("question_mark", "help", "help", key_display="?", tooltip="this help"),
    Binding("q", "quit", "quit", tooltip="quit (stops training cleanly, keeping the best model)"),
]
