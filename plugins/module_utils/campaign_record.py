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
import tempfile

from .device import redact, utc_now

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
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    if state == "running" or "start" not in entry:
        entry["start"] = now
    entry.pop("end", None) if state == "running" else entry.__setitem__("end", now)
    entry.update(state=state, error=redact(error or ""), error_code=error_code or "")
    row["stages"][stage] = entry
    if batch is not None:
        row["batch"] = batch
    if details:
        row.setdefault("details", {}).update(redact(details))
    row["updated"] = now
    row["outcome"] = outcome_of(row)
    _write_json(row_path(campaign_dir, device), row)
    log_line(campaign_dir, {"time": now, "campaign": campaign_id, "device": device, "action": stage,
                            "result": state, "error_code": error_code or "", "error": error or ""})
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
    if states.get("postcheck") == "ok" or (states.get("verify") == "ok" and "postcheck" not in states):
        return "upgraded"
    if states and all(state == "skipped" for state in states.values()):
        return "skipped"
    # Checked, then left out (already on the target, or held back by its redundancy group).
    if states.get("verify") == "skipped" and not {"download", "activate"} & states.keys():
        return "skipped"
    return "pending"


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
    header = ["device", "batch"] + list(STAGES) + ["outcome", "error"]
    lines = [header]
    for row in rows:
        stages = row.get("stages", {})
        errors = [f"{name}: {entry['error_code'] or entry['error']}" for name, entry in stages.items()
                  if entry.get("state") == "failed"]
        lines.append([row["device"], str(row.get("batch", "-"))]
                     + [stages.get(stage, {}).get("state", "-") for stage in STAGES]
                     + [row.get("outcome", ""), "; ".join(errors)[:80]])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)


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


def release_lock(lock_dir: str, device: str, campaign_id: str) -> bool:
    """Release *device* if this campaign holds it; True when a lock was removed."""
    holder = lock_holder(lock_dir, device)
    if holder is None:
        return False
    if holder != campaign_id:
        raise RecordError(f"{device} is locked by campaign {holder!r}, not {campaign_id!r}; not releasing it")
    os.unlink(os.path.join(lock_dir, device + ".lock"))
    return True
