# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The campaign timeline as inline SVG: one lane per device, its stages as bars on one time axis.

PRIVATE. Batches are shaded bands, a coordination gate is a flag at its batch's start, the activation bar
is the reboot window, the gap between a device's backup and its batch is "waiting for its batch", a device
held back or already on the target shows its reason in its lane. Every bar has a <title> (hover text).
"""

from __future__ import annotations

from html import escape

STAGE_COLORS = {"precheck": "#94a3b8", "backup": "#a5b4fc", "download": "#3b82f6", "activate": "#8b5cf6",
                "verify": "#14b8a6", "postcheck": "#22c55e", "rollback": "#f59e0b"}
STAGE_LABELS = {"activate": "activate (reboot)"}
LABEL_WIDTH = 150
PLOT_WIDTH = 900
LANE = 24
TOP = 46


def _nice_step(span: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if span / step <= 10:
            return step
    return 28800


def clock(seconds: float) -> str:
    seconds = int(round(seconds or 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _text(x, y, text, css="", anchor="start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}">{escape(str(text))}</text>'


def _fit(text: str, room: float) -> str:
    """*text* cut to what fits in *room* SVG units at the hold label's size (about 5.6 units a character)."""
    most = max(int(room / 5.6), 4)
    return text if len(text) <= most else text[:most - 1] + "\u2026"


def render(report: dict) -> str:
    # Lanes in batch order: the batches read as a staircase from the top left.
    devices = sorted(report["devices"], key=lambda d: (d["batch"] is None, d["batch"] or 0, d["start"] or 0.0))
    span = max(float(report.get("duration") or 0.0), 1.0)
    height = TOP + LANE * max(len(devices), 1) + 28
    width = LABEL_WIDTH + PLOT_WIDTH + 20

    def x_of(seconds) -> float:
        return LABEL_WIDTH + PLOT_WIDTH * max(0.0, min(float(seconds or 0.0), span)) / span

    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="timeline of {len(devices)} devices" xmlns="http://www.w3.org/2000/svg">',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fee2e2"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#ef4444" stroke-width="3"/></pattern></defs>']
    lane_of = {device["device"]: index for index, device in enumerate(devices)}
    bottom = TOP + LANE * len(devices)
    for position, batch in enumerate(report["batches"]):
        members = [lane_of[host] for host in batch["hosts"] if host in lane_of]
        if batch["start"] is None or batch["end"] is None:
            continue
        x0, x1 = x_of(batch["start"]), x_of(batch["end"])
        shade = "band-a" if position % 2 == 0 else "band-b"
        title = f"batch {batch['index']}" + (f" ({batch['step']}{', canary' if batch['canary'] else ''})" if batch["step"] else "")
        parts.append(f'<g class="batch"><title>{escape(title)}: {escape(", ".join(batch["hosts"]))}, '
                     f'{clock(batch["start"])} to {clock(batch["end"])}</title>'
                     f'<rect x="{x0:.1f}" y="{TOP - 16}" width="{max(x1 - x0, 2):.1f}" height="{bottom - TOP + 16}" '
                     f'class="{shade}" rx="4"/>')
        parts.append(_text(x0 + 3, TOP - 5, f"b{batch['index']}" + (" canary" if batch["canary"] else ""), "batch-label"))
        for lane in members:
            y = TOP + LANE * lane
            parts.append(f'<rect x="{x0:.1f}" y="{y + 1}" width="{max(x1 - x0, 2):.1f}" height="{LANE - 2}" class="lane-mark"/>')
        if batch["pause_before"]:
            parts.append(f'<g class="gate"><title>coordination gate before batch {batch["index"]}</title>'
                         f'<path d="M{x0:.1f} {TOP - 30} v14 M{x0:.1f} {TOP - 30} l9 4 l-9 4" stroke="#0f172a" '
                         'fill="#fbbf24" stroke-width="1.2"/></g>')
        parts.append("</g>")
    step = _nice_step(span)
    tick = 0.0
    while tick <= span + 1e-9:
        x = x_of(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 16}" x2="{x:.1f}" y2="{bottom}" class="grid"/>')
        parts.append(_text(x, bottom + 16, clock(tick), "tick", "middle"))
        tick += step
    for index, device in enumerate(devices):
        y = TOP + LANE * index
        parts.append(f'<g class="lane" data-device="{escape(device["device"])}" data-outcome="{escape(device["outcome"])}">')
        parts.append(_text(LABEL_WIDTH - 26, y + LANE / 2 + 4, device["device"], "lane-label", "end"))
        parts.append(f'<circle cx="{LABEL_WIDTH - 14}" cy="{y + LANE / 2}" r="5" class="dot-{escape(device["outcome"])}">'
                     f'<title>{escape(device["outcome"])}</title></circle>')
        stages = [s for s in device["stages"] if s["start"] is not None]
        backup_end = max((s["end"] for s in stages if s["name"] in ("precheck", "backup") and s["end"] is not None),
                         default=None)
        upgrade_start = min((s["start"] for s in stages if s["name"] in ("download", "activate")), default=None)
        if backup_end is not None and upgrade_start is not None and upgrade_start - backup_end > span / 200:
            parts.append(f'<line x1="{x_of(backup_end):.1f}" y1="{y + LANE / 2}" x2="{x_of(upgrade_start):.1f}" '
                         f'y2="{y + LANE / 2}" class="wait"><title>{escape(device["device"])}: waiting for its batch, '
                         f'{clock(upgrade_start - backup_end)}</title></line>')
        for stage in stages:
            end = stage["end"] if stage["end"] is not None else stage["start"]
            x0, x1 = x_of(stage["start"]), x_of(end)
            fill = "url(#hatch)" if stage["state"] == "failed" else STAGE_COLORS.get(stage["name"], "#64748b")
            css = f"bar state-{stage['state']}"
            label = STAGE_LABELS.get(stage["name"], stage["name"])
            detail = f" {stage['error_code']}: {stage['error']}" if stage["state"] == "failed" else ""
            if stage["state"] == "skipped":
                parts.append(f'<g class="hold"><title>{escape(device["device"])}: {escape(device["reason"])}</title>'
                             f'<rect x="{x0 - 3:.1f}" y="{y + 6}" width="6" height="{LANE - 12}" fill="#cbd5e1" rx="1"/>'
                             + _text(x0 + 8, y + LANE / 2 + 4, _fit(device["reason"], width - x0 - 12), "hold-label") + "</g>")
                continue
            parts.append(f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 2.5):.1f}" height="{LANE - 10}" rx="3" '
                         f'fill="{fill}" class="{css}"><title>{escape(device["device"])} {escape(label)}: '
                         f'{escape(stage["state"])}, {clock(stage["start"])} + {stage["seconds"] or 0:.1f} s'
                         f'{escape(detail)}</title></rect>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def legend() -> str:
    items = [f'<span class="key"><i style="background:{color}"></i>{escape(STAGE_LABELS.get(name, name))}</span>'
             for name, color in STAGE_COLORS.items()]
    items += ['<span class="key"><i class="k-failed"></i>failed stage</span>',
              '<span class="key"><i class="k-wait"></i>waiting for its batch</span>',
              '<span class="key"><i class="k-hold"></i>held back / skipped</span>',
              '<span class="key"><i class="k-gate"></i>coordination gate</span>',
              '<span class="key"><i class="k-band"></i>batch</span>']
    return '<div class="legend">' + "".join(items) + "</div>"
