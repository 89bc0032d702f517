# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The report's device rows as CSV (one line per device, the same rows as the HTML page). PRIVATE."""

from __future__ import annotations

import csv
import io

from ..campaign_record import STAGES

COLUMNS = ["device", "batch", "outcome", "from_version", "to_version", "reason", "failed_stage", "error_code",
           "start_s", "end_s", "duration_s"] + [f"{stage}_state" for stage in STAGES]


def render(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for device in report["devices"]:
        states = {stage["name"]: stage["state"] for stage in device["stages"]}
        duration = "" if device["start"] is None or device["end"] is None else round(device["end"] - device["start"], 3)
        writer.writerow([device["device"], "" if device["batch"] is None else device["batch"], device["outcome"],
                         device["from_version"], device["to_version"], device["reason"], device["failed_stage"],
                         device["error_code"], "" if device["start"] is None else device["start"],
                         "" if device["end"] is None else device["end"], duration]
                        + [states.get(stage, "") for stage in STAGES])
    return out.getvalue()
