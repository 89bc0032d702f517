"""The campaign report from a campaign directory written by the real recorder (campaign_record.record):
outcomes with their full reasons, timeline, snapshot differences, redundancy groups, CSV and JUnit rows."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import record
from ansible_collections.escalator.swim.plugins.module_utils.campaign_report import load, model, render_csv, render_junit
from ansible_collections.escalator.swim.plugins.module_utils.campaign_report.write import write_reports
from ansible_collections.escalator.swim.plugins.module_utils.ops.campaign_report import campaign_meta

CAMPAIGN = "unit-campaign"
FALLBACK = ("olt-3: ActivateImage over dmi failed: INVALID_IMAGE (sanity checks failed on swim-olt 2.0.0; "
            "fell back to swim-olt 1.0.0; device is running swim-olt 1.0.0)")


def snapshot(version: str, temperature: float, alarms=()) -> dict:
    return {"schema": 1, "device": {"name": "d"}, "versions": {"active": [{"version": version}], "standby": [{"version": "x"}]},
            "inventory": {"components": [{"name": "chassis", "serial_num": "1"}]},
            "health": {"sensors": {"temperature-cpu": {"value": temperature}}, "alarms": list(alarms)},
            "startup_config": "hostname d"}


@pytest.fixture
def campaign_dir(tmp_path):
    directory = str(tmp_path / CAMPAIGN)
    for name, batch in (("olt-1", 0), ("olt-2", 1), ("olt-3", 1)):
        for stage in ("precheck", "backup"):
            record(directory, CAMPAIGN, name, stage, "running", batch=batch)
            record(directory, CAMPAIGN, name, stage, "ok", batch=batch, details={"from_version": "1.0.0"})
    for name in ("olt-1", "olt-2"):
        for stage in ("download", "activate"):
            record(directory, CAMPAIGN, name, stage, "running", details={"to_version": "2.0.0"})
            record(directory, CAMPAIGN, name, stage, "ok")
        record(directory, CAMPAIGN, name, "verify", "ok")
        record(directory, CAMPAIGN, name, "postcheck", "ok")
    record(directory, CAMPAIGN, "olt-3", "download", "ok", details={"to_version": "2.0.0"})
    record(directory, CAMPAIGN, "olt-3", "activate", "failed", error=FALLBACK, error_code="INVALID_IMAGE")
    record(directory, CAMPAIGN, "olt-4", "verify", "skipped", error="already runs the target version 2.0.0")
    record(directory, CAMPAIGN, "olt-5", "precheck", "failed", error="cannot connect to 127.0.0.1:1",
           error_code="UNREACHABLE")
    for name, kind, snap in (("olt-1", "pre", snapshot("1.0.0", 40)),
                             ("olt-1", "post", snapshot("2.0.0", 43, [{"component": "fan", "severity": "minor"}]))):
        path = tmp_path / CAMPAIGN / "snapshots" / name / f"{kind}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(snap))
    return directory


def meta() -> dict:
    resolution = {"campaign": {"id": CAMPAIGN, "description": "unit"},
                  "batches": [{"index": 0, "step": "lab", "hosts": ["olt-1"], "canary": True,
                               "image": {"name": "swim-olt", "version": "2.0.0", "url": "http://u:secret@h/i"}},
                              {"index": 1, "step": "north", "hosts": ["olt-2", "olt-3"], "pause_before": True,
                               "image": {"name": "swim-olt", "version": "2.0.0", "url": "http://u:secret@h/i"}}],
                  "recovery": {"policy": "revert_device", "failure_threshold": "50%"}}
    return campaign_meta({"resolution": resolution, "outcome": "partially failed", "campaign_id": CAMPAIGN,
                          "redundancy_groups": [{"label": "pairs (p=1)", "members": ["olt-1", "olt-2"], "max_down": 1}]})


def test_every_device_has_its_outcome_and_full_reason(campaign_dir):
    load.write_meta(campaign_dir, meta())
    report = model.build(load.load_campaign(campaign_dir))
    devices = {d["device"]: d for d in report["devices"]}
    assert {name: d["outcome"] for name, d in devices.items()} == {
        "olt-1": "upgraded", "olt-2": "upgraded", "olt-3": "failed", "olt-4": "skipped", "olt-5": "failed"}
    assert "fell back to swim-olt 1.0.0" in devices["olt-3"]["reason"] and "left on 1.0.0" in devices["olt-3"]["reason"]
    assert devices["olt-4"]["reason"] == "skipped: already runs the target version 2.0.0"
    assert devices["olt-5"]["reason"].startswith("unreachable at precheck failed (UNREACHABLE)")
    assert "left out of the campaign" in devices["olt-5"]["reason"]
    assert report["counts"]["upgraded"] == 2 and report["counts"]["failed"] == 2 and report["total"] == 5
    assert report["outcome"] == "partially failed"
    assert [b["step"] for b in report["batches"]] == ["lab", "north"] and report["batches"][1]["pause_before"]
    change = devices["olt-1"]["snapshot"]
    assert change["active"] == ["1.0.0", "2.0.0"]
    assert change["alarms_new"] == [{"component": "fan", "severity": "minor"}]
    assert [s["name"] for s in change["sensors"]] == ["temperature-cpu"] and change["sensors"][0]["delta"] == 3
    group = report["redundancy_groups"][0]
    assert [m["device"] for m in group["members"]] == ["olt-1", "olt-2"]
    assert group["down_together"] == []          # recorded one after the other


def test_campaign_json_never_keeps_image_urls(campaign_dir):
    load.write_meta(campaign_dir, meta())
    text = (open(f"{campaign_dir}/campaign.json", encoding="utf-8").read())
    assert "secret" not in text and "swim-olt" in text


def test_csv_and_junit_carry_the_same_rows(campaign_dir):
    written = write_reports(campaign_dir, meta=meta())
    assert set(written["files"]) == {"html", "csv", "junit"}
    rows = list(csv.DictReader(io.StringIO(open(written["files"]["csv"], encoding="utf-8").read())))
    assert [(r["device"], r["outcome"]) for r in rows] == [(d["device"], d["outcome"]) for d in written["report"]["devices"]]
    assert rows[2]["error_code"] == "INVALID_IMAGE" and "fell back" in rows[2]["reason"]
    suites = ET.parse(written["files"]["junit"]).getroot()
    assert suites.get("tests") == "5" and suites.get("failures") == "2" and suites.get("skipped") == "1"
    cases = {case.get("name"): case for case in suites.iter("testcase")}
    assert cases["olt-3"].find("failure").get("type") == "INVALID_IMAGE"
    assert cases["olt-4"].find("skipped").get("message").startswith("skipped: already runs")
    assert cases["olt-1"].find("failure") is None


def test_html_is_self_contained_and_lists_every_device(campaign_dir):
    written = write_reports(campaign_dir, meta=meta())
    page = open(written["files"]["html"], encoding="utf-8").read()
    for name, outcome in (("olt-1", "upgraded"), ("olt-3", "failed"), ("olt-4", "skipped")):
        assert f'data-device="{name}" data-outcome="{outcome}"' in page
    assert "<svg" in page and "<style>" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")   # nothing fetched
    assert "<script" not in page and "fell back to swim-olt 1.0.0" in page


def test_a_rollback_run_keeps_the_plan_of_the_campaign(campaign_dir):
    write_reports(campaign_dir, meta=meta())
    earlier = load.load_campaign(campaign_dir).meta
    kept = campaign_meta({"resolution": None, "outcome": "rolled back"}, earlier)
    assert kept["batches"] == earlier["batches"] and kept["outcome"] == "rolled back"


def test_not_a_campaign_directory(tmp_path):
    with pytest.raises(ValueError, match="not a campaign directory"):
        load.load_campaign(str(tmp_path))
    with pytest.raises(ValueError, match="no such campaign directory"):
        load.load_campaign(str(tmp_path / "missing"))


def test_a_torn_log_line_is_reported_not_raised(campaign_dir):
    with open(f"{campaign_dir}/campaign.log", "a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-01-01T00:00:00Z", "dev')
    report = model.build(load.load_campaign(campaign_dir))
    assert any("not JSON" in problem for problem in report["problems"])
    assert render_csv.render(report).count("\n") == 6 and "<testsuites" in render_junit.render(report)
