"""Headless Chromium for the campaign report: the rendered DOM, the console messages, a screenshot.

Debian's ``chromium`` package (``apt-get install chromium``). Used by ``swim report --screenshot`` (the
README's picture, ``make report-screenshot``) and by tests/report/test_report_browser.py. Each call is one
short-lived browser process with its own throw-away profile, bounded by a timeout.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")
# Chromium's log line for a page's console message: `... INFO:CONSOLE:12] (older: CONSOLE(12)] "message", source: file:///... (12)`
# (--enable-logging=stderr --v=0); also the uncaught errors and failed loads it reports.
CONSOLE = re.compile(r':CONSOLE(?:\(\d+\)|:\d+)?\]\s*"(?P<message>.*)", source: (?P<source>\S*)')


class BrowserError(Exception):
    pass


@dataclass
class Page:
    dom: str
    console: list            # console messages of the page, in order
    log: str                 # the browser's whole stderr


def find_chromium() -> str | None:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(url: str, extra: list, timeout: float, window: tuple) -> subprocess.CompletedProcess:
    binary = find_chromium()
    if binary is None:
        raise BrowserError("headless Chromium is not installed (Debian package chromium: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="swim-chromium-") as profile:
        command = [binary, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                   "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
                   f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}",
                   "--enable-logging=stderr", "--v=0"]
        if os.geteuid() == 0:
            command.append("--no-sandbox")      # Chromium refuses to run its sandbox as root
        try:
            return subprocess.run(command + extra + [url], capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired as exc:
            raise BrowserError(f"chromium did not finish within {timeout:g} s: {exc}") from exc


def load(path: str | Path, timeout: float = 90.0, window: tuple = (1280, 1600)) -> Page:
    """The DOM of *path* as the browser rendered it, and the console messages the page logged."""
    proc = _run(Path(path).resolve().as_uri(), ["--dump-dom"], timeout, window)
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise BrowserError(f"chromium exit code {proc.returncode}: {proc.stderr[-2000:]}")
    return Page(dom=proc.stdout, console=[m.group("message") for m in CONSOLE.finditer(proc.stderr)], log=proc.stderr)


def screenshot(path: str | Path, png: str | Path, width: int = 1280, height: int = 1800, timeout: float = 90.0) -> Path:
    """A PNG of the page *path* at width x height."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    proc = _run(Path(path).resolve().as_uri(), [f"--screenshot={png}"], timeout, (width, height))
    if proc.returncode != 0 or not png.is_file():
        raise BrowserError(f"chromium wrote no screenshot (exit code {proc.returncode}): {proc.stderr[-2000:]}")
    return png
