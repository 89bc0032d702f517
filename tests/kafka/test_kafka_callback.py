"""The kafka_events callback through real ansible-playbook against a real Tansu broker."""
from __future__ import annotations

from collections import Counter

from kafka_testing import SMOKE_EVENTS, SMOKE_HOSTS, SMOKE_TASKS, by_partition, validator, warnings_of

EXPECTED_STATUS = {
    "Say hello": "ok",
    "Check arithmetic": "ok",
    "Pretend to change something": "changed",
    "Skipped on purpose": "skipped",
    "Handle a secret": "ok",
    "Fail but carry on": "failed",
}
EXPECTED_MODULE = {
    "Say hello": "ansible.builtin.debug",
    "Check arithmetic": "ansible.builtin.assert",
    "Fail but carry on": "ansible.builtin.fail",
}


def values(smoke):
    return [m.value for m in smoke.messages]


def test_whole_run_is_published_once_in_sequence(smoke_run):
    events = values(smoke_run)
    assert len(events) == SMOKE_EVENTS, Counter(e["event"] for e in events)
    assert not warnings_of(smoke_run.run.stdout + smoke_run.run.stderr)
    assert len({e["event_id"] for e in events}) == SMOKE_EVENTS
    assert len({e["run_id"] for e in events}) == 1
    assert {e["campaign_id"] for e in events} == {smoke_run.campaign}  # play var swim_campaign_id, even on playbook_start
    ordered = sorted(events, key=lambda e: e["seq"])
    assert [e["seq"] for e in ordered] == list(range(1, SMOKE_EVENTS + 1))
    kinds = [e["event"] for e in ordered]
    assert kinds[:2] == ["playbook_start", "play_start"] and kinds[-2:] == ["stats", "playbook_end"]
    assert Counter(kinds) == {"playbook_start": 1, "play_start": 1, "task_start": len(SMOKE_TASKS),
                              "host_result": len(SMOKE_TASKS) * len(SMOKE_HOSTS), "stats": 1, "playbook_end": 1}
    # every task: its task_start, then one result per host, before the next task starts
    tasks = [e["task"] for e in ordered if e["event"] == "task_start"]
    assert tasks == SMOKE_TASKS
    for task in SMOKE_TASKS:
        start = next(e["seq"] for e in ordered if e["event"] == "task_start" and e["task"] == task)
        results = [e for e in ordered if e["event"] == "host_result" and e["task"] == task]
        assert sorted(e["host"] for e in results) == SMOKE_HOSTS
        assert all(start < e["seq"] < start + 1 + len(SMOKE_HOSTS) for e in results)
        for event in results:
            assert event["result"]["status"] == EXPECTED_STATUS[task], event
            assert event["result"]["failed"] is (EXPECTED_STATUS[task] == "failed")
            if task in EXPECTED_MODULE:
                assert event["module"] == EXPECTED_MODULE[task]
            assert event["play"] == "Kafka events smoke play" and event["playbook"] == "events.yml"
    failed = [e for e in ordered if e["event"] == "host_result" and e["result"]["status"] == "failed"]
    assert all(e["result"]["ignored"] is True and e["result"]["msg"] == f"deliberate failure on {e['host']}"
               for e in failed)
    stats = next(e for e in ordered if e["event"] == "stats")["stats"]
    assert set(stats) == set(SMOKE_HOSTS)
    assert all(s["ignored"] == 1 and s["skipped"] == 1 and s["changed"] == 1 and s["failures"] == 0
               for s in stats.values())
    assert ordered[-1]["status"] == "successful" and ordered[-1]["failed_hosts"] == []


def test_keys_keep_each_host_in_one_partition_and_in_order(smoke_run):
    run_id = smoke_run.messages[0].value["run_id"]
    for message in smoke_run.messages:
        expected_key = message.value["host"] or run_id
        assert message.key == expected_key, message.value
    partitions_of = {}
    for message in smoke_run.messages:
        partitions_of.setdefault(message.key, set()).add(message.partition)
    assert all(len(p) == 1 for p in partitions_of.values()), partitions_of
    for group in by_partition(smoke_run.messages).values():
        for key in {m.key for m in group}:
            seqs = [m.value["seq"] for m in group if m.key == key]
            assert seqs == sorted(seqs), (key, seqs)
    for host in SMOKE_HOSTS:
        tasks = [m.value["task"] for m in sorted(smoke_run.messages, key=lambda m: m.offset) if m.key == host]
        assert tasks == SMOKE_TASKS


def test_every_event_matches_the_published_schema(smoke_run):
    check = validator()
    for event in values(smoke_run):
        errors = sorted(check.iter_errors(event), key=str)
        assert not errors, (event, [e.message for e in errors])


def test_no_log_results_are_censored_and_url_credentials_redacted(smoke_run):
    secret = smoke_run.secret
    for message in smoke_run.messages:
        raw = message.raw.decode()
        assert secret not in raw and "literal-pw-7Qx2" not in raw, raw
        assert "s3cr3t" not in raw
    hello = [e for e in values(smoke_run) if e["task"] == "Say hello"]
    assert all("https://********@images.example.net/olt.img" in e["result"]["msg"]
               for e in hello if e["event"] == "host_result")
    start = next(e for e in hello if e["event"] == "task_start")
    assert "https://********@mirror.example.net/olt.img" in start["args"]["msg"]
    secret_events = [e for e in values(smoke_run) if e["task"] == "Handle a secret"]
    assert next(e for e in secret_events if e["event"] == "task_start")["args"] is None
    for event in secret_events:
        if event["event"] == "host_result":
            assert set(event["result"]) == {"status", "changed", "failed", "censored"}
            assert "no_log" in event["result"]["censored"]
    # nothing was spooled by a run whose broker was up
    assert not any(p.stat().st_size for p in smoke_run.spool_dir.glob("*.jsonl"))
