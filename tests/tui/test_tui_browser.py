"""`nn-tui serve` in a real browser: Playwright drives Debian's headless Chromium (never a downloaded one).

The page loads and the app draws, `t` trains a run (its directory appears), closing the page ends the
app's process, SIGTERM ends the server. Skipped, with the reason, where Chromium, Playwright or
textual-serve is missing (`.ci/run` installs them).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the flags a closed network needs: no background connections, no first-run, no sandbox as root
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def requirements() -> str | None:
    """Why the test cannot run here, or None."""
    if not Path(CHROMIUM).is_file():
        return "Debian's chromium is not installed (apt-get install chromium)"
    for module, extra in (("playwright", "playwright"), ("textual_serve", "textual-serve")):
        try:
            __import__(module)
        except ImportError:
            return f"{extra} is not installed (pip install '.[test]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                cmd = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            out.append((child, cmd))
            todo.append(child)
    return out


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def test_serve_in_headless_chromium(tmp_path):
    reason = requirements()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    runs = tmp_path / "runs"
    port = free_port()
    env = {**os.environ, "NN_TUI_RUNS_DIR": str(runs), "OPENBLAS_NUM_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--port", str(port), "--",
                               "--hidden", "16", "--epochs", "1", "--batch-size", "256"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        assert f"http://127.0.0.1:{port}" in server.stdout.readline()
        wait_until(lambda: listening(port), 20, "the server to listen")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("body.-first-byte", timeout=30_000)  # the app has drawn its first frame
                apps = wait_until(lambda: [c for c in descendants(server.pid) if "tui.cli" in c[1]], 20,
                                  "the app's process")
                time.sleep(3)  # the bundled MNIST loads before t can train
                page.click(".xterm")  # keys go to the focused terminal
                page.keyboard.press("t")
                wait_until(lambda: list(runs.glob("*/metrics.jsonl")) and list(runs.glob("*/summary.json")), 90,
                           "a run to be trained and saved")
                page.close()
                wait_until(lambda: not any(pid == a for a, _ in apps for pid, _ in descendants(server.pid)), 20,
                           "the app's process to end once its page is closed")
            finally:
                browser.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
