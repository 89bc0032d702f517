"""swim monitor's model: folding events into rows, whatever order the two topics deliver them in."""
from __future__ import annotations

import itertools

from swim_monitor.render import bar, table
from swim_monitor.state import FleetState

_ids = itertools.count()


def event(kind, seconds, *, host="olt-1", producer="run", seq=None, campaign="c", **fields):
    return {"schema_version": 1, "event": kind, "event_id": f"e{next(_ids)}", "time": f"2025-01-01T00:00:{seconds:06.3f}Z",
            "seq": seq if seq is not None else int(seconds * 1000), "run_id": "run", "producer_id": producer,
            "source": "action" if kind == "image_status" else "callback", "campaign_id": campaign, "host": host,
            "task": fields.pop("task", "Download"), "module": None, "result": fields.pop("result", None), **fields}


def status(seconds, state, progress=None, ok=True, **kw):
    return event("image_status", seconds, producer="op1", image_status={
        "device": "olt-1", "transport": "dmi", "operation": "download_image", "state": state, "ok": ok,
        "reason": kw.get("reason"), "description": None, "progress": progress, "reason_detail": kw.get("detail"),
        "time": ""}, **{k: v for k, v in kw.items() if k not in ("reason", "detail")})


def result(seconds, status_, msg=None, task="Download", **kw):
    return event("host_result", seconds, task=task,
                 result={"status": status_, "changed": status_ == "changed", "failed": status_ == "failed",
                         **({"msg": msg} if msg else {}), **kw})


STREAM = [status(1, "COPYING_IMAGE", 10.0), status(2, "COPYING_IMAGE", 60.0), status(3, "COPYING_IMAGE", 100.0),
          status(4, "INSTALLING_IMAGE"), status(5, "UPGRADE_COMPLETE"), result(6, "changed")]


def test_in_order_fold():
    state = FleetState()
    for e in STREAM:
        state.apply(e)
    row = state.snapshot()["devices"][0]
    assert (row["stage"], row["state"], row["progress"], row["last_error"]) == ("download", "changed", 100.0, None)


def test_topics_interleaved_any_way_give_the_same_row():
    reference = None
    results, statuses = STREAM[-1:], STREAM[:-1]
    for cut in range(len(statuses) + 1):  # the result topic read before, between or after the status topic
        state = FleetState()
        for e in statuses[:cut] + results + statuses[cut:]:
            state.apply(e)
        row = state.snapshot()["devices"][0]
        reference = reference or row
        assert row == reference, cut


def test_duplicates_and_stale_redeliveries_are_ignored():
    state = FleetState()
    first = status(1, "COPYING_IMAGE", 10.0)
    later = status(2, "COPYING_IMAGE", 50.0)
    assert state.apply(first) and state.apply(later)
    assert not state.apply(first)  # same event_id
    assert not state.apply({**first, "event_id": "other"})  # older seq of the same producer and host
    assert state.devices["olt-1"].progress == 50.0 and state.applied == 2


def test_errors_are_kept_and_the_latest_wins():
    state = FleetState()
    state.apply(status(1, "UPGRADE_FAILED", ok=False, reason="WRONG_IMAGE_CHECKSUM", detail="sha mismatch"))
    state.apply(result(2, "failed", "olt-1: DownloadImage failed: WRONG_IMAGE_CHECKSUM (sha mismatch)",
                       reason="WRONG_IMAGE_CHECKSUM"))
    state.apply(result(3, "ok", task="Read versions"))
    row = state.devices["olt-1"]
    assert row.stage == "Read versions" and row.state == "ok" and row.progress is None
    assert row.last_error == "download: olt-1: DownloadImage failed: WRONG_IMAGE_CHECKSUM (sha mismatch)"


def test_campaign_filter_and_runs():
    state = FleetState(campaign="c")
    state.apply(event("playbook_start", 0, host=None, playbook="site.yml"))
    state.apply(result(1, "ok"))
    state.apply({**result(2, "failed", "x"), "campaign_id": "other"})
    state.apply(event("stats", 3, host=None, stats={"olt-1": {"ok": 1}}))
    state.apply(event("playbook_end", 4, host=None, status="successful", failed_hosts=[]))
    snap = state.snapshot()
    assert snap["devices"][0]["state"] == "ok" and snap["events"] == 4
    [run] = snap["runs"]
    assert run["status"] == "successful" and run["playbook"] == "site.yml" and run["stats"] == {"olt-1": {"ok": 1}}


def test_simulator_events_are_understood_without_a_campaign_filter():
    state = FleetState()
    state.apply({"schema": 1, "source": "swim-sim", "device": "olt-9", "rpc": "DownloadImage",
                 "state": "COPYING_IMAGE", "description": "downloaded 30% (3/10 bytes)", "time": "2025-01-01T00:00:01Z"})
    assert state.devices["olt-9"].progress == 30.0 and state.devices["olt-9"].stage == "download"
    assert not FleetState(campaign="c").apply({"source": "swim-sim", "device": "x", "state": "COPYING_IMAGE"})


def test_table_renders_bar_and_fits_width():
    state = FleetState()
    for e in STREAM[:2]:
        state.apply(e)
    text = table(state, width=100)
    assert "DEVICE" in text and "olt-1" in text and bar(60.0) in text
    assert bar(None) == "" and bar(50).startswith("[########........]")
    assert all(len(line) <= 100 for line in text.splitlines()[1:])


def test_campaign_rows_give_outcome_and_batch_and_localhost_is_no_device():
    from ansible_collections.escalator.swim.plugins.plugin_utils.task_events import result_summary

    def row(device, outcome, stages, batch=0):
        return {"device": device, "campaign": "c", "batch": batch, "outcome": outcome, "stages": stages,
                "details": {"url": "http://u:pw@h/x"}}

    recorded = {"changed": False, "row": row("olt-1", "in_progress", {
        "precheck": {"state": "ok", "start": "2025-01-01T00:00:01Z", "end": "2025-01-01T00:00:02Z"},
        "download": {"state": "running", "start": "2025-01-01T00:00:03Z"}})}
    summary = result_summary("ok", recorded, no_log=False)
    assert summary["campaign"] == [{"device": "olt-1", "batch": 0, "stage": "download", "state": "running",
                                    "error_code": None, "outcome": "in_progress"}]
    looped = {"changed": False, "results": [
        {"row": row("olt-2", "skipped", {"verify": {"state": "skipped", "start": "x", "end": "x"}}, batch=None)},
        {"skipped": True}]}
    assert [r["device"] for r in result_summary("ok", looped, no_log=False)["campaign"]] == ["olt-2"]
    failed = {"row": row("olt-1", "failed", {"activate": {
        "state": "failed", "error_code": "INVALID_IMAGE", "start": "2025-01-01T00:00:05Z", "end": "2025-01-01T00:00:06Z"}})}
    state = FleetState()
    state.apply(result(1, "ok", campaign=summary["campaign"]))
    state.apply(event("host_result", 2, host="localhost", task="Record devices already on the target",
                      result={"status": "ok", "changed": False, "failed": False,
                              **result_summary("ok", looped, no_log=False)}))
    state.apply(result(3, "ok", task="rollback: record the failed stage",
                       campaign=result_summary("ok", failed, no_log=False)["campaign"]))
    rows = {r["device"]: r for r in state.snapshot()["devices"]}
    assert sorted(rows) == ["olt-1", "olt-2"]  # localhost ran bookkeeping only
    assert (rows["olt-1"]["outcome"], rows["olt-1"]["batch"]) == ("failed", 0)
    assert (rows["olt-2"]["outcome"], rows["olt-2"]["batch"]) == ("skipped", None)
    text = table(state, width=200)
    assert "OUTCOME" in text.splitlines()[1] and "pw" not in str(summary)
    assert any(line.startswith("olt-2") and "skipped" in line for line in text.splitlines())


def test_a_skipped_task_does_not_become_the_stage():
    state = FleetState()
    for e in STREAM + [result(7, "skipped", task="Stop the campaign")]:
        state.apply(e)
    row = state.snapshot()["devices"][0]
    assert (row["stage"], row["state"], row["progress"]) == ("download", "changed", 100.0)
    first = FleetState()
    first.apply(result(1, "skipped", task="Coordination point"))
    assert first.snapshot()["devices"][0]["stage"] == "Coordination point"


def test_a_failed_device_is_never_ok_and_stages_use_the_status_table_names():
    from ansible_collections.escalator.swim.plugins.plugin_utils.task_events import result_summary
    failed_row = {"device": "olt-1", "campaign": "c", "batch": 1, "outcome": "failed", "stages": {
        "activate": {"state": "failed", "error_code": "INVALID_IMAGE", "start": "2025-01-01T00:00:05Z",
                     "end": "2025-01-01T00:00:06Z"}}}
    state = FleetState(campaign="c")
    state.apply(result(1, "changed", task="escalator.swim.upgrade : Download: image into standby"))
    state.apply(result(2, "failed", "fell back", task="escalator.swim.upgrade : Activate: reboot into the new image"))
    # The rescue's tasks end ok: the last task's state, but not how the device ended.
    state.apply(result(3, "ok", task="escalator.swim.upgrade : Rollback: record the failed stage",
                       campaign=result_summary("ok", {"row": failed_row}, no_log=False)["campaign"]))
    row = state.devices["olt-1"]
    assert (row.stage, row.state, row.status) == ("rollback", "ok", "failed")
    assert row.last_error == "activate: fell back"
    text = table(state, width=200)
    assert "(failed 1)" in text.splitlines()[0] and "ok" not in text.splitlines()[0].split("device(s)")[1].split(",")[0]
    assert text.splitlines()[2].split()[:3] == ["olt-1", "rollback", "failed"]


def test_netconf_download_without_percentage_says_so():
    state = FleetState()
    state.apply(event("image_status", 1, producer="op2", task="escalator.swim.upgrade : Download: image into standby",
                      image_status={"device": "olt-1", "transport": "netconf", "operation": "download_image",
                                    "state": "COPYING_IMAGE", "ok": True, "progress": None}))
    assert state.devices["olt-1"].stage == "download"
    assert "(no % from the device)" in table(state, width=200)


def test_a_run_that_named_its_campaign_late_is_shown_finished():
    state = FleetState(campaign="c")
    start = event("playbook_start", 0, host=None, campaign=None, playbook="rolling_upgrade.yml")
    assert state.apply(start) is False and state.runs == {}          # no campaign yet: held, not shown
    state.apply(result(1, "ok"))                                      # the campaign's first event claims the run
    assert state.apply(event("playbook_end", 9, host=None, campaign=None, status="failed")) is True
    [run] = state.snapshot()["runs"]
    assert (run["status"], run["started"], run["ended"]) == ("failed", start["time"], "2025-01-01T00:00:09.000Z")
    other = FleetState(campaign="c")
    other.apply(event("playbook_start", 0, host=None, campaign=None))
    other.apply(event("playbook_end", 1, host=None, campaign=None, status="successful"))
    assert other.snapshot()["runs"] == []                             # a run of no campaign of ours


def test_directory_mode_reads_the_status_rows(tmp_path):
    import json
    import os
    import time

    from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import record
    from swim_monitor.directory import read_directory

    directory = str(tmp_path / "c")
    record(directory, "c", "olt-1", "download", "ok", batch=0)
    record(directory, "c", "olt-1", "activate", "failed", error="fell back to 1.0.0", error_code="INVALID_IMAGE")
    record(directory, "c", "olt-2", "verify", "skipped", error="already runs the target version")
    state = read_directory(directory)
    rows = {r["device"]: r for r in state.snapshot()["devices"]}
    assert (rows["olt-1"]["stage"], rows["olt-1"]["status"], rows["olt-1"]["batch"]) == ("activate", "failed", 0)
    assert rows["olt-1"]["last_error"] == "activate: INVALID_IMAGE: fell back to 1.0.0"
    assert rows["olt-2"]["status"] == "skipped"
    assert state.snapshot()["runs"][0]["status"] == "running"
    time.sleep(0.01)
    with open(os.path.join(directory, "campaign.json"), "w", encoding="utf-8") as handle:
        json.dump({"outcome": "partially failed"}, handle)
    assert read_directory(directory).snapshot()["runs"][0]["status"] == "finished: partially failed"
    assert "finished: partially failed" in table(read_directory(directory), width=200).splitlines()[0]


def test_a_republished_campaign_row_is_applied_once_and_sets_the_campaigns_view():
    """After a crash the callback republishes a device's row (campaign_row) with an id derived from its content;
    a second copy (the same row republished by the next run too) is not applied again."""
    state = FleetState()
    state.apply(result(1, "ok", task="escalator.swim.upgrade : Activate: the new image",
                       campaign=[{"device": "olt-1", "batch": 1, "stage": "activate", "state": "running",
                                  "error_code": None, "outcome": "in_progress"}]))
    row = {"device": "olt-1", "batch": 1, "stage": "postcheck", "state": "ok", "error_code": None, "outcome": "upgraded"}
    republished = event("campaign_row", 5, host="olt-1", row=row, republished=True, task=None)
    republished["event_id"] = "0f" * 16
    assert state.apply(republished)
    assert not state.apply({**republished, "producer_id": "run-3", "seq": 1, "time": "2025-01-01T00:00:09.000Z"})
    device = state.snapshot()["devices"][0]
    assert (device["outcome"], device["status"], device["stage"], device["state"]) == ("upgraded", "upgraded",
                                                                                       "postcheck", "ok")
    assert state.applied == 2
