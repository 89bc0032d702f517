# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Build every report format of a campaign directory and write them next to it. PRIVATE."""

from __future__ import annotations

import os

from ..clock import utc_now
from . import render_csv, render_html, render_junit
from .load import load_campaign, write_meta, write_text
from .model import build

FORMATS = {"html": ("report.html", render_html.render), "csv": ("report.csv", render_csv.render),
           "junit": ("report.junit.xml", render_junit.render)}


def write_reports(directory: str, *, meta: dict | None = None, formats=("html", "csv", "junit"),
                  dest: str | None = None) -> dict:
    """Write *formats* of the campaign in *directory* into *dest* (default: the directory itself).

    *meta* (the plan's batches, recovery, redundancy groups, the run's outcome) is saved first as
    campaign.json, so the report can be rebuilt from the directory alone. Returns {"report": model,
    "files": {format: path}}; raises ValueError when *directory* is no campaign directory.
    """
    if meta is not None:
        os.makedirs(directory, exist_ok=True)
        write_meta(directory, meta)
    report = build(load_campaign(directory), generated=utc_now())
    written = {}
    for name in formats:
        filename, renderer = FORMATS[name]
        path = os.path.join(dest or directory, filename)
        write_text(path, renderer(report))
        written[name] = path
    return {"report": report, "files": written}
