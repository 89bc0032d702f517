# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The campaign report as one self-contained HTML page (inline CSS and SVG, no script, no network). PRIVATE.

Top: the campaign, its plan and outcome, the counts. Then the timeline, every device with its outcome and
the full reason, the pre/post snapshot differences, the redundancy groups. Every device row carries
``data-device`` and ``data-outcome`` (the browser test reads them).
"""

from __future__ import annotations

from html import escape

from . import timeline_svg
from .model import OUTCOMES
from .style import CSS

OUTCOME_WORDS = {"upgraded": "upgraded", "failed": "failed", "rolled_back": "rolled back", "skipped": "skipped",
                 "in_progress": "in progress", "pending": "not reached"}


def _badge(outcome: str) -> str:
    return f'<span class="badge o-{escape(outcome)}">{escape(OUTCOME_WORDS.get(outcome, outcome))}</span>'


def _header(report: dict) -> str:
    campaign, image, recovery = report["campaign"], report["image"], report["recovery"]
    outcome = report["outcome"]
    tone = "ok" if outcome == "complete" else ("run" if "progress" in outcome else "bad")
    threshold = recovery.get("failure_threshold")
    policy = recovery.get("policy", "") + (f", threshold {threshold}" if threshold not in (None, "") else "")
    facts = [("target image", f"{image.get('name', '')} {image.get('version', '')}".strip() or "-"),
             ("started (UTC)", report["started"] or "-"), ("ended (UTC)", report["ended"] or "-"),
             ("duration", timeline_svg.clock(report["duration"])),
             ("batches", str(len(report["batches"]))),
             ("recovery", policy or "-")]
    if report.get("stopped_after_batch") not in (None, ""):
        facts.append(("stopped after", f"batch {report['stopped_after_batch']}"))
    facts_html = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    return (f'<header class="top"><div><h1>Campaign {escape(str(campaign.get("id", "?")))}</h1>'
            f'<div class="sub">{escape(campaign.get("description") or "")}</div><dl>{facts_html}</dl></div>'
            f'<div class="verdict {tone}" id="outcome">{escape(outcome)}</div></header>')


def _tiles(report: dict) -> str:
    total = report["total"] or 1
    tiles = [f'<div class="tile"><b>{report["total"]}</b><span>devices</span></div>']
    segments = []
    for outcome in OUTCOMES:
        count = report["counts"].get(outcome, 0)
        if count or outcome in ("upgraded", "failed"):
            tiles.append(f'<div class="tile o-{outcome}" data-count="{outcome}"><b>{count}</b>'
                         f'<span>{OUTCOME_WORDS[outcome]}</span></div>')
        if count:
            segments.append(f'<i class="o-{outcome}" style="width:{100 * count / total:.2f}%;background:var(--c)" '
                            f'title="{count} {OUTCOME_WORDS[outcome]}"></i>')
    return f'<div class="tiles">{"".join(tiles)}</div><div class="bar">{"".join(segments)}</div>'


def _batch_label(report: dict, index) -> str:
    batch = next((b for b in report["batches"] if b["index"] == index), None)
    if index is None:
        return '<span class="muted">-</span>'
    extra = f" {batch['step']}" if batch and batch.get("step") else ""
    return f"{index}<span class=\"muted\">{escape(extra)}{' canary' if batch and batch.get('canary') else ''}</span>"


def _chips(device: dict) -> str:
    chips = []
    for stage in device["stages"]:
        took = f" {stage['seconds']:.0f}s" if stage.get("seconds") else ""
        title = f"{stage['name']}: {stage['state']}{took}" + (f" {stage['error_code']}" if stage["error_code"] else "")
        chips.append(f'<span class="chip {escape(stage["state"])}" title="{escape(title)}">{escape(stage["name"])}</span>')
    return f'<div class="chips">{"".join(chips)}</div>'


def _devices(report: dict) -> str:
    rows = []
    for device in report["devices"]:
        versions = f"{device['from_version'] or '?'} \u2192 {device['to_version'] or '?'}" \
            if device["from_version"] or device["to_version"] else "-"
        rows.append(f'<tr class="device {escape(device["outcome"])}" data-device="{escape(device["device"])}" '
                    f'data-outcome="{escape(device["outcome"])}"><td class="name">{escape(device["device"])}</td>'
                    f'<td>{_batch_label(report, device["batch"])}</td><td>{_badge(device["outcome"])}</td>'
                    f'<td class="nowrap">{escape(versions)}</td><td class="reason">{escape(device["reason"])}</td>'
                    f'<td>{_chips(device)}</td></tr>')
    return ('<section class="card" id="devices"><h2>Devices</h2><table><thead><tr><th>device</th><th>batch</th>'
            '<th>outcome</th><th>versions</th><th>reason</th><th>stages</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></section>")


def _snapshot_rows(change: dict) -> list:
    rows = [("active image", " \u2192 ".join(change["active"])), ("standby image", " \u2192 ".join(change["standby"]))]
    if change["inventory_added"] or change["inventory_removed"]:
        rows.append(("hardware", f"added {', '.join(change['inventory_added']) or 'none'}; "
                                 f"removed {', '.join(change['inventory_removed']) or 'none'}"))
    rows.append(("startup configuration", "changed" if change["startup_config_changed"] else "unchanged"))
    for sensor in change["sensors"]:
        delta = f" ({sensor['delta']:+g})" if "delta" in sensor else ""
        rows.append((f"sensor {sensor['name']}", f"{sensor['before']} \u2192 {sensor['after']}{delta}"))
    for alarm in change["alarms_new"]:
        rows.append(("new alarm", f"{alarm['component']} {alarm['severity']}"))
    for alarm in change["alarms_cleared"]:
        rows.append(("cleared alarm", f"{alarm['component']} {alarm['severity']}"))
    return rows


def _snapshots(report: dict) -> str:
    parts = []
    for device in report["devices"]:
        change = device["snapshot"]
        if change is None:
            continue
        if change.get("problems") and "active" not in change:
            parts.append(f"<details><summary>{escape(device['device'])}</summary>"
                         f"<p class=\"muted\">{escape('; '.join(change['problems']))}</p></details>")
            continue
        rows = _snapshot_rows(change)
        notable = change["inventory_added"] or change["inventory_removed"] or change["startup_config_changed"] \
            or change["alarms_new"]
        summary = (f"{device['device']}: active {change['active'][0] or '?'} \u2192 {change['active'][1] or '?'}, "
                   f"{len(change['sensors'])} sensor change(s), {len(change['alarms_new'])} new alarm(s)")
        body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
        parts.append(f'<details{" open" if notable else ""}><summary>{escape(summary)}</summary>'
                     f"<table><tbody>{body}</tbody></table></details>")
    if not parts:
        parts.append('<p class="muted">No device has both a pre and a post snapshot.</p>')
    return ('<section class="card" id="snapshots"><h2>Pre/post snapshot differences</h2>' + "".join(parts)
            + "</section>")


def _redundancy(report: dict) -> str:
    if not report["redundancy_groups"]:
        return ""
    cards = []
    for group in report["redundancy_groups"]:
        members = " ".join(f'<span class="badge o-{escape(m["outcome"])}" title="batch {m["batch"]}">'
                           f'{escape(m["device"])}</span>' for m in group["members"])
        verdict = ('<span class="bad">down together: ' + escape(", ".join("+".join(p) for p in group["down_together"]))
                   + "</span>") if group["down_together"] else '<span class="ok">\u2713 never down together</span>'
        limit = f"at most {group['max_down']} down" if group.get("max_down") is not None else ""
        cards.append(f'<div class="group"><b>{escape(group["label"])}</b> <span class="muted">{escape(limit)}</span>'
                     f'<div style="margin:6px 0">{members}</div>{verdict}</div>')
    return ('<section class="card" id="redundancy"><h2>Redundancy groups</h2><div class="groups">'
            + "".join(cards) + "</div></section>")


def render(report: dict) -> str:
    title = f"Campaign {report['campaign'].get('id', '?')}: {report['outcome']}"
    problems = "".join(f"<li>{escape(p)}</li>" for p in report["problems"])
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
            + _header(report) + _tiles(report)
            + '<section class="card" id="timeline"><h2>Timeline</h2>' + timeline_svg.render(report)
            + timeline_svg.legend() + "</section>"
            + _devices(report) + _snapshots(report) + _redundancy(report)
            + (f'<section class="card"><h2>Unreadable files</h2><ul>{problems}</ul></section>' if problems else "")
            + f'<footer>Generated {escape(report["generated"])} by escalator.swim from {escape(report["directory"])} '
              f'({report["log_lines"]} log lines). Rebuild it with <code>swim report {escape(report["directory"])}</code>.'
              "</footer></main></body></html>\n")
