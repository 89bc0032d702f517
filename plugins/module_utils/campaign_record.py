# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The campaign's memory on the controller: status table, structured log, per-device locks.

PRIVATE to the collection. Layout of a campaign directory:

- ``status/<device>.json``: that device's row of the status table. Only the worker running that
  device's task writes it, and every write is an atomic replace, so a killed controller leaves
  each row either before or after an update, never half written (crash-safe resume).
- ``campaign.log``: one JSON line per action (time, campaign, device, action, result, error code),
  appended with a single write() on an O_APPEND descriptor so lines from parallel workers never
  interleave.

Locks live in their own directory (shared by every campaign that may touch the same devices):
``<lock_dir>/<device>.lock`` holds the owning campaign id; it is created with O_EXCL, so two
campaigns can never both own a device.
"""

from __future__ import annotations

import json
import os
import re

from .atomic_file import write_atomic
from .campaign_runs import writer_tag
from .clock import utc_now
from .device import is_busy_reason
from .redaction import redact

STAGES = ("precheck", "backup", "download", "activate", "verify", "postcheck", "rollback")
STATES = ("running", "ok", "failed", "skipped")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RecordError(Exception):
    pass


def _safe(name: str, what: str) -> str:
    if not _SAFE_NAME.match(name or ""):
        raise RecordError(f"{what} {name!r} is not usable as a file name (letters, digits, . _ - only)")
    return name


def _write_json(path: str, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True), suffix=".json", fsync=True)


def row_path(campaign_dir: str, device: str) -> str:
    return os.path.join(campaign_dir, "status", _safe(device, "device") + ".json")


def read_row(campaign_dir: str, device: str) -> dict | None:
    try:
        with open(row_path(campaign_dir, device), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def log_line(campaign_dir: str, entry: dict) -> None:
    os.makedirs(campaign_dir, exist_ok=True)
    data = (json.dumps(redact(entry), sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(os.path.join(campaign_dir, "campaign.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def record(campaign_dir: str, campaign_id: str, device: str, stage: str, state: str, *, error: str = "",
           error_code: str = "", batch: int | None = None, details: dict | None = None) -> dict:
    """Update *device*'s row for *stage* and log the action; returns the new row."""
    if stage not in STAGES:
        raise RecordError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    if state not in STATES:
        raise RecordError(f"unknown state {state!r}; expected one of {', '.join(STATES)}")
    now = utc_now()
    row = read_row(campaign_dir, device) or {"device": device, "campaign": campaign_id, "stages": {}}
    entry = dict(row["stages"].get(stage) or {})
    # A stage started again after the device only refused because it was busy (the task is retried) keeps
    # its first start: the stage has been waiting since then.
    retried = entry.get("state") == "failed" and is_busy_reason(entry.get("error_code") or "")
    if (state == "running" and not retried) or "start" not in entry:
        entry["start"] = now
    entry.pop("end", None) if state == "running" else entry.__setitem__("end", now)
    entry.update(state=state, error=redact(error or ""), error_code=error_code or "")
    # Who wrote it: the run and worker pid, and `orphan` when the worker's controller has died (campaign_runs).
    entry.pop("orphan", None)
    entry.update(writer_tag(campaign_dir))
    row["stages"][stage] = entry
    if batch is not None:
        row["batch"] = batch
    if details:
        row.setdefault("details", {}).update(redact(details))
    row["updated"] = now
    row["outcome"] = outcome_of(row)
    _write_json(row_path(campaign_dir, device), row)
    line = {"time": now, "campaign": campaign_id, "device": device, "action": stage,
            "result": state, "error_code": error_code or "", "error": error or ""}
    line.update({key: entry[key] for key in ("run", "orphan") if key in entry})
    log_line(campaign_dir, line)
    return row


def outcome_of(row: dict) -> str:
    """One word for the device: upgraded, rolled_back, failed, skipped, in_progress or pending."""
    stages = row.get("stages", {})
    states = {name: entry.get("state") for name, entry in stages.items()}
    if states.get("rollback") == "ok":
        return "rolled_back"
    if "failed" in states.values():
        return "failed"
    if "running" in states.values():
        return "in_progress"
    # verify ok and no postcheck is upgraded only when the campaign did not plan one (details.postcheck false):
    # a postcheck that never ran (the controller died after the activation) still has to run.
    postcheck_planned = (row.get("details") or {}).get("postcheck") in (True, "true", "True")
    if states.get("postcheck") == "ok" or (states.get("verify") == "ok" and "postcheck" not in states
                                           and not postcheck_planned):
        return "upgraded"
    if states and all(state == "skipped" for state in states.values()):
        return "skipped"
    # Checked, then left out (already on the target, or held back by its redundancy group).
    if states.get("verify") == "skipped" and not {"download", "activate"} & states.keys():
        return "skipped"
    return "pending"


def orphaned_stages(row: dict) -> list[str]:
    """Stages of *row* last written by an orphaned worker (its controller had died): never a finished gate."""
    return [name for name, entry in (row.get("stages") or {}).items() if entry.get("orphan")]


def table(campaign_dir: str) -> list[dict]:
    directory = os.path.join(campaign_dir, "status")
    rows = []
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".json") and not name.startswith("."):
                with open(os.path.join(directory, name), encoding="utf-8") as handle:
                    rows.append(json.load(handle))
    return rows


def render(rows: list[dict]) -> str:
    """The status table as fixed-width text: one line per device, one column per stage."""
    header = ["device", "batch"] + list(STAGES) + ["committed", "outcome", "error"]
    lines = [header]
    for row in rows:
        stages = row.get("stages", {})
        errors = [f"{name}: {_reason(entry)}" for name, entry in stages.items() if entry.get("state") == "failed"]
        if row.get("outcome") == "skipped":   # why: already on the target, held back by its redundancy group
            errors = [entry["error"] for entry in stages.values() if entry.get("state") == "skipped" and entry.get("error")][:1]
        errors += [f"{name}: written by an orphaned worker" for name in orphaned_stages(row)]
        if (row.get("details") or {}).get("hold") and row.get("outcome") in ("skipped", "pending"):
            errors.append(f"held back: {row['details']['hold']}")
        lines.append([row["device"], str(row.get("batch", "-"))]
                     + [stages.get(stage, {}).get("state", "-") for stage in STAGES]
                     + [_committed(row), row.get("outcome", ""), "; ".join(errors)[:120]])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)


def _committed(row: dict) -> str:
    """The committed column: whether the image the device was last seen running is its boot image."""
    value = (row.get("details") or {}).get("committed")
    return "-" if value is None else ("yes" if value else "NO")


_FELL_BACK = re.compile(r"fell back to [^;)]+")


def _reason(entry: dict) -> str:
    """A failed stage in the table's few words: its error code, and the image the device fell back to."""
    fell_back = _FELL_BACK.search(entry.get("error") or "")
    code = entry.get("error_code") or entry.get("error") or "failed"
    return f"{code}, {fell_back.group(0)}" if fell_back else code


def acquire_lock(lock_dir: str, device: str, campaign_id: str) -> bool:
    """Take *device* for *campaign_id*; True when newly taken, False when this campaign already held it."""
    os.makedirs(lock_dir, exist_ok=True)
    path = os.path.join(lock_dir, _safe(device, "device") + ".lock")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        holder = lock_holder(lock_dir, device)
        if holder == campaign_id:
            return False
        raise RecordError(f"{device} is locked by campaign {holder!r} (lock file {path}); "
                          "one campaign per device at a time")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"campaign": campaign_id, "since": utc_now(), "pid": os.getpid()}, handle)
    return True


def lock_holder(lock_dir: str, device: str) -> str | None:
    try:
        with open(os.path.join(lock_dir, _safe(device, "device") + ".lock"), encoding="utf-8") as handle:
            return json.load(handle).get("campaign")
    except FileNotFoundError:
        return None
    except ValueError:
        return "<unreadable lock>"


def release_lock(lock_dir: str, device: str, campaign_id: str, force: bool = False) -> bool:
    """Release *device* if this campaign holds it (any holder with *force*); True when a lock was removed.

    Every release is logged to ``<lock_dir>/releases.log`` (who released what, whose it was, forced or not)."""
    holder = lock_holder(lock_dir, device)
    if holder is None:
        return False
    if holder != campaign_id and not force:
        raise RecordError(f"{device} is locked by campaign {holder!r}, not {campaign_id!r}; not releasing it")
    os.unlink(os.path.join(lock_dir, _safe(device, "device") + ".lock"))
    entry = {"time": utc_now(), "device": device, "holder": holder, "released_by": campaign_id,
             "forced": bool(force and holder != campaign_id), "pid": os.getpid()}
    fd = os.open(os.path.join(lock_dir, "releases.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return True


def list_locks(lock_dir: str) -> list[dict]:
    """Every lock in *lock_dir*: device, campaign, since, pid (of the worker that took it)."""
    locks = []
    if os.path.isdir(lock_dir):
        for name in sorted(os.listdir(lock_dir)):
            if name.endswith(".lock") and not name.startswith("."):
                try:
                    with open(os.path.join(lock_dir, name), encoding="utf-8") as handle:
                        data = json.load(handle)
                except (OSError, ValueError):
                    data = {"campaign": "<unreadable lock>"}
                locks.append({"device": name[:-len(".lock")], **data})
    return locks


# The ``record`` option of the device modules: the task records itself as a stage of the status table
# (running before it touches the device, ok or failed after), so a campaign needs no separate
# campaign_status task around each device task (docs/performance.md: 2 host-tasks less per stage).
RECORD_ARGSPEC = {
    "record": {
        "type": "dict",
        "options": {
            "stage": {"type": "str", "required": True, "choices": list(STAGES)},
            "also_ok": {"type": "list", "elements": "str", "choices": list(STAGES), "default": []},
            "details": {"type": "dict"},
            "campaign_dir": {"type": "path"},
            "campaign_id": {"type": "str"},
            "device": {"type": "str"},
            "batch": {"type": "int"},
        },
    },
}
# Where the action plugin finds the sub-options a task does not give (only read when ``record`` is set:
# swim_campaign_dir cannot be templated outside a campaign).
RECORD_VARS = {"campaign_dir": "swim_campaign_dir", "campaign_id": "swim_campaign_id",
               "device": "inventory_hostname", "batch": "swim_batch"}


def running_image(result: dict) -> dict | None:
    """What a device task saw running: {running_version, committed} (None when the result does not say)."""
    versions = result.get("after") or (result.get("snapshot") or {}).get("versions") or result
    active = (versions.get("active") or [None])[0] if isinstance(versions, dict) else None
    if not isinstance(active, dict) or not active.get("version"):
        return None
    seen = {"running_version": active["version"]}
    if active.get("committed") is not None:
        seen["committed"] = bool(active["committed"])
    return seen


class StageRecorder:
    """One device task recorded as one stage of its device's row."""

    def __init__(self, spec: dict, default_device: str):
        self.spec = spec
        self.device = spec.get("device") or default_device
        missing = [key for key in ("campaign_dir", "campaign_id") if not spec.get(key)]
        if missing:
            raise RecordError(f"record needs {' and '.join(missing)} (or the variables "
                              f"{', '.join(RECORD_VARS[key] for key in missing)})")
        self.written: list[dict] = []
        self.row: dict | None = None

    def _record(self, stage: str, state: str, **kwargs) -> None:
        self.row = record(self.spec["campaign_dir"], self.spec["campaign_id"], self.device, stage, state,
                          batch=self.spec.get("batch"), **kwargs)
        self.written.append({"stage": stage, "state": state})

    def start(self) -> None:
        self._record(self.spec["stage"], "running", details=self.spec.get("details"))

    def finish(self, result: dict) -> None:
        """Record the task's outcome; a table that cannot be written fails the task (saying what the device did)."""
        try:
            if result.get("failed"):
                self._record(self.spec["stage"], "failed", error=result.get("msg") or "failed",
                             error_code=result.get("reason") or "FAILED")
            else:
                seen = running_image(result)
                for stage in [self.spec["stage"]] + [s for s in self.spec["also_ok"] if s != self.spec["stage"]]:
                    self._record(stage, "ok", details=seen)
        except (RecordError, OSError) as exc:
            outcome = "failed" if result.get("failed") else "succeeded"
            result.update(failed=True, reason=result.get("reason") or "STATUS_NOT_RECORDED",
                          msg=f"{result.get('msg') or self.device + ': the task ' + outcome}; "
                              f"the status table could not be written: {exc}")
        result["recorded"] = self.written
        if result.get("failed"):
            result["stage"] = self.spec["stage"]    # what an enclosing rescue records and reports (no task names)
        if self.row is not None:
            result["status_row"] = self.row     # what campaign_status returns as `row` (the Kafka monitor reads it)
