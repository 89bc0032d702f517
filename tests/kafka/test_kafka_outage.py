"""Kafka away at the start of a run and again in the middle, back each time, with a real Tansu broker
behind a proxy that cuts it off the network: the playbook is not affected, one warning, and every
callback event and every image-status report of the modules reaches the topics, in order per host."""
from __future__ import annotations

import json
import time

from kafka_testing import (BIN, PLAYBOOKS, ProxiedTansu, callback_env, first_of_each, read_messages, running_playbook,
                           unique, validator)

DEVICES = 3
RATE = 512 * 1024  # bytes/s: a 512 KiB image downloads in about a second, with several progress reports
WAITS = ("Wait until the broker is back", "Wait until the broker is down again", "Wait until the broker is back again")
OPERATIONS = ("download_image", "activate_image", "revert_image")


def spooled(spool_dir) -> list[dict]:
    values = []
    for path in spool_dir.glob("*.jsonl"):
        values += [json.loads(line)["value"] for line in path.read_text().splitlines() if line.strip()]
    return values


def wait_for(what: str, predicate, proc, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        assert proc.poll() is None, f"the playbook ended before {what}: {proc.stdout.read()[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def task_started(values, task: str) -> bool:
    return any(v["event"] == "task_start" and v["task"] == task for v in values)


def test_outage_at_start_and_mid_run_loses_nothing_and_keeps_order(sim_fleet, image_server, tmp_path):
    fleet = sim_fleet(DEVICES, timings={"download_rate": RATE})
    image = image_server.make_image("swim-olt", "2.0.0", size=RATE)
    markers, spool = tmp_path / "markers", tmp_path / "spool"
    markers.mkdir()
    events_topic, status_topic, campaign = unique("swim.events.outage"), unique("swim.status.outage"), unique("c")
    extra = {"image2": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}}
    extra.update(markers=str(markers), swim_kafka_topic=status_topic, swim_campaign_id=campaign)
    devices = sorted(d["name"] for d in fleet.devices)

    with ProxiedTansu(tmp_path / "tansu.log") as broker:
        broker.proxy.down()  # away from the very start
        extra["swim_kafka_bootstrap_servers"] = broker.bootstrap
        command = [str(BIN / "ansible-playbook"), "-i", str(fleet.inventory), str(PLAYBOOKS / "outage.yml"),
                   "-e", json.dumps(extra)]
        with running_playbook(command, callback_env(broker.bootstrap, events_topic, spool)) as proc:
            # 1. Down: the downloads ran, their reports and the callback's events wait in the spool.
            wait_for("the first wait", lambda: task_started(spooled(spool), WAITS[0]), proc)
            held = spooled(spool)
            assert {v["host"] for v in held if v["event"] == "image_status"} == set(devices)
            broker.proxy.up()
            (markers / "up-1").touch()

            # 2. Back: within the same run, the spool reaches the broker (the activation tasks drain it).
            wait_for("the backlog on the broker", lambda: task_started(
                [m.value for m in read_messages(broker.bootstrap, [events_topic], timeout=10, idle=0.5)], WAITS[1]),
                proc)
            on_bus = read_messages(broker.bootstrap, [status_topic], timeout=20, idle=1.0)
            assert {m.key for m in on_bus if m.value["image_status"]["operation"] == "download_image"} == set(devices)

            # 3. Down again mid-run, then back.
            broker.proxy.down()
            (markers / "down-2").touch()
            wait_for("the third wait", lambda: task_started(spooled(spool), WAITS[2]), proc)
            assert any(v["event"] == "image_status" and v["image_status"]["operation"] == "revert_image" for v in spooled(spool))
            broker.proxy.up()
            (markers / "up-3").touch()
            output, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, output[-4000:]
        warnings = [line for line in output.splitlines() if "[WARNING]" in line]
        assert len(warnings) == 1 and "not reachable" in warnings[0], warnings
        assert "failed=0" in output

        callback = first_of_each(read_messages(broker.bootstrap, [events_topic], timeout=60, until=lambda ms: any(
            m.value["event"] == "playbook_end" for m in ms) and len({m.value["event_id"] for m in ms}) >= next(
            m.value["seq"] for m in ms if m.value["event"] == "playbook_end")))
        statuses = first_of_each(read_messages(broker.bootstrap, [status_topic], timeout=30, idle=2.0))
    assert spooled(spool) == [], "the end of the run drained the spool"
    print(f"\n{len(callback)} callback events, {len(statuses)} image-status events; the warning: {warnings[0]}")

    # Every callback event of the run, exactly the seq range 1..N.
    seqs = sorted(m.value["seq"] for m in callback)
    assert seqs == list(range(1, len(seqs) + 1)) and callback and max(seqs) == len(callback)
    check = validator()
    assert not [m.value for m in callback + statuses if list(check.iter_errors(m.value))][:3]
    for device in devices:
        mine = sorted((m for m in callback if m.key == device), key=lambda m: m.offset)
        assert len({m.partition for m in mine}) == 1
        assert [m.value["seq"] for m in mine] == sorted(m.value["seq"] for m in mine), "callback order per host"
        results = {m.value["task"]: m.value["result"]["status"] for m in mine if m.value["event"] == "host_result"}
        assert [results[t] for t in results if t.startswith(("download:", "activate:", "revert:"))] == ["changed"] * 3

        # Every report of every operation, in the device's order: download, activation, revert.
        history = json.loads((markers / f"{device}.json").read_text())
        reports = sorted((m for m in statuses if m.key == device), key=lambda m: m.offset)
        assert len({m.partition for m in reports}) == 1
        producers = list(dict.fromkeys(m.value["producer_id"] for m in reports))
        assert len(producers) == len(OPERATIONS), producers
        for producer, operation in zip(producers, OPERATIONS):
            values = [m.value for m in reports if m.value["producer_id"] == producer]
            assert [v["seq"] for v in values] == list(range(1, len(values) + 1)), (device, operation)
            assert [v["image_status"]["state"] for v in values] == [h["state"] for h in history[operation]], \
                (device, operation)
            assert all(v["image_status"]["device"] and v["campaign_id"] == campaign for v in values)
            assert {v["image_status"]["operation"] for v in values} == {operation}
        flat = [m.value["producer_id"] for m in reports]
        assert flat == sorted(flat, key=producers.index), "one operation's reports never interleave with the next's"
