# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""One plain-data description of a campaign, built from its directory: what every report format shows.

PRIVATE to the collection. Times are seconds since the campaign's first recorded action, so the renderers
never parse dates. Each device gets its outcome and the full reason in words (the fallback image, the
unreachable device, why it was skipped), its stages as timeline segments and its pre/post snapshot changes.
"""

from __future__ import annotations

import re

from ..campaign.outcome import report_outcome
from ..campaign_record import STAGES, outcome_of
from ..clock import parse_time
from ..snapshot_compare import compare
from .load import CampaignFiles

OUTCOMES = ("upgraded", "failed", "rolled_back", "skipped", "in_progress", "pending")
UPGRADE_STAGES = ("download", "activate", "verify", "postcheck")
_NATURAL = re.compile(r"(\d+)")
_UNREACHABLE = ("UNREACHABLE", "CONNECT_TIMEOUT", "CONNECTION_REFUSED", "DEVICE_UNREACHABLE", "DEVICE_NOT_REACHABLE")


def natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in _NATURAL.split(str(name))]


def _seconds(stamp, origin):
    moment = parse_time(stamp) if isinstance(stamp, str) else None
    return None if moment is None or origin is None else round((moment - origin).total_seconds(), 3)


def _origin(files: CampaignFiles):
    stamps = [parse_time(entry.get("time")) for entry in files.log if isinstance(entry.get("time"), str)]
    for row in files.rows:
        for stage in (row.get("stages") or {}).values():
            stamps += [parse_time(stage.get(key)) for key in ("start", "end") if isinstance(stage.get(key), str)]
    stamps = [stamp for stamp in stamps if stamp is not None]
    return (min(stamps), max(stamps)) if stamps else (None, None)


def _stages(row: dict, origin, until: float) -> list:
    stages = []
    for name in STAGES:
        entry = (row.get("stages") or {}).get(name)
        if not isinstance(entry, dict):
            continue
        start = _seconds(entry.get("start"), origin)
        end = _seconds(entry.get("end"), origin)
        if entry.get("state") == "running" and end is None:
            end = until                             # still running when the report was written
        stages.append({"name": name, "state": entry.get("state", ""), "start": start, "end": end,
                       "seconds": None if start is None or end is None else round(end - start, 3),
                       "error": entry.get("error") or "", "error_code": entry.get("error_code") or ""})
    return sorted(stages, key=lambda stage: (stage["start"] is None, stage["start"] or 0.0))


def reason_of(row: dict, outcome: str) -> str:
    """The device's outcome in words, with everything the row knows about why."""
    stages = row.get("stages") or {}
    details = row.get("details") or {}
    source, target = details.get("from_version"), details.get("to_version")
    failed = [(name, stages[name]) for name in STAGES if (stages.get(name) or {}).get("state") == "failed"]
    if outcome == "upgraded":
        return f"upgraded {source or '?'} \u2192 {target or '?'}" if source or target else "upgraded"
    if outcome == "skipped":
        reasons = [entry.get("error") for entry in stages.values() if entry.get("state") == "skipped" and entry.get("error")]
        return "skipped: " + ("; ".join(dict.fromkeys(reasons)) if reasons else "no reason recorded")
    if outcome in ("failed", "rolled_back"):
        parts = []
        for name, entry in failed:
            code = entry.get("error_code") or ""
            text = entry.get("error") or "failed"
            prefix = "unreachable at " if code in _UNREACHABLE else ""
            parts.append(f"{prefix}{name} failed" + (f" ({code})" if code else "") + f": {text}")
        rollback = stages.get("rollback") or {}
        if rollback.get("state") == "ok":
            parts.append(f"rolled back to {source}" if source else "rolled back")
        elif rollback.get("state") == "failed":
            parts.append(f"rollback failed: {rollback.get('error') or rollback.get('error_code') or 'failed'}")
        elif failed and source and (stages.get("download") or {}).get("state") == "ok":
            parts.append(f"left on {source}")
        if failed and failed[0][0] == "precheck":
            parts.append("left out of the campaign")
        return "; ".join(parts) or outcome
    running = [name for name, entry in stages.items() if entry.get("state") == "running"]
    if running:
        return f"{', '.join(running)} still running when the report was written"
    return "not reached by the campaign (yet)"


def snapshot_changes(pair: dict | None) -> dict | None:
    """What changed between the pre and post snapshot (snapshot_compare's diff, summarised), None without both."""
    if not pair or not pair.get("pre") or not pair.get("post"):
        return None
    diff, problems = compare(pair["pre"], pair["post"], compare_inventory=True, compare_startup_config=True)
    if not diff:
        return {"problems": problems}
    versions = diff.get("versions", {})

    def version(side: str, part: str) -> str:
        images = (versions.get(side) or {}).get(part) or []
        return images[0].get("version", "") if images and isinstance(images[0], dict) else ""

    sensors = [{"name": name, **entry} for name, entry in sorted(diff.get("sensors", {}).items())
               if entry.get("before") != entry.get("after")]
    startup = diff.get("startup_config") or {}
    return {"active": [version("before", "active"), version("after", "active")],
            "standby": [version("before", "standby"), version("after", "standby")],
            "inventory_added": diff.get("inventory", {}).get("added", []),
            "inventory_removed": diff.get("inventory", {}).get("removed", []),
            "startup_config_changed": startup.get("before") != startup.get("after"),
            "sensors": sensors, "alarms_new": diff.get("alarms", {}).get("new", []),
            "alarms_cleared": diff.get("alarms", {}).get("cleared", []), "problems": []}


def _batches(meta: dict, devices: list) -> list:
    planned = {batch.get("index"): batch for batch in meta.get("batches") or [] if isinstance(batch, dict)}
    indexes = sorted({device["batch"] for device in devices if isinstance(device["batch"], int)} | set(planned))
    batches = []
    for index in indexes:
        members = [device for device in devices if device["batch"] == index]
        plan = planned.get(index, {})
        spans = [stage for device in members for stage in device["stages"]
                 if stage["name"] in UPGRADE_STAGES + ("rollback",) and stage["start"] is not None]
        batches.append({"index": index, "step": plan.get("step", ""), "group": plan.get("group", ""),
                        "canary": bool(plan.get("canary")), "pause_before": bool(plan.get("pause_before")),
                        "hosts": plan.get("hosts") or [device["device"] for device in members],
                        "start": min((s["start"] for s in spans), default=None),
                        "end": max((s["end"] for s in spans if s["end"] is not None), default=None)})
    return batches


def _overlap(windows_a: list, windows_b: list) -> bool:
    return any(a0 < b1 and b0 < a1 for a0, a1 in windows_a for b0, b1 in windows_b)


def _redundancy(meta: dict, devices: dict) -> list:
    groups = []
    for group in meta.get("redundancy_groups") or []:
        members = sorted(group.get("members") or [], key=natural_key)
        windows = {name: [(s["start"], s["end"]) for s in devices[name]["stages"]
                          if s["name"] in ("activate", "rollback") and s["start"] is not None and s["end"] is not None]
                   for name in members if name in devices}
        names = list(windows)
        together = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if _overlap(windows[a], windows[b])]
        groups.append({"label": group.get("label", ""), "max_down": group.get("max_down"),
                       "members": [{"device": name, "outcome": devices[name]["outcome"] if name in devices else "pending",
                                    "batch": devices[name]["batch"] if name in devices else None} for name in members],
                       "down_together": [list(pair) for pair in together]})
    return groups


def overall_outcome(meta: dict, counts: dict) -> str:
    """The run's own outcome when it wrote one (campaign_status run_facts), else the same words from the rows."""
    return meta.get("outcome") or report_outcome(counts)


def build(files: CampaignFiles, generated: str = "") -> dict:
    """The report model of *files* (see the module docstring)."""
    origin, last = _origin(files)
    until = _seconds(last.isoformat(), origin) if last else 0.0
    meta = files.meta
    batch_of = {host: batch.get("index") for batch in meta.get("batches") or [] for host in batch.get("hosts") or []}
    devices = []
    for row in sorted(files.rows, key=lambda r: natural_key(r["device"])):
        outcome = row.get("outcome") or outcome_of(row)
        stages = _stages(row, origin, until or 0.0)
        starts = [s["start"] for s in stages if s["start"] is not None]
        ends = [s["end"] for s in stages if s["end"] is not None]
        failed = next((s for s in stages if s["state"] == "failed"), None)
        details = row.get("details") or {}
        batch = row.get("batch") if isinstance(row.get("batch"), int) else batch_of.get(row["device"])
        devices.append({
            "device": row["device"], "batch": batch, "outcome": outcome if outcome in OUTCOMES else "pending",
            "reason": reason_of(row, outcome), "from_version": details.get("from_version") or "",
            "to_version": details.get("to_version") or "", "stages": stages,
            "failed_stage": failed["name"] if failed else "", "error_code": failed["error_code"] if failed else "",
            "start": min(starts, default=None), "end": max(ends, default=None),
            "snapshot": snapshot_changes(files.snapshots.get(row["device"]))})
    by_name = {device["device"]: device for device in devices}
    counts = {outcome: sum(1 for device in devices if device["outcome"] == outcome) for outcome in OUTCOMES}
    campaign = dict(meta.get("campaign") or {})
    campaign.setdefault("id", next((row.get("campaign") for row in files.rows if row.get("campaign")), "?"))
    return {
        "campaign": campaign, "outcome": overall_outcome(meta, counts), "counts": counts, "total": len(devices),
        "started": origin.isoformat().replace("+00:00", "Z") if origin else "",
        "ended": last.isoformat().replace("+00:00", "Z") if last else "", "duration": until or 0.0,
        "image": meta.get("image") or {}, "recovery": meta.get("recovery") or {},
        "stopped_after_batch": meta.get("stopped_after_batch"), "batches": _batches(meta, devices),
        "devices": devices, "redundancy_groups": _redundancy(meta, by_name),
        "log_lines": len(files.log), "directory": files.directory, "generated": generated,
        "problems": list(files.problems),
    }
