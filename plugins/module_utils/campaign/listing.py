# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The batch listing the campaign playbooks print: one line per batch, why a redundancy group is split,
one line per skipped device. PRIVATE to the collection; the filter escalator.swim.campaign_listing."""

from __future__ import annotations

import typing as t


def batch_listing(resolution: t.Mapping, detail: bool = False) -> list[str]:
    """Lines for a resolve_plan result: ``batch <i> <step>[ (canary)]: <hosts>``, each split note once (under
    the last batch it concerns, as ``  why: ...``), then ``skipped <host>: <reason>``. *detail* (validate_plan)
    adds the pause marker, the image and the resolution's warnings."""
    batches = list(resolution.get("batches") or [])
    last_with = {note: batch["index"] for batch in batches for note in batch.get("notes") or []}
    lines = []
    for batch in batches:
        line = f"batch {batch['index']} {batch['step']}" + (" (canary)" if batch.get("canary") else "")
        if detail and batch.get("pause_before"):
            line += " [pause before]"
        line += ": " + ", ".join(batch["hosts"])
        if detail:
            line += f" -> {batch['image']['name']} {batch['image']['version']}"
        lines.append(line)
        lines += [f"  why: {note}" for note in batch.get("notes") or [] if last_with[note] == batch["index"]]
    lines += [f"skipped {item['host']}: {item['reason']}" for item in resolution.get("skipped_hosts") or []]
    if detail:
        lines += [f"warning: {warning}" for warning in resolution.get("warnings") or []]
    return lines
