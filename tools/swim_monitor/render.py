"""Draw the status table as plain text (no curses, no dependencies): one row per device."""
from __future__ import annotations

import shutil
import sys

from .state import FleetState

BAR = 16


def bar(progress: float | None) -> str:
    if progress is None:
        return ""
    filled = int(round(BAR * max(0.0, min(progress, 100.0)) / 100))
    return "[" + "#" * filled + "." * (BAR - filled) + f"] {progress:5.1f}%"


def progress(row) -> str:
    """The bar, or why there is none: a NETCONF device (BBF TR-383) reports no download percentage."""
    if row.progress is None and row.transport == "netconf" and row.stage == "download" and row.status in (
            "COPYING_IMAGE", "INSTALLING_IMAGE", "DOWNLOAD_STARTED", "running"):
        return "(no % from the device)"
    return bar(row.progress)


def cut(text: str | None, width: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def table(state: FleetState, width: int | None = None) -> str:
    """The table; on a terminal, fitted to its width (pipes and logs get whole error messages)."""
    if width is None:
        width = shutil.get_terminal_size((160, 40)).columns if sys.stdout.isatty() else 100_000
    rows = [state.devices[name] for name in sorted(state.devices)]
    device_w = max([6] + [len(r.device) for r in rows])
    stage_w = min(40, max([5] + [len(r.stage or "") for r in rows]))
    state_w = min(22, max([5] + [len(r.status) for r in rows]))
    bar_w = BAR + 9
    # OUTCOME: the campaign's own verdict (status table), shown once a campaign recorded one.
    outcome_w = max([7] + [len(r.outcome or "") for r in rows]) if any(r.outcome for r in rows) else 0
    error_w = max(10, width - device_w - stage_w - state_w - bar_w - 8 - (outcome_w + 2 if outcome_w else 0))
    outcome_head = f"{'OUTCOME':<{outcome_w}}  " if outcome_w else ""
    lines = [header(state),
             f"{'DEVICE':<{device_w}}  {'STAGE':<{stage_w}}  {'STATE':<{state_w}}  {outcome_head}"
             f"{'PROGRESS':<{bar_w}}  LAST ERROR"]
    for row in rows:
        outcome = f"{cut(row.outcome or '-', outcome_w):<{outcome_w}}  " if outcome_w else ""
        lines.append(f"{cut(row.device, device_w):<{device_w}}  {cut(row.stage, stage_w):<{stage_w}}  "
                     f"{cut(row.status, state_w):<{state_w}}  {outcome}{progress(row):<{bar_w}}  "
                     f"{cut(row.last_error, error_w)}".rstrip())
    if not rows:
        lines.append("(no device events yet)")
    return "\n".join(lines)


def header(state: FleetState) -> str:
    runs = sorted(state.runs.values(), key=lambda r: r.started or "")
    counts: dict[str, int] = {}
    for row in state.devices.values():      # final outcomes first: a failed device is never counted "ok"
        counts[row.status] = counts.get(row.status, 0) + 1
    by_state = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    last = runs[-1] if runs else None
    run = f"; last run {last.playbook or '?'} {last.status}" if last else ""
    campaign = state.campaign or "(all campaigns)"
    return f"campaign {campaign}: {len(state.devices)} device(s){' (' + by_state + ')' if by_state else ''}, " \
           f"{len(runs)} run(s){run}, {state.applied} event(s)"
