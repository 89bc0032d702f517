# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The report's device rows as JUnit XML, for CI pipelines: one test suite per batch, one test case per device.

PRIVATE. A failed or rolled-back device is a <failure> (message: the reason, type: the error code), a skipped
device a <skipped>, a device the campaign did not finish an <error>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


def _suite_name(report: dict, batch) -> str:
    plan = next((b for b in report["batches"] if b["index"] == batch), None)
    if batch is None:
        return "not batched"
    label = f"batch {batch}"
    if plan and plan.get("step"):
        label += f" ({plan['step']}{', canary' if plan.get('canary') else ''})"
    return label


def render(report: dict) -> str:
    campaign = report["campaign"].get("id", "?")
    root = ET.Element("testsuites", name=f"campaign {campaign}", tests=str(report["total"]))
    suites: dict = {}
    for device in report["devices"]:
        suites.setdefault(device["batch"], []).append(device)
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for batch in sorted(suites, key=lambda b: (b is None, b if b is not None else 0)):
        members = suites[batch]
        suite = ET.SubElement(root, "testsuite", name=_suite_name(report, batch), tests=str(len(members)))
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        for device in members:
            seconds = 0.0 if device["start"] is None or device["end"] is None else device["end"] - device["start"]
            case = ET.SubElement(suite, "testcase", classname=f"swim.{campaign}", name=device["device"],
                                 time=f"{max(seconds, 0.0):.3f}")
            if device["outcome"] in ("failed", "rolled_back"):
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=device["reason"],
                                        type=device["error_code"] or device["outcome"].upper())
                failure.text = "\n".join(f"{s['name']}: {s['state']} {s['error_code']} {s['error']}".rstrip()
                                         for s in device["stages"])
            elif device["outcome"] == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=device["reason"])
            elif device["outcome"] != "upgraded":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=device["reason"], type=device["outcome"].upper())
            ET.SubElement(case, "system-out").text = device["reason"]
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
