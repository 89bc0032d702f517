# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Kafka in step with the status table after a crash (docs/kafka.md "Campaign rows after a crash").

PRIVATE to the collection. A row reaches Kafka only inside the event of the task result that wrote it. A
worker orphaned by a controller crash writes its row after the callback that would publish it died, and an
event only queued in the callback's memory when the controller was SIGKILLed is lost. So:

- the callback keeps, in the campaign directory, a *ledger*: the last reduced row per device that the broker
  confirmed (``events/published.json``). A row queued, in flight or spooled when the controller died is not
  in it;
- when a run of the campaign begins (``campaign_status`` ``state=begin_run``) and when it ends
  (``state=end_run``), the rows whose reduced form differs from what was published are republished as
  ``campaign_row`` events, whose ``event_id`` is derived from their content (:func:`row_event_id`).

The reduction is the one the callback applies to every row it publishes (``result.campaign``).
"""

from __future__ import annotations

import hashlib
import json
import os
import typing as t

from .atomic_file import write_atomic

LEDGER = os.path.join("events", "published.json")
REDUCED_KEYS = ("device", "batch", "stage", "state", "error_code", "outcome")


def clip(value: t.Any, limit: int) -> t.Any:
    """Strings longer than *limit* are cut (a msg can be a whole device config); other scalars pass."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"... [{len(value) - limit} more characters]"
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return clip(str(value), limit)


def reduced_row(row: t.Any) -> dict | None:
    """A status-table row reduced to ``{device, batch, stage, state, error_code, outcome}`` (None when *row*
    is not a row): the stage is the one the last write recorded, the most recently started or ended one."""
    if not (isinstance(row, t.Mapping) and row.get("device") and row.get("outcome")
            and isinstance(row.get("stages"), t.Mapping)):
        return None
    stages = {name: entry for name, entry in row["stages"].items() if isinstance(entry, t.Mapping)}
    stage = max(stages, key=lambda name: max(str(stages[name].get("end") or ""),
                                             str(stages[name].get("start") or "")), default=None)
    entry = stages.get(stage, {})
    return {"device": clip(row["device"], 200), "batch": row.get("batch"), "stage": stage,
            "state": entry.get("state"), "error_code": clip(entry.get("error_code") or None, 200),
            "outcome": clip(row["outcome"], 50)}


def canonical(value: t.Any) -> str:
    """The canonical JSON of *value*: keys sorted, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_event_id(campaign_id: str, device: str, row: dict) -> str:
    """The first 32 hex digits of sha256 over ``campaign_id``, ``device`` and the canonical JSON of the reduced
    *row*, joined by newlines: the same row of the same device republished twice has the same id."""
    text = "\n".join((str(campaign_id), str(device), canonical(row)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def ledger_path(campaign_dir: str) -> str:
    return os.path.join(campaign_dir, LEDGER)


def read_ledger(campaign_dir: str) -> dict[str, dict]:
    """``{device: last reduced row the broker confirmed}``; empty when nothing was ever confirmed (or the
    file is unreadable: then every row is republished, which a consumer deduplicates)."""
    try:
        with open(ledger_path(campaign_dir), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    rows = data.get("rows") if isinstance(data, dict) else None
    return {str(k): v for k, v in rows.items() if isinstance(v, dict)} if isinstance(rows, dict) else {}


def write_ledger(campaign_dir: str, rows: dict[str, dict]) -> None:
    write_atomic(ledger_path(campaign_dir), json.dumps({"rows": rows}, sort_keys=True), suffix=".json")


def current_rows(table_rows: t.Iterable[dict]) -> dict[str, dict]:
    """``{device: reduced row}`` of the status table."""
    found = {}
    for row in table_rows:
        reduced = reduced_row(row)
        if reduced is not None:
            found[reduced["device"]] = reduced
    return found


def to_republish(current: dict[str, dict], published: dict[str, dict]) -> list[dict]:
    """The reduced rows of *current* that differ from the last *published* row of their device, by device."""
    return [current[device] for device in sorted(current) if published.get(device) != current[device]]
