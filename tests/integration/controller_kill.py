"""Crash an ansible-playbook controller for real (Linux /proc).

ansible-core 2.19 forks one worker process per task and host, and each worker calls ``setsid()``: it is
no longer in the controller's process group, so ``killpg(controller)`` kills the main process only and
the workers go on as orphans (they finish their task, write the campaign directory, then exit). Two
crash kinds, both found by pid:

- ``kill_whole_controller``: the main process and every worker (a power cut of the controller host).
  The workers are found *before* the main process dies, as its children in /proc (parent pid), plus
  every process in those workers' sessions (a worker's own children); then all are SIGKILLed.
- ``kill_main_only``: only the main process (the orphan case): returns the workers left running, which
  ``wait_for_exit`` can wait for, bounded.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of *pid*, None when it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[3])


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def descendants(pid: int) -> set[int]:
    """Every live process below *pid* (by parent pid), and every process sharing a session with one of them."""
    table = {p: s for p in _all_pids() if (s := _stat(p)) is not None}
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _sid) in table.items():
            if ppid == parent and child not in found:
                found.add(child)
                frontier.append(child)
    sessions = {table[p][1] for p in found if p in table} - {table.get(pid, (0, 0))[1], 0}
    found |= {p for p, (_ppid, sid) in table.items() if sid in sessions}
    found.discard(pid)
    return found


def alive(pid: int) -> bool:
    stat = _stat(pid)
    if stat is None:
        return False
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_whole_controller(proc) -> set[int]:
    """SIGKILL the controller *proc* (a Popen) and every worker it forked; returns the worker pids killed."""
    workers = descendants(proc.pid)
    # Stop the main process first so that it forks no new worker between the scan and the kill, then
    # kill the workers found, then any worker forked in between (found again, now orphaned, by session).
    os.kill(proc.pid, signal.SIGSTOP)
    workers |= descendants(proc.pid)
    _kill([proc.pid])
    _kill(workers)
    proc.wait(timeout=30)
    wait_for_exit(workers, 30)
    return workers


def kill_main_only(proc) -> set[int]:
    """SIGKILL only the main process of *proc*; returns the workers left running (orphans)."""
    os.kill(proc.pid, signal.SIGSTOP)
    workers = descendants(proc.pid)
    _kill([proc.pid])
    proc.wait(timeout=30)
    return {pid for pid in workers if alive(pid)}


def wait_for_exit(pids, timeout: float) -> set[int]:
    """Wait (at most *timeout* s) for *pids* to end; returns those still alive."""
    deadline = time.monotonic() + timeout
    left = {pid for pid in pids if alive(pid)}
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = {pid for pid in left if alive(pid)}
    return left
