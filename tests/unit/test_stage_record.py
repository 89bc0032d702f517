"""The `record` option of the device modules, and the precheck/backup options of snapshot (fake device)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import read_row
from ansible_collections.escalator.swim.plugins.module_utils.ops import activate_image, download_image, snapshot

from fake_device import FakeDevice
from test_operations import image_args, run


def record_for(tmp_path, stage, **extra):
    return {"stage": stage, "campaign_dir": str(tmp_path / "c"), "campaign_id": "c1", "device": "olt-001",
            "batch": None, "details": None, "also_ok": [], **extra}


def log_of(tmp_path):
    with open(tmp_path / "c" / "campaign.log", encoding="utf-8") as handle:
        return [(entry["action"], entry["result"], entry["error_code"]) for entry in map(json.loads, handle)]


def test_a_device_task_records_its_stage_running_then_ok(tmp_path):
    device = FakeDevice()
    result = run(download_image, device, **image_args(),
                 record=record_for(tmp_path, "download", details={"to_version": "2.0.0"}, batch=1))
    assert "failed" not in result
    assert result["recorded"] == [{"stage": "download", "state": "running"}, {"stage": "download", "state": "ok"}]
    row = read_row(str(tmp_path / "c"), "olt-001")
    assert row["stages"]["download"]["state"] == "ok" and row["details"]["to_version"] == "2.0.0"
    assert row["details"]["running_version"] == "1.0.0"      # what the task saw running
    assert row["batch"] == 1 and row["outcome"] == "pending" and result["status_row"] == row
    assert log_of(tmp_path) == [("download", "running", ""), ("download", "ok", "")]


def test_a_failed_device_task_records_the_reason_and_redacts_the_url(tmp_path):
    device = FakeDevice()
    device.download_failure = ("WRONG_IMAGE_CHECKSUM", "sha256 mismatch at http://user:secret@127.0.0.1/i.img")
    result = run(download_image, device, **image_args(), record=record_for(tmp_path, "download"))
    assert result["failed"] is True and result["recorded"][-1] == {"stage": "download", "state": "failed"}
    entry = read_row(str(tmp_path / "c"), "olt-001")["stages"]["download"]
    assert entry["state"] == "failed" and entry["error_code"] == "WRONG_IMAGE_CHECKSUM"
    assert "olt-001: DownloadImage failed" in entry["error"] and "secret" not in entry["error"]
    assert "secret" not in (tmp_path / "c" / "campaign.log").read_text()


def test_an_activation_is_also_the_verify_stage(tmp_path):
    device = FakeDevice(standby=("swim-olt", "2.0.0"))
    result = run(activate_image, device, name="swim-olt", version="2.0.0", timeout=60,
                 record=record_for(tmp_path, "activate", also_ok=["verify"]))
    assert "failed" not in result and result["changed"] is True
    row = read_row(str(tmp_path / "c"), "olt-001")
    assert {stage: entry["state"] for stage, entry in row["stages"].items()} == {"activate": "ok", "verify": "ok"}
    assert row["outcome"] == "upgraded"


def test_check_mode_records_nothing(tmp_path):
    result = run(download_image, FakeDevice(), check_mode=True, **image_args(), record=record_for(tmp_path, "download"))
    assert "recorded" not in result and not (tmp_path / "c").exists()


def test_an_unwritable_table_fails_before_the_device_is_touched(tmp_path):
    (tmp_path / "c").write_text("a file where the campaign directory should be")
    device = FakeDevice()
    result = run(download_image, device, **image_args(), record=record_for(tmp_path, "download"))
    assert result["failed"] is True and result["reason"] == "STATUS_NOT_RECORDED"
    assert result["msg"].startswith("olt-001: nothing done: the status table could not be written")
    assert device.calls == []


def test_record_without_a_campaign_is_refused(tmp_path):
    device = FakeDevice()
    result = run(download_image, device, **image_args(), record={"stage": "download", "also_ok": []})
    assert result["failed"] is True and "record needs campaign_dir and campaign_id" in result["msg"]
    assert device.calls == []


@pytest.mark.parametrize("threshold, blocked", [("major", True), ("critical", False)])
def test_snapshot_fails_on_alarms_at_or_above_the_threshold(tmp_path, threshold, blocked):
    device = FakeDevice()
    device.health = lambda: {"reachable": True, "alarms": [{"component": "fan-2", "severity": "major"}], "sensors": {}}
    result = run(snapshot, device, fail_on_alarm_severity=threshold, record=record_for(tmp_path, "precheck"))
    assert bool(result.get("failed")) is blocked
    state = read_row(str(tmp_path / "c"), "olt-001")["stages"]["precheck"]
    if blocked:
        assert result["reason"] == "BLOCKING_ALARMS" and "fan-2" in result["msg"]
        assert state["state"] == "failed" and state["error_code"] == "BLOCKING_ALARMS"
    else:
        assert state["state"] == "ok"


def test_snapshot_requires_a_valid_active_image_not_a_standby():
    device = FakeDevice()
    versions = type(FakeDevice().versions())
    device.versions = lambda retry=True: versions(active=(device.active,), standby=())
    assert run(snapshot, device, require_images=True).get("failed") is None       # empty standby: download into it
    device.versions = lambda retry=True: versions(active=(), standby=(device.standby,))
    result = run(snapshot, device, require_images=True)
    assert result["failed"] is True and result["reason"] == "NO_USABLE_IMAGE" and "no active image" in result["msg"]
    assert run(snapshot, FakeDevice(), require_images=True).get("failed") is None


def test_snapshot_keeps_an_existing_backup_without_reading_the_device(tmp_path):
    dest = str(tmp_path / "pre.json")
    first = run(snapshot, FakeDevice(), dest=dest, keep_existing=True)
    assert first["kept"] is False and os.path.exists(dest)
    moved_on = FakeDevice(active=("swim-olt", "2.0.0"))
    again = run(snapshot, moved_on, dest=dest, keep_existing=True)
    assert again["kept"] is True and again["snapshot"]["versions"]["active"][0]["version"] == "1.0.0"
    assert moved_on.calls == []
    assert json.loads(open(dest, encoding="utf-8").read())["versions"]["active"][0]["version"] == "1.0.0"


def test_a_stage_retried_after_a_busy_refusal_keeps_its_first_start(tmp_path, monkeypatch):
    from ansible_collections.escalator.swim.plugins.module_utils import campaign_record
    clock = iter(f"2026-01-01T00:00:{second:02d}.000Z" for second in range(10))
    monkeypatch.setattr(campaign_record, "utc_now", lambda: next(clock))
    campaign = str(tmp_path / "c")

    def stage(state, code=""):
        return campaign_record.record(campaign, "c1", "olt-001", "download", state, error_code=code)["stages"]["download"]

    assert stage("running")["start"] == "2026-01-01T00:00:00.000Z"
    stage("failed", "OPERATION_ALREADY_IN_PROGRESS")
    assert stage("running")["start"] == "2026-01-01T00:00:00.000Z"      # still the first attempt's start
    stage("failed", "WRONG_IMAGE_CHECKSUM")
    assert stage("running")["start"] == "2026-01-01T00:00:04.000Z"      # after another failure: a new start


def test_a_failed_recorded_task_says_its_stage_also_in_check_mode(tmp_path):
    device = FakeDevice()
    device.download_failure = ("WRONG_IMAGE_CHECKSUM", "sha256 mismatch")
    result = run(download_image, device, **image_args(), record=record_for(tmp_path, "download"))
    assert result["failed"] is True and result["stage"] == "download"
    ok = run(download_image, FakeDevice(), **image_args(), record=record_for(tmp_path, "download"))
    assert "stage" not in ok


class _Context:
    """What campaign_status.run reads of its context (a plain module call: no device)."""

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode


def _failure_params(tmp_path, **extra):
    from ansible_collections.escalator.swim.plugins.module_utils.ops import campaign_status
    params = {key: spec.get("default") for key, spec in campaign_status.ARGUMENT_SPEC.items()}
    params.update(campaign_dir=str(tmp_path / "c"), campaign_id="c1", device="olt-001", state="failed", **extra)
    return campaign_status, params


def test_the_recorded_failure_pattern_records_then_fails_with_the_stage(tmp_path):
    campaign_status, params = _failure_params(tmp_path, stage="postcheck", fail=True,
                                              failure={"msg": "olt-001: 1 new alarm", "reason": "NEW_ALARMS"})
    result = campaign_status.run(_Context(params))
    assert result["failed"] is True and result["msg"] == "olt-001: 1 new alarm"
    assert result["stage"] == "postcheck" and result["reason"] == "NEW_ALARMS"
    entry = read_row(str(tmp_path / "c"), "olt-001")["stages"]["postcheck"]
    assert entry["state"] == "failed" and entry["error_code"] == "NEW_ALARMS"
    assert result["recorded"] == [{"stage": "postcheck", "state": "failed"}]


def test_a_failure_the_device_task_recorded_is_not_written_again(tmp_path):
    device = FakeDevice()
    device.download_failure = ("WRONG_IMAGE_CHECKSUM", "sha256 mismatch")
    failed = run(download_image, device, **image_args(), record=record_for(tmp_path, "download"))
    before = log_of(tmp_path)
    campaign_status, params = _failure_params(tmp_path, stage="download", failure=failed)
    result = campaign_status.run(_Context(params))
    assert "failed" not in result and result["stage"] == "download" and result["reason"] == "WRONG_IMAGE_CHECKSUM"
    assert log_of(tmp_path) == before          # the device's own reason stands, nothing written again
    assert read_row(str(tmp_path / "c"), "olt-001")["stages"]["download"]["error_code"] == "WRONG_IMAGE_CHECKSUM"


def test_an_unrecorded_failure_without_reason_gets_the_stage_code_and_check_mode_writes_nothing(tmp_path):
    campaign_status, params = _failure_params(tmp_path, stage="precheck", failure={}, fail=True)
    result = campaign_status.run(_Context(params, check_mode=True))
    assert result["failed"] is True and result["reason"] == "PRECHECK_FAILED"
    assert result["msg"] == "olt-001: precheck failed" and result["recorded"] == []
    assert not (tmp_path / "c").exists()
    result = campaign_status.run(_Context(params))
    assert read_row(str(tmp_path / "c"), "olt-001")["stages"]["precheck"]["error_code"] == "PRECHECK_FAILED"


def test_failure_needs_state_failed_and_a_stage(tmp_path):
    from ansible_collections.escalator.swim.plugins.module_utils.ops.common import ArgumentError
    campaign_status, params = _failure_params(tmp_path, stage=None, fail=True)
    with pytest.raises(ArgumentError, match="state=failed and a stage"):
        campaign_status.run(_Context(params))
