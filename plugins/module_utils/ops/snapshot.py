# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""snapshot: record what a device exposes, and compare two records (pre/post-upgrade gate)."""

from __future__ import annotations

import json

from ..atomic_file import write_atomic
from ..clock import utc_now
from ..device import DeviceError
from ..snapshot_compare import SCHEMA_VERSION, compare
from .common import ArgumentError

ARGUMENT_SPEC = {
    "manage": {"type": "bool", "default": False},
    "dest": {"type": "path"},
    "compare_to": {"type": "path"},
    "current": {"type": "path"},
    "expect_active_version": {"type": "str"},
    "compare_inventory": {"type": "bool", "default": True},
    "compare_startup_config": {"type": "bool", "default": True},
    "sensor_tolerance": {"type": "dict", "default": {}},
    "max_new_alarms": {"type": "int", "default": 0},
    "keep_existing": {"type": "bool", "default": False},
    "fail_on_alarm_severity": {"type": "str", "choices": ["critical", "major", "minor", "warning"]},
    "require_images": {"type": "bool", "default": False},
}
VALIDATION_RULES = {"required_by": {"current": ("compare_to",)},
                    "required_if": [("keep_existing", True, ("dest",))],
                    "mutually_exclusive": [("keep_existing", "current")]}
# Alarm severities, lowest first (NETCONF's "indeterminate" ranks below all of them: it never blocks).
SEVERITY_RANK = {"warning": 1, "minor": 2, "major": 3, "critical": 4}
# Comparing two saved snapshots needs no device at all.
COMPARE_OPTIONS = ("expect_active_version", "compare_inventory", "compare_startup_config", "sensor_tolerance",
                   "max_new_alarms")


def collect(ctx) -> dict:
    device = ctx.device
    versions = device.versions()
    return {
        "schema": SCHEMA_VERSION,
        "device": device.name,
        "transport": device.transport,
        "taken_at": utc_now(),
        "versions": versions.as_dict(),
        "startup_config": device.startup_config(),
        "inventory": device.inventory(),
        "health": device.health(),
    }


def _load(path: str, label: str):
    """A saved snapshot, or None when it is missing/unreadable (the comparison then fails closed)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ArgumentError(f"{label} snapshot {path} cannot be read: {exc}")


def _write(path: str, snapshot: dict) -> None:
    write_atomic(path, json.dumps(snapshot, indent=2, sort_keys=True) + "\n", prefix=".snapshot-", suffix=".json")


def check_ready(ctx, snapshot: dict) -> None:
    """The precheck gates: blocking alarms, and a valid active image (today's, the fallback of the upgrade)."""
    params = ctx.params
    snapshot = snapshot or {}
    threshold = params.get("fail_on_alarm_severity")
    if threshold:
        blocking = [alarm for alarm in snapshot.get("health", {}).get("alarms", [])
                    if SEVERITY_RANK.get(alarm.get("severity"), 0) >= SEVERITY_RANK[threshold]]
        if blocking:
            raise DeviceError(ctx.name, "precheck", "BLOCKING_ALARMS",
                              f"{threshold} or worse: " + json.dumps(blocking, sort_keys=True),
                              extra={"snapshot": snapshot})
    if params.get("require_images"):
        # What the upgrade needs: an active image the device can fall back to. The standby may be empty
        # or invalid (an earlier failed download, a wiped partition): the download writes it anyway.
        active = (snapshot.get("versions", {}).get("active") or [{}])[0]
        if not active.get("name"):
            raise DeviceError(ctx.name, "precheck", "NO_USABLE_IMAGE",
                              "the device reports no active image: nothing known-good to fall back to",
                              extra={"snapshot": snapshot})
        if active.get("valid") is False:
            raise DeviceError(ctx.name, "precheck", "NO_USABLE_IMAGE",
                              f"the active image {active.get('name')} {active.get('version', '')} is reported invalid: "
                              "nothing known-good to fall back to", extra={"snapshot": snapshot})


def run(ctx) -> dict:
    params = ctx.params
    if params.get("current") and not params.get("compare_to"):
        raise ArgumentError("current needs compare_to")
    kept = None
    if params.get("current"):
        current = _load(params["current"], "current")
    else:
        # A resumed campaign keeps its first backup: taken again it would record the new image.
        kept = _load(params["dest"], "dest") if params.get("keep_existing") else None
        current = kept if kept is not None else collect(ctx)
    check_ready(ctx, current)
    result = {"changed": False, "snapshot": current}
    if params.get("dest") and not params.get("current"):
        if not ctx.check_mode and kept is None:
            _write(params["dest"], current)
        result["dest"] = params["dest"]
        result["kept"] = kept is not None
    if not params.get("compare_to"):
        if kept is not None:
            result["msg"] = f"{ctx.name}: snapshot kept from {params['dest']}"
        elif params.get("dest") and ctx.check_mode:     # check mode writes nothing: say so
            result["msg"] = f"{ctx.name}: snapshot taken; check mode: not written to {params['dest']}"
        else:
            result["msg"] = f"{ctx.name}: snapshot taken" + (f" and written to {params['dest']}" if params.get("dest") else "")
        return result
    before = _load(params["compare_to"], "compare_to")
    diff, violations = compare(before, current, **{key: params[key] for key in COMPARE_OPTIONS})
    result.update(comparison=diff, violations=violations, passed=not violations)
    if violations:
        raise DeviceError(ctx.name, "snapshot compare", "SNAPSHOT_MISMATCH", "; ".join(violations),
                          extra={k: result[k] for k in ("snapshot", "comparison", "violations", "passed")})
    result["msg"] = f"{ctx.name}: snapshot matches {params['compare_to']}"
    return result
