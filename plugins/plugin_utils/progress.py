# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Live progress of a running device task in ansible-playbook's output (and so in an AWX job's stdout).

PRIVATE to the collection. The device action plugin passes every status report of its operation (DMI
ImageStatus, NETCONF notification or state) to a :class:`ProgressLines` as well as to Kafka. The worker
process running the task prints through ansible-core's ``Display``, which forwards it to the controller's
main process while the task still runs. A line is printed:

- when the state changes (``download COPYING_IMAGE``, ``activate REBOOTING_DEVICE``...);
- while a download advances, every ``swim_progress_percent`` percent (default 10);
- every ``swim_progress_seconds`` seconds (default 30) when nothing else was printed, also while the device
  sends nothing (a reboot; a NETCONF download, whose model has no percentage: "no progress reported by the
  device");
- never during the first ``swim_progress_quiet_seconds`` (default 10) of the task: a short task stays quiet.

``swim_progress: false`` turns it off. Each line: ``swim progress <device>: <stage> <state> [<percent>] [<bytes>]
(<elapsed>)``.

Once the controller's main process has died (the worker is an orphan: its parent pid changed), no line is
printed any more: ``Display`` writes to a pipe nobody reads then, and once that pipe is full the write blocks
for ever, freezing the orphan in the middle of its stage (it would never record the stage's end, and the next
run would wait ``swim_run_wait`` for it in vain).
"""

from __future__ import annotations

import os
import re
import threading
import time

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.escalator.swim.plugins.module_utils.device import (
    ACTIVATION_COMPLETE, ACTIVATION_FAILED, UPGRADE_COMPLETE, UPGRADE_FAILED,
)

VARIABLES = {"enabled": "swim_progress", "percent": "swim_progress_percent", "seconds": "swim_progress_seconds",
             "quiet": "swim_progress_quiet_seconds"}
DEFAULTS = {"enabled": True, "percent": 10.0, "seconds": 30.0, "quiet": 10.0}
TERMINAL = {UPGRADE_COMPLETE, UPGRADE_FAILED, ACTIVATION_COMPLETE, ACTIVATION_FAILED}
# The status-table stage of each operation (one vocabulary with the status table and the report).
STAGE_OF = {"download_image": "download", "activate_image": "activate", "revert_image": "rollback"}
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_BYTES = re.compile(r"\((\d+)/(\d+) bytes\)|(\d+) bytes")
NO_PROGRESS = "no progress reported by the device"


def settings_from(get_var) -> dict:
    """The swim_progress* variables (``get_var(name)`` -> templated value or None), with their defaults."""
    settings = dict(DEFAULTS)
    for key, name in VARIABLES.items():
        value = get_var(name)
        if value is None:
            continue
        try:
            settings[key] = boolean(value) if key == "enabled" else max(float(value), 0.0)
        except (TypeError, ValueError):
            pass                    # a bad value keeps the default: progress lines never fail a task
    return settings


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def measure(description: str) -> tuple[float | None, str]:
    """(percent, bytes text) a status description holds: ``downloaded 40% (838860/2097152 bytes)``."""
    match = _PERCENT.search(description or "")
    percent = float(match.group(1)) if match and float(match.group(1)) <= 100 else None
    amount = _BYTES.search(description or "")
    if amount and amount.group(1):
        return percent, f"{_size(int(amount.group(1)))} of {_size(int(amount.group(2)))}"
    if amount and amount.group(3):
        return percent, _size(int(amount.group(3)))
    return percent, ""


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class ProgressLines:
    """The status callback that prints throttled progress lines for one device task (see the module docstring)."""

    def __init__(self, show, device: str, stage: str, transport: str, settings: dict, clock=time.monotonic,
                 parent=os.getppid):
        self._show, self.device, self.stage, self.transport = show, device, stage, transport
        # The controller's main process, which reads what Display sends (see the module docstring).
        self._parent, self._controller = parent, parent()
        self.settings, self._clock = settings, clock
        self.started = clock()
        self._lock = threading.Lock()
        self._state = ""
        self._percent: float | None = None
        self._bytes = ""
        self._shown_state = ""
        self._shown_percent: float | None = None
        self._shown_at: float | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.lines = 0

    def __call__(self, event) -> None:
        percent, amount = measure(event.description)
        with self._lock:
            self._state = event.state
            if percent is not None:
                self._percent = percent
            if amount:
                self._bytes = amount
            self._maybe_show(terminal=event.state in TERMINAL)
        if self._ticker is None and event.state not in TERMINAL:
            self._ticker = threading.Thread(target=self._tick, name=f"swim-progress-{self.device}", daemon=True)
            self._ticker.start()

    def _due(self, now: float, terminal: bool) -> bool:
        if now - self.started < self.settings["quiet"]:
            return False                                  # a short task stays quiet
        if terminal:
            return self.lines > 0                         # close what was shown; a quiet task says nothing
        if self._state != self._shown_state:
            return True
        if self._percent is not None and self.settings["percent"] > 0 and \
                self._percent - (self._shown_percent or 0.0) >= self.settings["percent"]:
            return True
        return self.settings["seconds"] > 0 and now - (self._shown_at or self.started) >= self.settings["seconds"]

    def _maybe_show(self, terminal: bool = False, heartbeat: bool = False) -> None:
        now = self._clock()
        if not self._state or not self._due(now, terminal) or self._parent() != self._controller:
            return
        parts = [f"swim progress {self.device}: {self.stage} {self._state}"]
        if self._percent is not None:
            parts.append(f"{self._percent:g}%")
        if self._bytes:
            parts.append(self._bytes)
        # A DMI device sends its percentages with its first reports; a NETCONF one has none to send (TR-383).
        silent = self.transport != "dmi" or heartbeat
        if self._percent is None and not self._bytes and self.stage == "download" and not terminal and silent:
            parts.append(f"({self.transport}: {NO_PROGRESS})" if self.transport else f"({NO_PROGRESS})")
        parts.append(f"[{elapsed(now - self.started)}]")
        self._shown_state, self._shown_percent, self._shown_at = self._state, self._percent, now
        self.lines += 1
        self._show(" ".join(parts))

    def _tick(self) -> None:
        """Lines while the device sends nothing (a reboot, a download without percentages); ends with the task."""
        step = max(min(self.settings["seconds"] or 1.0, self.settings["quiet"] or 1.0, 1.0), 0.2)
        while not self._stop.wait(step):
            with self._lock:
                self._maybe_show(heartbeat=True)

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2.0)


def progress_lines(display, get_var, *, device: str, operation: str, transport: str, check_mode: bool,
                   stage: str | None = None) -> ProgressLines | None:
    """A ProgressLines for this task, or None (disabled, check mode, or an operation without progress)."""
    if check_mode or operation not in STAGE_OF:
        return None
    settings = settings_from(get_var)
    if not settings["enabled"]:
        return None
    return ProgressLines(display.display, device, stage or STAGE_OF[operation], transport, settings)


def chain(*callbacks):
    """One status callback calling each of *callbacks* that is set (Kafka publisher, progress lines)."""
    active = [callback for callback in callbacks if callback is not None]

    def forward(event) -> None:
        for callback in active:
            callback(event)

    return forward if active else None
