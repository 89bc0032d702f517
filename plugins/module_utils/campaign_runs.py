# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Runs of a campaign fence each other (crash-safe resume, docs/campaigns.md "Crash model").

PRIVATE to the collection. ansible-core forks one worker per task and host, and the worker calls
``setsid()``: when the controller's main process dies, the workers running a task go on as orphans,
finish their task and write the campaign directory. So:

- every run has a run id; ``runs/current.json`` in the campaign directory names the run and the pid of its
  main ansible-playbook process (the parent of every worker). ``runs/<run id>.json`` keeps each run
  (started, ended).
- every record a worker writes carries ``run`` and the worker's ``pid``; a worker whose parent is no longer
  the current run's main process is an orphan (its controller died, or another run has started): its record
  says ``orphan: true``, and a later run never takes such a record as a finished gate.
- a new run does not start while a worker of an earlier run may still touch a device (a stage left
  ``running`` by a pid that still runs ansible): it waits for them, bounded, then refuses, naming them.
"""

from __future__ import annotations

import json
import os
import time

from .atomic_file import write_atomic
from .clock import utc_now

CURRENT = "current.json"


def _runs_dir(campaign_dir: str) -> str:
    return os.path.join(campaign_dir, "runs")


def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write(path: str, data: dict) -> None:
    write_atomic(path, json.dumps(data, sort_keys=True), suffix=".tmp")


def current_run(campaign_dir: str) -> dict:
    return _read(os.path.join(_runs_dir(campaign_dir), CURRENT))


def writer_tag(campaign_dir: str) -> dict:
    """What a record says about who wrote it: the run, the worker pid, and ``orphan`` when its run has died."""
    run = current_run(campaign_dir)
    if not run or run.get("ended"):
        # A stage recorded outside a campaign run: a role used on its own, or the rollback playbook run after
        # the campaign's run ended (an ended run has no workers left: its main process waited for them all).
        return {}
    tag = {"run": run.get("run", ""), "pid": os.getpid()}
    if run.get("controller") != os.getppid():
        # The worker's parent is not the main process of the current run: its controller died (the worker was
        # re-parented) or a newer run has started. Nothing it says is trusted as a finished gate.
        tag.update(orphan=True, run="")
    return tag


def process_runs_ansible(pid: int) -> bool:
    """Whether *pid* is alive and an ansible process (a recycled pid running something else does not count)."""
    if not isinstance(pid, int) or pid <= 1 or pid == os.getpid():
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"ansible" in handle.read()
    except (OSError, IndexError):
        return False


def live_workers(rows: list[dict], own_controller: int) -> list[str]:
    """``device stage (pid N)`` for every stage left running by a worker that still runs (not of this run)."""
    found = []
    for row in rows:
        for stage, entry in (row.get("stages") or {}).items():
            pid = entry.get("pid")
            if entry.get("state") == "running" and isinstance(pid, int) and process_runs_ansible(pid) \
                    and _parent(pid) != own_controller:
                found.append(f"{row.get('device')} {stage} (pid {pid})")
    return found


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


class RunFenceError(Exception):
    pass


def begin_run(campaign_dir: str, run_id: str, rows_of, wait: float) -> dict:
    """Start run *run_id* (this worker's parent is its main process). Returns what it waited for.

    Refuses while the previous run's main process still runs (two runs of one campaign at once), and waits
    at most *wait* seconds for orphaned workers of an earlier run to finish their task. *rows_of* reads the
    status table again (the orphans keep writing it)."""
    controller = os.getppid()
    previous = current_run(campaign_dir)
    if previous and previous.get("controller") != controller and not previous.get("ended") \
            and process_runs_ansible(previous.get("controller")):
        raise RunFenceError(f"run {previous.get('run')} of this campaign is still running (ansible-playbook pid "
                            f"{previous.get('controller')}); one run of a campaign at a time")
    deadline = time.monotonic() + max(0.0, wait)
    waited_for = live_workers(rows_of(), controller)
    workers = waited_for
    while workers and time.monotonic() < deadline:
        time.sleep(0.5)
        workers = live_workers(rows_of(), controller)
    if workers:
        raise RunFenceError(f"workers of an earlier run still touch devices after {wait:g}s: {', '.join(workers)}; "
                            "wait for them to finish (or stop them), then run the campaign again")
    run = {"run": run_id, "controller": controller, "started": utc_now(),
           "previous": previous.get("run", "") if previous else ""}
    _write(os.path.join(_runs_dir(campaign_dir), CURRENT), run)
    _write(os.path.join(_runs_dir(campaign_dir), f"{run_id}.json"), run)
    return {"run": run, "waited_for": waited_for, "previous": previous}


def end_run(campaign_dir: str, run_id: str) -> dict:
    """Mark run *run_id* ended (the report play reached the end of the campaign)."""
    path = os.path.join(_runs_dir(campaign_dir), f"{run_id}.json")
    run = _read(path) or {"run": run_id}
    run["ended"] = utc_now()
    _write(path, run)
    current = current_run(campaign_dir)
    if current.get("run") == run_id:
        _write(os.path.join(_runs_dir(campaign_dir), CURRENT), run)
    return run
