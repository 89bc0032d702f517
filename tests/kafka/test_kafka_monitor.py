"""`swim monitor --once --json` (the real console command) against what the callback published."""
from __future__ import annotations

import json
import subprocess

from kafka_testing import BIN, SMOKE_EVENTS, SMOKE_HOSTS, unique
from swim_monitor.state import stage_name


def monitor(bootstrap: str, *args: str, timeout: float = 60) -> dict:
    proc = subprocess.run([str(BIN / "swim"), "monitor", "--bootstrap-servers", bootstrap, "--once", "--json",
                           "--timeout", "20", *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_monitor_table_matches_what_was_published(smoke_run):
    table = monitor(smoke_run.bootstrap, "--topic", smoke_run.topic, "--campaign", smoke_run.campaign)
    published = [m.value for m in smoke_run.messages]
    assert table["campaign"] == smoke_run.campaign
    assert table["events"] == SMOKE_EVENTS
    rows = {row["device"]: row for row in table["devices"]}
    assert sorted(rows) == SMOKE_HOSTS
    for host in SMOKE_HOSTS:
        results = sorted((e for e in published if e["host"] == host), key=lambda e: e["seq"])
        last = results[-1]
        failure = [e for e in results if e["result"]["failed"]][-1]
        row = rows[host]
        assert row["stage"] == stage_name(last["task"]) and row["state"] == last["result"]["status"]
        assert row["updated"] == last["time"] and row["run_id"] == last["run_id"]
        assert row["last_error"] == f"{stage_name(failure['task'])}: {failure['result']['msg']} (ignored)"
        assert row["progress"] is None
    [run] = table["runs"]
    end = next(e for e in published if e["event"] == "playbook_end")
    stats = next(e for e in published if e["event"] == "stats")
    assert run["run_id"] == end["run_id"] and run["status"] == "successful" and run["playbook"] == "events.yml"
    assert run["stats"] == stats["stats"] and run["ended"] == end["time"]


def test_monitor_other_campaign_is_empty_and_text_table_renders(smoke_run):
    assert monitor(smoke_run.bootstrap, "--topic", smoke_run.topic, "--campaign", unique("nope"))["devices"] == []
    proc = subprocess.run([str(BIN / "swim"), "monitor", "-b", smoke_run.bootstrap, "-t", smoke_run.topic,
                           "--once", "--timeout", "20"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].split()[:4] == ["DEVICE", "STAGE", "STATE", "PROGRESS"]
    assert any(line.startswith("olt-a ") and "deliberate failure on olt-a" in line for line in lines), proc.stdout
