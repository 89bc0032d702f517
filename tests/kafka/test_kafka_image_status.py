"""escalator.swim.download_image against the device simulator publishes each ImageStatus on the bus."""
from __future__ import annotations

import json
import subprocess

import pytest

from swim_sim.broker import TansuBroker, free_port

from kafka_testing import (BIN, callback_env, local_inventory, playbook_command, read_messages, run, running_playbook,
                           unique, validator, warnings_of)

SIZE = 1024 * 1024
RATE = 1024 * 1024  # bytes/s: about a second per download, several progress reports


def test_download_progress_reaches_the_bus_keyed_by_device(sim_fleet, image_server, tansu_broker, tmp_path):
    fleet = sim_fleet(2, timings={"download_rate": RATE})
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    status_topic, events_topic, campaign = unique("swim.image-status"), unique("swim.events.dl"), unique("wave")
    extra = {"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256},
             "swim_kafka_bootstrap_servers": tansu_broker, "swim_kafka_topic": status_topic,
             "swim_campaign_id": campaign}
    result = run("download.yml", fleet.inventory, extra_vars=extra,
                 env=callback_env(tansu_broker, events_topic, tmp_path / "spool"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "not published" not in result.stdout + result.stderr and not warnings_of(result.stdout + result.stderr)

    devices = sorted(d["name"] for d in fleet.devices)
    statuses = read_messages(tansu_broker, [status_topic], timeout=30, until=lambda messages: all(
        any(m.key == d and m.value["image_status"]["state"] == "UPGRADE_COMPLETE" for m in messages)
        for d in devices))
    assert {m.key for m in statuses} == set(devices), [(m.key, m.value["image_status"]["state"]) for m in statuses]
    callback = read_messages(tansu_broker, [events_topic], count=2 + 1 + 2 + 2, timeout=20)
    run_id = callback[0].value["run_id"]
    check = validator()
    for device in devices:
        mine = [m for m in statuses if m.key == device]
        assert len({m.partition for m in mine}) == 1, "one device's reports share one partition"
        events = [m.value for m in sorted(mine, key=lambda m: m.offset)]
        assert all(not list(check.iter_errors(e)) for e in events), [list(check.iter_errors(e)) for e in events]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert {(e["event"], e["source"], e["host"], e["run_id"], e["campaign_id"], e["module"]) for e in events} == \
            {("image_status", "action", device, run_id, campaign, "escalator.swim.download_image")}
        states = [e["image_status"]["state"] for e in events]
        assert states[-1] == "UPGRADE_COMPLETE" and "INSTALLING_IMAGE" in states
        progress = [e["image_status"]["progress"] for e in events
                    if e["image_status"]["state"] == "COPYING_IMAGE" and e["image_status"]["progress"] is not None]
        assert len(progress) >= 3 and progress == sorted(progress) and progress[-1] == 100.0, progress
        assert all(e["image_status"]["device"] == device and e["image_status"]["operation"] == "download_image"
                   and e["image_status"]["transport"] == "dmi" for e in events)
        result_event = next(m.value for m in callback if m.value["event"] == "host_result" and m.key == device)
        assert result_event["time"] >= events[-1]["time"]

    # The monitor folds both topics into one row per device.
    proc = subprocess.run([str(BIN / "swim"), "monitor", "-b", tansu_broker, "-t", events_topic, "-t", status_topic,
                           "--campaign", campaign, "--once", "--json", "--timeout", "20"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = {row["device"]: row for row in json.loads(proc.stdout)["devices"]}
    assert sorted(rows) == devices
    assert all(r["stage"] == "Download the image into standby" and r["state"] == "changed" and r["progress"] == 100.0
               and r["last_error"] is None for r in rows.values()), rows


def test_dead_bus_costs_one_warning_and_the_reports_wait_in_the_spool_for_the_next_run(sim_fleet, image_server,
                                                                                       tmp_path):
    """Broker down, no callback: the task succeeds on both devices with one warning for the run (not one
    per device), the reports go to the spool in order; the next run (here the callback of another
    playbook) delivers them before its own events."""
    fleet = sim_fleet(2, timings={"download_rate": 4 * RATE})
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    port = free_port()
    bootstrap, spool, topic = f"127.0.0.1:{port}", tmp_path / "spool", unique("swim.image-status.down")
    extra = {"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256},
             "swim_kafka_bootstrap_servers": bootstrap, "swim_kafka_topic": topic,
             "swim_kafka_spool_dir": str(spool), "force": True}
    result = run("download.yml", fleet.inventory, extra_vars=extra)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.count("changed=1") == 2
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if "[WARNING]" in line]
    assert len(warnings) == 1 and "is not reachable" in warnings[0] and str(spool) in warnings[0], output
    held = [json.loads(line) for path in spool.glob("*.jsonl") for line in path.read_text().splitlines()]
    assert held and {(r["topic"], r["value"]["event"]) for r in held} == {(topic, "image_status")}
    assert {r["key"] for r in held} == {d["name"] for d in fleet.devices}
    for device in {r["key"] for r in held}:
        mine = [r["value"] for r in held if r["key"] == device]
        assert [v["seq"] for v in mine] == list(range(1, len(mine) + 1)) and len({v["producer_id"] for v in mine}) == 1
        assert mine[-1]["image_status"]["state"] == "UPGRADE_COMPLETE"

    with TansuBroker(port=port, log_path=tmp_path / "tansu.log"):
        events_topic = unique("swim.events.next")
        inventory = local_inventory(tmp_path / "hosts.yml", ["olt-x"])
        nxt = run("events.yml", inventory, env=callback_env(bootstrap, events_topic, spool))
        assert nxt.returncode == 0 and not warnings_of(nxt.stdout + nxt.stderr), nxt.stdout[-2000:]
        delivered = read_messages(bootstrap, [topic], count=len(held), timeout=30)
        callback = read_messages(bootstrap, [events_topic], timeout=30, idle=1.5)
    for device in {r["key"] for r in held}:  # each device's reports, in its partition, in the spool's order
        assert [m.value for m in sorted(delivered, key=lambda m: m.offset) if m.key == device] == \
            [r["value"] for r in held if r["key"] == device]
    assert len(delivered) == len(held)
    assert callback and not any(p.stat().st_size for p in spool.glob("*.jsonl"))
    assert min(m.value["time"] for m in callback) > held[-1]["value"]["time"]


@pytest.mark.parametrize("transport", ["dmi", "netconf"])
def test_progress_is_on_the_bus_while_the_task_runs_without_url_credentials(transport, sim_fleet, auth_image_server,
                                                                            tansu_broker, tmp_path):
    """DMI ImageStatus or NETCONF notifications: each report reaches the bus while the download runs."""
    fleet = sim_fleet(1, timings={"download_rate": SIZE // 5}, transport=transport)  # about five seconds
    image = auth_image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    assert "s3cret@" in image.url
    status_topic, events_topic = unique("swim.image-status.live"), unique("swim.events.live")
    extra = {"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256},
             "swim_kafka_bootstrap_servers": tansu_broker, "swim_kafka_topic": status_topic}

    def in_progress(messages):
        # DMI reports percentages; TR-383 notifications carry none (progress is null), only the stages.
        return any(m.value["image_status"]["state"] == "COPYING_IMAGE"
                   and (transport == "netconf" or 0 < (m.value["image_status"]["progress"] or 0) < 100)
                   for m in messages)

    with running_playbook(playbook_command("download.yml", fleet.inventory, extra),
                          callback_env(tansu_broker, events_topic, tmp_path / "spool")) as proc:
        early = read_messages(tansu_broker, [status_topic], timeout=60, until=in_progress)
        running = proc.poll() is None
        results_so_far = [m for m in read_messages(tansu_broker, [events_topic], timeout=5, idle=0.5)
                          if m.value["event"] == "host_result"]
        output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output[-3000:]
    assert in_progress(early) and running and results_so_far == [], "progress must be visible mid-task"
    report = next(m.value for m in early if m.value["image_status"]["state"] == "COPYING_IMAGE")
    assert report["host"] == fleet.devices[0]["name"] and report["image_status"]["device"]
    assert report["image_status"]["transport"] == transport and report["image_status"]["ok"] is True
    assert {"state", "reason", "progress", "description", "ok"} <= set(report["image_status"])
    everything = read_messages(tansu_broker, [status_topic, events_topic], timeout=30, idle=1.5)
    raw = "".join(m.raw.decode() for m in everything)
    assert "s3cret" not in raw and "********@" in raw  # the task arguments in task_start, redacted
