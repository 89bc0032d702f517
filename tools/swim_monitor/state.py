"""The monitor's model: fold events (docs/events.schema.json) into one row per device.

Events of one device share a partition (they are keyed by host), so applying them in arrival
order per partition gives each device's true history. Delivery is at-least-once, and a row republished after a
crash (``campaign_row``) has an id derived from its content, so events are
deduplicated on ``event_id``, and an event older (by ``seq``) than one already applied from the
same producer for the same device is ignored.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

# Image states after which a device's progress is complete.
COMPLETE = {"UPGRADE_COMPLETE", "ACTIVATION_COMPLETE"}
FAILED_STATUSES = {"failed", "unreachable"}
# Ansible's implicit controller host runs the campaign's bookkeeping; it is not a device.
CONTROLLER_HOSTS = {"localhost"}
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
# The status table's stages (plugins/module_utils/campaign_record.STAGES): the one stage vocabulary of the
# status table, the report, the progress lines and this monitor.
STAGES = ("precheck", "backup", "download", "activate", "verify", "postcheck", "rollback")
STAGE_OF_OPERATION = {"download_image": "download", "activate_image": "activate", "revert_image": "rollback",
                      "DownloadImage": "download", "ActivateImage": "activate", "RevertToStandbyImage": "rollback"}
# Outcomes of the status table after which a device is done: they, not the last task's state, say how it ended
# (the rescue tasks of a failed device end "ok").
FINAL_OUTCOMES = {"upgraded", "failed", "rolled_back", "skipped"}
RUN_EVENTS = {"playbook_start", "play_start", "task_start", "stats", "playbook_end"}


def stage_name(task: str | None) -> str | None:
    """The status-table stage of a task name (``escalator.swim.upgrade : Download: image into standby`` ->
    ``download``), else the whole task name without its role prefix."""
    if not task:
        return task
    name = task.split(" : ", 1)[-1].strip()
    head = name.split(":", 1)[0].strip().lower()
    if head in STAGES:
        return head
    return STAGE_OF_OPERATION.get(name, name)


def progress_of(description: str) -> float | None:
    """Percentage in a device's progress text (the same rule as the collection's events.progress_of)."""
    match = _PERCENT.search(description or "")
    value = float(match.group(1)) if match else None
    return value if value is not None and 0.0 <= value <= 100.0 else None


@dataclass
class DeviceRow:
    device: str
    stage: str | None = None
    state: str | None = None
    progress: float | None = None
    last_error: str | None = None
    updated: str | None = None
    run_id: str | None = None
    campaign_id: str | None = None
    outcome: str | None = None
    batch: int | None = None
    transport: str | None = None
    _progress_time: str = field(default="", repr=False)
    _error_time: str = field(default="", repr=False)
    _outcome_time: str = field(default="", repr=False)

    @property
    def status(self) -> str:
        """What the device is: its final outcome once the campaign recorded one, else its current state."""
        return self.outcome if self.outcome in FINAL_OUTCOMES else (self.state or "?")

    def as_dict(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        data["status"] = self.status
        return data


@dataclass
class RunInfo:
    run_id: str
    playbook: str | None = None
    campaign_id: str | None = None
    status: str = "running"
    started: str | None = None
    ended: str | None = None
    stats: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class FleetState:
    """Everything the table shows; :meth:`apply` returns True when an event changed it."""

    def __init__(self, campaign: str | None = None):
        self.campaign = campaign
        self.devices: dict[str, DeviceRow] = {}
        self.runs: dict[str, RunInfo] = {}
        self.applied = 0
        self._seen: set[str] = set()
        self._last_seq: dict[tuple[str, str], int] = {}
        # Runs seen before they named a campaign: a playbook's start (and, without -e swim_campaign_id, its end)
        # goes out before its first play sets the campaign id. Claimed by the campaign of its later events.
        self._unclaimed: dict[str, RunInfo] = {}

    def apply(self, event: dict) -> bool:
        if not isinstance(event, dict):
            return False
        if "event" not in event and event.get("source") == "swim-sim":
            return self._apply_sim(event)
        if self.campaign is not None and event.get("campaign_id") != self.campaign:
            return self._other_campaign(event)
        self._claim(event.get("run_id"))
        event_id = event.get("event_id")
        if event_id:
            if event_id in self._seen:
                return False
            self._seen.add(event_id)
        host = event.get("host")
        producer, seq = event.get("producer_id"), event.get("seq")
        if host and producer and isinstance(seq, int):
            last = self._last_seq.get((producer, host), 0)
            if seq <= last:
                return False
            self._last_seq[(producer, host)] = seq
        kind = event.get("event")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            return False
        handler(event)
        self.applied += 1
        return True

    def _other_campaign(self, event: dict) -> bool:
        """An event of no campaign yet: a run-level event of a run this campaign has (or may later have)."""
        if event.get("campaign_id") is not None or event.get("event") not in RUN_EVENTS or not event.get("run_id"):
            return False
        if event.get("event_id") in self._seen:
            return False
        self._seen.add(event.get("event_id"))
        getattr(self, f"_on_{event['event']}")(event)          # (_run files it under the unclaimed runs)
        return event["run_id"] in self.runs

    def _claim(self, run_id: str | None) -> None:
        if run_id and run_id in self._unclaimed and run_id not in self.runs:
            self.runs[run_id] = self._unclaimed.pop(run_id)

    # -- per device -----------------------------------------------------------------------------
    # One device's events on one topic arrive in order; across the two topics (callback results,
    # image status) they do not. So every field is merged by the controller's timestamp: stage and
    # state come from the latest event, progress from the latest report of the current stage (a
    # late progress report still fills it in), last error from the latest failure.
    def _row(self, event: dict, device: str) -> tuple[DeviceRow, bool]:
        """The device's row, and whether *event* is at least as recent as what the row shows."""
        row = self.devices.get(device)
        if row is None:
            row = self.devices[device] = DeviceRow(device)
        when = event.get("time") or ""
        newest = not row.updated or when >= row.updated
        if newest:
            row.updated = when or row.updated
            row.run_id = event.get("run_id") or row.run_id
            row.campaign_id = event.get("campaign_id") or row.campaign_id
        return row, newest

    @staticmethod
    def _stage(row: DeviceRow, stage: str | None, state: str | None) -> None:
        if stage != row.stage:
            row.progress, row._progress_time = None, ""
        row.stage, row.state = stage, state

    @staticmethod
    def _error(row: DeviceRow, when: str, text: str) -> None:
        if when >= row._error_time:
            row.last_error, row._error_time = text, when

    def _on_host_result(self, event: dict) -> None:
        result = event.get("result") or {}
        self._campaign_rows(event, result.get("campaign") or [])
        if event["host"] in CONTROLLER_HOSTS:
            return
        row, newest = self._row(event, event["host"])
        stage = stage_name(event.get("task") or event.get("module"))
        status = result.get("status")
        # A skipped task (a `when` that did not apply) is not where the device is: keep the last real stage.
        if newest and not (status == "skipped" and row.stage):
            self._stage(row, stage, status)
        if status in FAILED_STATUSES:
            text = result.get("msg") or result.get("censored") or status
            if result.get("reason") and result["reason"] not in str(text):
                text = f"{result['reason']}: {text}"
            self._error(row, event.get("time") or "", f"{stage}: {text}" + (" (ignored)" if result.get("ignored") else ""))

    def _campaign_rows(self, event: dict, rows: list) -> None:
        """The campaign's own view (status-table rows written by campaign_status): outcome and batch."""
        when = event.get("time") or ""
        for data in rows:
            if not isinstance(data, dict) or not data.get("device"):
                continue
            row = self.devices.get(data["device"])
            if row is None:
                row = self.devices[data["device"]] = DeviceRow(data["device"], updated=when or None,
                                                               run_id=event.get("run_id"),
                                                               campaign_id=event.get("campaign_id"))
            if when >= row._outcome_time:
                row.outcome, row._outcome_time = data.get("outcome"), when
                if data.get("batch") is not None:
                    row.batch = data["batch"]

    def _on_campaign_row(self, event: dict) -> None:
        """A row the callback republished when a run of the campaign began or ended (the topic lacked it: written
        by an orphaned worker, or lost with a killed controller): the campaign's view, as in a host_result. A
        second copy (same ``event_id``) was dropped by :meth:`apply`."""
        data = event.get("row")
        if not isinstance(data, dict) or not data.get("device"):
            return
        self._campaign_rows(event, [data])
        if data["device"] in CONTROLLER_HOSTS:
            return
        row, newest = self._row(event, data["device"])
        if newest and data.get("stage"):
            self._stage(row, data["stage"], data.get("state"))

    def _on_image_status(self, event: dict) -> None:
        status = event.get("image_status") or {}
        row, _newest = self._row(event, event.get("host") or status.get("device") or "?")
        row.transport = status.get("transport") or row.transport
        self._image_state(event, row.device, stage_name(event.get("task") or status.get("operation")), status)

    def _apply_sim(self, event: dict) -> bool:
        """ImageStatus events of the device simulator (device-manager side, swim.dmi.image-status)."""
        if self.campaign is not None or not event.get("device"):
            return False
        event_id = f"sim:{event['device']}:{event.get('time')}:{event.get('state')}:{event.get('description')}"
        if event_id in self._seen:
            return False
        self._seen.add(event_id)
        state = str(event.get("state") or "")
        self._image_state(event, event["device"], stage_name(event.get("rpc")), {
            "state": state, "progress": progress_of(event.get("description") or ""),
            "ok": not (state.endswith("_FAILED") or state == "ERROR"),
            "reason": event.get("reason"), "reason_detail": event.get("reason_detail")})
        self.applied += 1
        return True

    def _image_state(self, event: dict, device: str, stage: str | None, status: dict) -> None:
        row, newest = self._row(event, device)
        when = event.get("time") or ""
        state = status.get("state")
        if newest:
            self._stage(row, stage, state)
        if stage == row.stage and when >= row._progress_time:
            progress = status.get("progress")
            if progress is None and state in COMPLETE:
                progress = 100.0
            if progress is not None:
                row.progress, row._progress_time = float(progress), when
        if status.get("ok") is False:
            detail = " ".join(str(status[k]) for k in ("reason", "reason_detail") if status.get(k))
            self._error(row, when, f"{stage}: {state}" + (f" {detail}" if detail else ""))

    # -- per run ----------------------------------------------------------------------------------
    def _run(self, event: dict) -> RunInfo:
        run_id = event.get("run_id") or "?"
        unclaimed = self.campaign is not None and event.get("campaign_id") is None and run_id not in self.runs
        runs = self._unclaimed if unclaimed else self.runs
        run = runs.get(run_id)
        if run is None:
            run = runs[run_id] = RunInfo(run_id)
        run.playbook = event.get("playbook") or run.playbook
        run.campaign_id = event.get("campaign_id") or run.campaign_id
        return run

    def _on_playbook_start(self, event: dict) -> None:
        self._run(event).started = event.get("time")

    def _on_play_start(self, event: dict) -> None:
        self._run(event)

    def _on_task_start(self, event: dict) -> None:
        self._run(event)

    def _on_stats(self, event: dict) -> None:
        self._run(event).stats = event.get("stats") or {}

    def _on_playbook_end(self, event: dict) -> None:
        run = self._run(event)
        run.status = event.get("status") or "finished"
        run.ended = event.get("time")

    def snapshot(self) -> dict:
        """What ``--json`` prints."""
        return {
            "campaign": self.campaign,
            "events": self.applied,
            "devices": [self.devices[name].as_dict() for name in sorted(self.devices)],
            "runs": [run.as_dict() for run in sorted(self.runs.values(), key=lambda r: r.started or "")],
        }
