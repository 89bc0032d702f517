# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Compare two device snapshots under explicit rules (pure functions, no device I/O).

PRIVATE to the collection. Used as the pre/post gate of an upgrade: it fails closed, so a
missing or empty snapshot is a violation, never a pass.
"""

from __future__ import annotations

import fnmatch

SCHEMA_VERSION = 1
# Fields that identify a piece of hardware; revisions of firmware/software may change with an upgrade.
IDENTITY_FIELDS = ("name", "class", "parent", "serial_num", "model_name", "mfg_name", "hardware_rev", "is_fru")
REQUIRED_SECTIONS = ("device", "versions", "inventory", "health")


def problems_of(snapshot, label: str) -> list[str]:
    """Why *snapshot* cannot be used for a comparison (empty list: usable)."""
    if not isinstance(snapshot, dict) or not snapshot:
        return [f"{label} snapshot is missing or empty"]
    missing = [key for key in REQUIRED_SECTIONS if not snapshot.get(key)]
    if missing:
        return [f"{label} snapshot lacks {', '.join(missing)}"]
    if snapshot.get("schema") != SCHEMA_VERSION:
        return [f"{label} snapshot has schema {snapshot.get('schema')!r}, expected {SCHEMA_VERSION}"]
    return []


def _identity(component: dict) -> tuple:
    return tuple(component.get(key) for key in IDENTITY_FIELDS)


def _version(snapshot: dict, part: str) -> str:
    images = snapshot.get("versions", {}).get(part) or []
    return images[0].get("version", "") if images else ""


def compare(before, after, *, expect_active_version: str | None = None, compare_inventory: bool = True,
            compare_startup_config: bool = True, sensor_tolerance: dict | None = None,
            max_new_alarms: int = 0) -> tuple[dict, list[str]]:
    """Return ``(diff, violations)``; no violations means the gate passes."""
    violations = problems_of(before, "before") + problems_of(after, "after")
    if violations:
        return {}, violations
    diff: dict = {"versions": {"before": before["versions"], "after": after["versions"]}}

    if before.get("device") != after.get("device"):
        violations.append(f"snapshots are of different devices: {before.get('device')} vs {after.get('device')}")
    if expect_active_version is not None and _version(after, "active") != expect_active_version:
        violations.append(f"active version is {_version(after, 'active') or 'unknown'}, "
                          f"expected {expect_active_version}")

    old = {_identity(c): c for c in before["inventory"].get("components", [])}
    new = {_identity(c): c for c in after["inventory"].get("components", [])}
    removed = sorted((c["name"] for k, c in old.items() if k not in new), key=str)
    added = sorted((c["name"] for k, c in new.items() if k not in old), key=str)
    diff["inventory"] = {"added": added, "removed": removed}
    if compare_inventory and (added or removed):
        violations.append(f"hardware inventory changed: added {added or 'none'}, removed {removed or 'none'}")

    diff["startup_config"] = {"before": before.get("startup_config"), "after": after.get("startup_config")}
    if compare_startup_config and before.get("startup_config") != after.get("startup_config"):
        violations.append("startup configuration changed")

    sensors_before = before["health"].get("sensors", {})
    sensors_after = after["health"].get("sensors", {})
    sensor_diff = {}
    for name in sorted(set(sensors_before) | set(sensors_after)):
        value_before = (sensors_before.get(name) or {}).get("value")
        value_after = (sensors_after.get(name) or {}).get("value")
        entry = {"before": value_before, "after": value_after}
        if isinstance(value_before, (int, float)) and isinstance(value_after, (int, float)):
            entry["delta"] = round(value_after - value_before, 6)
        sensor_diff[name] = entry
        for pattern, tolerance in (sensor_tolerance or {}).items():
            if not fnmatch.fnmatchcase(name, pattern):
                continue
            if "delta" not in entry:
                violations.append(f"sensor {name} is missing in one snapshot")
            elif abs(entry["delta"]) > float(tolerance):
                violations.append(f"sensor {name} changed by {entry['delta']:+g}, tolerance {float(tolerance):g}")
            break
    diff["sensors"] = sensor_diff

    alarms_before = {(a.get("component"), a.get("severity")) for a in before["health"].get("alarms", [])}
    alarms_after = {(a.get("component"), a.get("severity")) for a in after["health"].get("alarms", [])}
    new_alarms = sorted(alarms_after - alarms_before, key=str)
    diff["alarms"] = {"new": [{"component": c, "severity": s} for c, s in new_alarms],
                      "cleared": [{"component": c, "severity": s} for c, s in sorted(alarms_before - alarms_after, key=str)]}
    if len(new_alarms) > max_new_alarms:
        violations.append(f"{len(new_alarms)} new alarm(s) (at most {max_new_alarms} allowed): "
                          + ", ".join(f"{c} {s}" for c, s in new_alarms))
    return diff, violations
