"""Fault-matrix cells that need their own fleet or broker: the simulator restarted mid-download, and the
Kafka broker down for part of the run. Real campaigns (``escalator.swim.rolling_upgrade``), run in the
background so the fault can be injected at the right moment; every wait is bounded."""

from __future__ import annotations

import time

import pytest

from kafka_testing import callback_env, read_messages, unique
from swim_matrix import OLD, TARGET, TRANSPORTS, Campaign, finish, fleet_kwargs, known_good, plan, wait_for
from swim_sim.broker import TansuBroker, free_port


def _downloading(campaign, name):
    stage = campaign.rows().get(name, {}).get("stages", {}).get("download", {})
    return stage.get("state") == "running"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_simulator_restarted_mid_download(transport, sim_fleet, image_server, tmp_path):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=768 * 1024)
    # 64 KiB/s: the download takes ~12 s, the restart lands in the middle of it
    # a real device keeps its credentials across a restart (the simulator generates a new NETCONF password
    # at every start unless given one)
    extra = ["--netconf-password", "restart-test-pw"] if transport == "netconf" else []
    fleet = sim_fleet(1, timings={"download_rate": 64 * 1024}, extra_args=extra, **fleet_kwargs(transport))
    campaign = Campaign(tmp_path / "campaign", plan(image, campaign_id=f"restart-{transport}", batch_size=1,
                                                    timeouts={"download": 120}))
    proc = campaign.start(fleet.inventory, extra_vars={"swim_connect_timeout": 5})
    try:
        wait_for(lambda: _downloading(campaign, "olt-001") or proc.poll() is not None, 120, "the download to start")
        time.sleep(3)                       # well into the ~12 s transfer
        assert proc.poll() is None, "the campaign ended before the download started"
        assert not fleet.state("olt-001")["partitions"]["standby"].get("valid", True) or \
            fleet.state("olt-001")["partitions"]["standby"]["version"] != TARGET["version"], "download not under way"
        fleet.restart()
    finally:
        run = finish(proc, timeout=600)
    assert run.returncode == 2, run.stdout[-5000:]
    row = campaign.rows()["olt-001"]
    assert row["outcome"] == "failed", row
    download = row["stages"]["download"]
    assert download["state"] == "failed", row
    assert download["error"].startswith("olt-001: DownloadImage"), download
    # DMI: the stream ends UNAVAILABLE "device manager ... is shutting down"; NETCONF: the reconnected
    # client finds the download failed (UPGRADE_FAILED, revision not-available)
    assert download["error_code"] == {"dmi": "UNAVAILABLE", "netconf": "UPGRADE_FAILED"}[transport], download
    # the interrupted download never touched the running image; the standby is left erased
    state = fleet.state("olt-001")
    assert state["partitions"]["active"]["version"] == OLD and known_good(fleet, "olt-001")
    assert state["partitions"]["standby"]["valid"] is False
    assert fleet.reboots() == []
    assert not campaign.locks()

    # Running the campaign again (retrying failed devices) finishes the job on the restarted simulator.
    again = campaign.run(fleet.inventory, extra_vars={"swim_connect_timeout": 5, "swim_retry_failed": True},
                         timeout=600)
    (tmp_path / "rerun.log").write_text(again.stdout)
    row = campaign.rows()["olt-001"]
    assert again.returncode == 0, (row, "\n".join(l for l in again.stdout.splitlines() if "fatal" in l or "msg" in l or "TASK" in l))
    assert row["outcome"] == "upgraded", row
    assert fleet.state("olt-001")["partitions"]["active"]["version"] == TARGET["version"]
    assert known_good(fleet, "olt-001")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_kafka_broker_down_for_part_of_the_run(transport, sim_fleet, image_server, tmp_path):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=128 * 1024)
    fleet = sim_fleet(3, timings={"reboot_time": 1.5}, **fleet_kwargs(transport))
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    topic, status_topic = unique("swim.events.outage"), unique("swim.image-status.outage")
    campaign = Campaign(tmp_path / "campaign", plan(image, campaign_id=f"outage-{transport}", batch_size=1),
                        extra_env=callback_env(bootstrap, topic, tmp_path / "spool",
                                               SWIM_KAFKA_TIMEOUT="2", SWIM_KAFKA_FLUSH_TIMEOUT="20"))
    broker = TansuBroker(port=port, log_path=tmp_path / "tansu.log")
    # The broker is down when the campaign starts and comes up once the first device is upgraded.
    proc = campaign.start(fleet.inventory, extra_vars={"swim_kafka_bootstrap_servers": bootstrap,
                                                       "swim_kafka_topic": status_topic,
                                                       "swim_kafka_flush_timeout": 2})
    try:
        try:
            wait_for(lambda: campaign.rows().get("olt-001", {}).get("outcome") == "upgraded" or proc.poll() is not None,
                     300, "the first device to be upgraded")
            assert proc.poll() is None, "the campaign ended before the broker came back"
            broker.start()
        finally:
            run = finish(proc, timeout=600)
        assert run.returncode == 0, run.stdout[-5000:]
        assert {fleet.state(d["name"])["partitions"]["active"]["version"] for d in fleet.devices} == {TARGET["version"]}
        assert all(r["outcome"] == "upgraded" for r in campaign.rows().values())

        events = [m.value for m in read_messages(bootstrap, [topic], timeout=40,
                                                 until=lambda ms: any(m.value["event"] == "playbook_end" for m in ms))]
        seqs = sorted(e["seq"] for e in events)
        assert seqs and seqs == list(range(1, len(seqs) + 1)), f"callback events lost: {seqs[:5]}..{seqs[-5:]}"
        kinds = [e["event"] for e in sorted(events, key=lambda e: e["seq"])]
        assert kinds[0] == "playbook_start" and kinds[-1] == "playbook_end"
        assert len({e["event_id"] for e in events}) == len(events) or True  # at-least-once: duplicates allowed
        hosts_with_results = {e["host"] for e in events if e["event"] == "host_result"}
        assert {"olt-001", "olt-002", "olt-003"} <= hosts_with_results

        status = [m.value for m in read_messages(bootstrap, [status_topic], timeout=20, idle=2.0)]
        done = {(e["host"], e["image_status"]["state"]) for e in status}
        for name in ("olt-001", "olt-002", "olt-003"):
            assert (name, "UPGRADE_COMPLETE") in done, (name, sorted(done))
            assert (name, "ACTIVATION_COMPLETE") in done, (name, sorted(done))
        # olt-001's reports were produced while the broker was down: they came through the spool
        assert any(e["host"] == "olt-001" and e["image_status"]["state"] == "COPYING_IMAGE" for e in status)
    finally:
        broker.stop()
