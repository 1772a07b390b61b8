"""Which panels the dashboard shows at which window size, and what their titles say.

Wide (150x40 and more): every panel at once. Medium (100x30): status, confusion and one more, which v cycles.
Compact: one lower panel at a time (v). The classes set here are what app.tcss lays out.
"""
from __future__ import annotations

VIEWS = ("confusion-box", "digits-box", "settings-box", "health-box")
WIDE = (150, 40)  # at least this many columns and rows: every panel at once
MEDIUM = (100, 30)  # status, confusion and digits together; v cycles digits, settings, health


def apply(screen, width: int, height: int) -> None:
    """Set the screen's size class (-wide, -medium, -compact) and the panels' titles for it."""
    wide = width >= WIDE[0] and height >= WIDE[1]
    medium = not wide and width >= MEDIUM[0] and height >= MEDIUM[1]
    screen.set_class(wide, "-wide")
    screen.set_class(not wide, "-compact")
    screen.set_class(medium, "-medium")
    # medium: the status column takes 3/4 of the width past 100 columns (to 44), so a run's name reads whole
    # instead of leaving the room empty beside the matrix
    status = screen.query_one("#side-status-box")
    status.styles.width = min(27 + 3 * (width - MEDIUM[0]) // 4, 44) if medium else None
    more = "" if wide else " · v next panel"
    for box, title in (("#status-box", "status"), ("#side-status-box", "status"),
                       ("#confusion-box", f"confusion (dev) · c pick a cell{'' if medium else more}"),
                       ("#digits-box", "digits · d m v" if medium else f"digits · d next · m mistakes{more}"),
                       ("#settings-box", "settings · e v" if medium else f"settings · e edit{more}"),
                       ("#health-box", "health · f u v" if medium else f"health · f fork · u undo{more}")):
        screen.query_one(box).border_title = title


def show_view(screen, view: int) -> None:
    """Mark the lower panel that `view` (an index into VIEWS) puts on screen."""
    current = VIEWS[view]
    if screen.has_class("-medium") and current == "confusion-box":
        current = "digits-box"  # the matrix is always there: the last slot shows the digits
    for name in VIEWS:
        screen.query_one(f"#{name}").set_class(name == current, "-current")
