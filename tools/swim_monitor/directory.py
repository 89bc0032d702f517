"""``swim monitor --dir <campaign dir>``: the monitor's table from a campaign directory, without Kafka.

The status rows (status/<device>.json) are the campaign's own truth: stage, state, outcome, batch and error of
each device. A campaign is shown finished once its campaign.json (written by escalator.swim.campaign_report at
the end of every run, with the run's outcome) is newer than every row.
"""
from __future__ import annotations

import json
import os

from .state import STAGES, DeviceRow, FleetState, RunInfo


def _latest_stage(stages: dict) -> str | None:
    entries = {name: entry for name, entry in stages.items() if isinstance(entry, dict)}
    return max(entries, key=lambda name: (max(str(entries[name].get("end") or ""), str(entries[name].get("start") or "")),
                                          STAGES.index(name) if name in STAGES else -1), default=None)


def _device(data: dict) -> DeviceRow:
    stages = data.get("stages") or {}
    stage = _latest_stage(stages)
    failed = [(name, entry) for name, entry in stages.items() if isinstance(entry, dict) and entry.get("state") == "failed"]
    error = None
    if failed:
        name, entry = failed[-1]
        error = f"{name}: " + ": ".join(part for part in (entry.get("error_code"), entry.get("error")) if part)
    return DeviceRow(data["device"], stage=stage, state=(stages.get(stage) or {}).get("state"), last_error=error,
                     updated=data.get("updated"), campaign_id=data.get("campaign"), outcome=data.get("outcome"),
                     batch=data.get("batch"))


def read_directory(directory: str) -> FleetState:
    """The table of the campaign in *directory*; raises ValueError when it is no campaign directory."""
    status = os.path.join(directory, "status")
    if not os.path.isdir(status):
        raise ValueError(f"{directory}: not a campaign directory (no status/)")
    rows, newest = [], 0.0
    for name in sorted(os.listdir(status)):
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = os.path.join(status, name)
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            newest = max(newest, os.path.getmtime(path))
        except (OSError, ValueError):
            continue            # being replaced right now (rows are replaced atomically): next read has it
        if isinstance(data, dict) and data.get("device"):
            rows.append(data)
    campaign = next((row.get("campaign") for row in rows if row.get("campaign")), os.path.basename(directory))
    state = FleetState(campaign=campaign)
    for data in rows:
        state.devices[data["device"]] = _device(data)
    state.applied = len(rows)
    run = RunInfo(run_id=directory, playbook="campaign directory", campaign_id=campaign)
    meta = os.path.join(directory, "campaign.json")
    try:
        if os.path.getmtime(meta) >= newest:
            with open(meta, encoding="utf-8") as handle:
                outcome = json.load(handle).get("outcome")
            run.status = f"finished: {outcome}" if outcome else "finished"
    except (OSError, ValueError):
        pass
    state.runs[directory] = run
    return state
