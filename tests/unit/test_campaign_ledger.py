"""The ledger of campaign rows the broker confirmed, the content-derived ids of republished rows, and what a run
of a campaign republishes (docs/kafka.md "Campaign rows after a crash")."""
from __future__ import annotations

import json

from ansible_collections.escalator.swim.plugins.module_utils import campaign_ledger as ledger
from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import record
from ansible_collections.escalator.swim.plugins.module_utils.ops import campaign_status
from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext, execute
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_spool import Record
from ansible_collections.escalator.swim.plugins.plugin_utils.published_rows import PublishedRows
from ansible_collections.escalator.swim.plugins.plugin_utils.task_events import campaign_rows

ROW = {"device": "olt-1", "batch": 1, "stage": "postcheck", "state": "ok", "error_code": None, "outcome": "upgraded"}


def test_the_same_row_republished_twice_has_the_same_id_and_another_row_another():
    first = ledger.row_event_id("wave1", "olt-1", dict(ROW))
    again = ledger.row_event_id("wave1", "olt-1", dict(reversed(list(ROW.items()))))   # key order does not matter
    assert first == again and len(first) == 32 and int(first, 16) >= 0
    assert ledger.row_event_id("wave1", "olt-1", {**ROW, "state": "failed"}) != first
    assert ledger.row_event_id("wave2", "olt-1", ROW) != first
    assert ledger.row_event_id("wave1", "olt-2", ROW) != first


def test_the_id_is_sha256_over_campaign_device_and_canonical_json():
    import hashlib

    text = 'wave1\nolt-1\n{"batch":1,"device":"olt-1","error_code":null,"outcome":"upgraded","stage":"postcheck",' \
           '"state":"ok"}'
    assert ledger.row_event_id("wave1", "olt-1", ROW) == hashlib.sha256(text.encode()).hexdigest()[:32]


def test_a_differing_row_is_republished_a_confirmed_one_is_not():
    current = {"olt-1": ROW, "olt-2": {**ROW, "device": "olt-2"}, "olt-3": {**ROW, "device": "olt-3"}}
    published = {"olt-1": ROW, "olt-2": {**ROW, "device": "olt-2", "stage": "activate", "outcome": "in_progress"}}
    assert [row["device"] for row in ledger.to_republish(current, published)] == ["olt-2", "olt-3"]


def test_the_reduction_is_the_callbacks(tmp_path):
    row = record(str(tmp_path), "wave1", "olt-1", "activate", "failed", error="boom", error_code="TIMEOUT", batch=2)
    assert ledger.reduced_row(row) == campaign_rows({"row": row})[0] == {
        "device": "olt-1", "batch": 2, "stage": "activate", "state": "failed", "error_code": "TIMEOUT",
        "outcome": row["outcome"]}
    assert ledger.reduced_row({"device": "x"}) is None


def test_only_rows_the_broker_confirmed_reach_the_ledger(tmp_path):
    campaign_dir = str(tmp_path / "wave1")
    rows = PublishedRows("run-2")
    event = {"event": "host_result", "run_id": "run-2", "campaign_id": None, "result": {"campaign": [ROW]}}
    rows.delivered([Record("t", "olt-1", event)])          # before the campaign directory is known: kept
    rows.queue([{**ROW, "device": "olt-9"}])               # queued, never confirmed: not in the ledger
    rows.delivered([Record("t", "olt-5", {**event, "run_id": "run-1",     # an earlier run's, campaign unknown
                                          "result": {"campaign": [{**ROW, "device": "olt-5"}]}})])
    rows.bind(campaign_dir, "wave1")
    assert ledger.read_ledger(campaign_dir) == {"olt-1": ROW}
    republished = {"event": "campaign_row", "run_id": "run-2", "row": {**ROW, "device": "olt-2"}}
    rows.delivered([Record("t", "olt-2", republished)])
    assert ledger.read_ledger(campaign_dir) == {"olt-1": ROW, "olt-2": {**ROW, "device": "olt-2"}}
    table = {name: {**ROW, "device": name} for name in ("olt-1", "olt-2", "olt-5", "olt-9")}
    assert [row["device"] for row in rows.to_republish(table)] == ["olt-5"]


def begin_run(campaign_dir, run_id="run-2"):
    params = {key: spec.get("default") for key, spec in campaign_status.ARGUMENT_SPEC.items()}
    params.update(campaign_dir=campaign_dir, campaign_id="wave1", state="begin_run", run_id=run_id, run_wait=0)
    return execute(campaign_status, OperationContext(params, check_mode=False, diff=False))


def test_begin_run_returns_the_rows_the_ledger_lacks(tmp_path):
    campaign_dir = str(tmp_path / "wave1")
    done = record(campaign_dir, "wave1", "olt-1", "postcheck", "ok", batch=1)
    record(campaign_dir, "wave1", "olt-2", "activate", "ok", batch=1)     # e.g. an orphan's, never published
    ledger.write_ledger(campaign_dir, {"olt-1": ledger.reduced_row(done)})
    result = begin_run(campaign_dir)
    assert result["campaign_dir"] == campaign_dir and result["campaign_id"] == "wave1"
    assert sorted(result["table_rows"]) == ["olt-1", "olt-2"]
    assert [row["device"] for row in result["republish"]] == ["olt-2"]
    assert "1 row(s) to republish" in result["msg"]
    assert json.loads(json.dumps(result["republish"])) == [result["table_rows"]["olt-2"]]
