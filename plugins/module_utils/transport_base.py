# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What every transport shares: one retry/back-off policy and one deadline/stall watchdog.

PRIVATE to the collection. DMI (``dmi.py``) and NETCONF (``netconf*.py``) both retry a request that failed
because the device is not reachable right now with :func:`retrying` (and :meth:`Device.wait_until_reachable`
polls with it), and bound every operation that reports progress with one :class:`ProgressWatch`: the
operation's ``timeout`` and its ``stall_timeout`` (no sign of progress for that long).
"""

from __future__ import annotations

import threading
import time
import typing as t

from .device import DeviceError

T = t.TypeVar("T")

FIRST_DELAY = 0.2  # seconds before the first retry
GROWTH = 1.6
MAX_DELAY = 2.0  # a rebooting device is seen back within two seconds of answering again


class Backoff:
    """Delays between attempts: 0.2 s growing by 1.6 up to 2 s (never past *deadline* when given)."""

    def __init__(self, deadline: float | None = None):
        self.delay = FIRST_DELAY
        self.deadline = deadline

    def allows_another(self) -> bool:
        return self.deadline is None or time.monotonic() + self.delay <= self.deadline

    def sleep(self, limit: float | None = None) -> None:
        wait = self.delay if limit is None else max(0.0, min(self.delay, limit))
        time.sleep(wait)
        self.delay = min(self.delay * GROWTH, MAX_DELAY)


def retrying(call: t.Callable[[], T], window: float) -> T:
    """*call()*, tried again with back-off for *window* seconds while it raises a retryable DeviceError."""
    backoff = Backoff(time.monotonic() + window)
    while True:
        try:
            return call()
        except DeviceError as error:
            if not error.retryable or not backoff.allows_another():
                raise
        backoff.sleep()


class ProgressWatch:
    """The deadline and the stall watchdog of one operation (a :class:`Budget`).

    ``progress()`` when the device shows a sign of progress; ``excuse()`` while no sign can come (a device
    restarting: the protocol has nothing to report then, so ``timeout`` alone bounds that phase);
    ``verdict()`` is "" while the operation may go on, else ``TIMEOUT`` or ``STALLED``.
    :meth:`cancel_on_stall` runs a callback when the stall deadline passes, for transports that block in a
    stream (DMI) rather than poll (NETCONF).
    """

    def __init__(self, budget):
        self.budget = budget
        self.last = time.monotonic()
        self.stall_fired = threading.Event()
        self._timer: threading.Timer | None = None
        self._on_stall: t.Callable[[], None] | None = None

    @property
    def stall_timeout(self) -> float | None:
        return self.budget.stall_timeout or None

    def progress(self) -> None:
        self.last = time.monotonic()
        if self._on_stall is not None:
            self._arm()

    excuse = progress

    @property
    def stalled(self) -> bool:
        return bool(self.stall_timeout) and time.monotonic() - self.last > self.stall_timeout

    def verdict(self) -> str:
        if self.budget.expired:
            return "TIMEOUT"
        return "STALLED" if self.stalled else ""

    def cancel_on_stall(self, cancel: t.Callable[[], None]) -> None:
        self._on_stall = cancel
        self._arm()

    def _arm(self) -> None:
        self.stop()
        wait = self.budget.next_wait()
        if self.stall_timeout and wait < self.budget.remaining:
            self._timer = threading.Timer(wait, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.stall_fired.set()
        if self._on_stall is not None:
            self._on_stall()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
