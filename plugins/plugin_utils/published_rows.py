# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What the kafka_events callback knows of the campaign rows it published (docs/kafka.md "Campaign rows after a
crash").

PRIVATE to the collection. Two views per device:

- *confirmed*: the last reduced row the broker acknowledged, kept in the campaign directory (the ledger of
  module_utils/campaign_ledger.py) so that the next run knows it after this controller died. Updated from the
  sender thread's delivery confirmations, never for a record only queued, in flight or spooled;
- *queued*: the last row this run handed to its sender. Events of one key are delivered in order, so once the
  run's events are out that row is the device's last on the topic.

When a run of the campaign begins or ends (the ``campaign_status`` result carries ``table_rows``), every device
whose table row differs from the last row it is known to have on the topic (queued by this run, else confirmed)
gets a ``campaign_row`` event.
"""

from __future__ import annotations

import threading
import typing as t

from ansible_collections.escalator.swim.plugins.module_utils.campaign_ledger import (read_ledger, to_republish,
                                                                                     write_ledger)

ROW_EVENTS = ("host_result", "campaign_row")


def rows_of_event(value: t.Mapping) -> list[dict]:
    """The reduced rows an event carries: ``result.campaign`` of a host_result, ``row`` of a campaign_row."""
    if not isinstance(value, t.Mapping) or value.get("event") not in ROW_EVENTS:
        return []
    if value["event"] == "campaign_row":
        rows = [value.get("row")]
    else:
        rows = (value.get("result") or {}).get("campaign") or []
    return [row for row in rows if isinstance(row, dict) and row.get("device")]


class PublishedRows:
    """The callback's two views of what each device's last row on the topic is (see the module docstring)."""

    def __init__(self, run_id: str | None):
        self.run_id = run_id
        self.campaign_dir: str | None = None
        self.campaign_id: str | None = None
        self.queued: dict[str, dict] = {}
        self._confirmed: dict[str, dict] = {}
        self._early: dict[str, dict] = {}     # this run's rows confirmed before the campaign directory was known
        self._lock = threading.Lock()

    # -- main thread --------------------------------------------------------------------------------
    def queue(self, rows: t.Iterable[dict]) -> None:
        for row in rows:
            self.queued[row["device"]] = row

    def bind(self, campaign_dir: str, campaign_id: str) -> None:
        """The run's campaign directory (from begin_run/end_run): load the ledger and add what was confirmed
        before."""
        with self._lock:
            if self.campaign_dir == campaign_dir:
                return
            self.campaign_dir, self.campaign_id = campaign_dir, campaign_id
            self._confirmed = read_ledger(campaign_dir)
            early, self._early = self._early, {}
            if early:
                self._confirmed.update(early)
                write_ledger(campaign_dir, self._confirmed)

    def to_republish(self, table_rows: t.Mapping[str, dict]) -> list[dict]:
        """The table's reduced rows whose device's last row on the topic is another (or none)."""
        with self._lock:
            known = {**self._confirmed, **self.queued}
        return to_republish(dict(table_rows), known)

    # -- sender thread ------------------------------------------------------------------------------
    def delivered(self, records) -> None:
        """The broker confirmed *records* (in delivery order): record their rows as published."""
        updates: dict[str, dict] = {}
        for record in records:
            value = record.value
            rows = rows_of_event(value)
            if not rows:
                continue
            ours = value.get("run_id") == self.run_id
            if not ours and not (self.campaign_id and value.get("campaign_id") == self.campaign_id):
                continue   # an earlier run's spooled event, of a campaign we cannot tell: not ledgered (safe side)
            for row in rows:
                updates[row["device"]] = row
        if not updates:
            return
        with self._lock:
            if self.campaign_dir is None:
                self._early.update(updates)
                return
            self._confirmed.update(updates)
            write_ledger(self.campaign_dir, self._confirmed)
