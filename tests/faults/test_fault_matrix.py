"""The fault matrix (issue 8): one real campaign (``escalator.swim.rolling_upgrade``) over a simulated
fleet where each device carries one fault, with the Kafka callback and image-status events on.

For every cell: the final image of every device (flash state, and what the device reports after a
simulator restart), the status table row, the events delivered to Kafka and in campaign.log, and the
playbook's exit code. The cells that need their own fleet or broker (simulator restart, Kafka outage)
are in test_fault_matrix_restarts.py; the controller-killed cell is in tests/integration/test_campaign*.py.
docs/fault-matrix.md summarises the matrix.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from playbook_runner import PlaybookRun, run_playbook
from kafka_testing import callback_env, read_messages, unique
from swim_matrix import OLD, TARGET, TRANSPORTS, Campaign, fleet_kwargs, known_good, plan, stage_seconds
from swim_sim.images import ImageServer
from swim_sim.testing import FleetFactory

HERE = Path(__file__).resolve().parent
ACTIVATE_TIMEOUT = 10          # the plan's activate timeout: the hang must be detected within it + margin
BUSY_RETRIES = 2
HANG_MARGIN = 25               # generous: shared 2-core machine

# device -> (fault, expected outcome, failed stage, error code per transport)
BBF = "bbf-software-management:"
CELLS = {
    "olt-001": (None, "upgraded", None, None),
    "olt-002": ("checksum_corruption", "failed", "download",
                {"dmi": "WRONG_IMAGE_CHECKSUM", "netconf": "WRONG_IMAGE_CHECKSUM"}),
    "olt-003": ({"download_drop": {"drop_at": 0.4}}, "failed", "download",
                {"dmi": "INTERNAL_ERROR", "netconf": BBF + "connection-reset-by-peer"}),
    "olt-004": ("invalid_image", "failed", "download", {"dmi": "INVALID_IMAGE", "netconf": BBF + "unsupported-format"}),
    "olt-005": ("activation_sanity_failure", "failed", "activate",
                {"dmi": "INVALID_IMAGE", "netconf": BBF + "unexpected-error"}),
    "olt-006": ("never_returns", "failed", "activate", {"dmi": "TIMEOUT", "netconf": "TIMEOUT"}),
    "olt-007": ("busy", "failed", "download",
                {"dmi": "OPERATION_ALREADY_IN_PROGRESS", "netconf": BBF + "component-busy"}),
    "olt-008": ("unreachable", "failed", "precheck", {"dmi": "DEVICE_UNREACHABLE", "netconf": "CONNECTION_REFUSED"}),
    "olt-009": ("flapping", "upgraded", None, None),
    "olt-010": (None, "upgraded", None, None),
    "olt-011": ("alarm_after_upgrade", "rolled_back", "postcheck", {"dmi": "SNAPSHOT_MISMATCH", "netconf": "SNAPSHOT_MISMATCH"}),
}
FINAL = {name: (TARGET["version"] if outcome == "upgraded" else OLD) for name, (_, outcome, _, _) in CELLS.items()}


@dataclass
class MatrixRun:
    transport: str
    fleet: object
    campaign: Campaign
    run: PlaybookRun
    rows: dict
    log: list
    events: list           # callback events (topic swim.events-...)
    image_events: list     # image-status events of the modules
    reported: dict         # what each device reports after a simulator restart (sw_version results)
    reboots_before_restart: list


@pytest.fixture(scope="module", params=TRANSPORTS)
def matrix(request, tansu_broker, tmp_path_factory) -> MatrixRun:
    transport = request.param
    work = tmp_path_factory.mktemp(f"matrix-{transport}")
    factory = FleetFactory(lambda: tmp_path_factory.mktemp("fleet"))
    with ImageServer(work / "images") as images:
        try:
            image = images.make_image(TARGET["name"], TARGET["version"], size=256 * 1024)
            faults = {name: {"faults": [fault]} for name, (fault, *_rest) in CELLS.items() if fault}
            fleet = factory(len(CELLS), faults={"devices": faults}, timings={"reboot_time": 0.5},
                            **fleet_kwargs(transport))
            topic, status_topic = unique("swim.events.matrix"), unique("swim.image-status.matrix")
            campaign = Campaign(work / "campaign", plan(image, campaign_id=f"matrix-{transport}", batch_size=5,
                                                        timeouts={"activate": ACTIVATE_TIMEOUT}))
            env = callback_env(tansu_broker, topic, work / "spool")
            started = time.monotonic()
            run = campaign.run(fleet.inventory, env=env, extra_vars={
                "swim_connect_timeout": 2, "swim_kafka_bootstrap_servers": tansu_broker,
                # a busy device is retried 5 s apart (default 60 times: waiting for a dead controller's download)
                "swim_download_busy_retries": BUSY_RETRIES,
                "swim_kafka_topic": status_topic})
            print(f"matrix campaign ({transport}): {time.monotonic() - started:.1f}s")
            events = [m.value for m in read_messages(tansu_broker, [topic], timeout=30,
                                                     until=lambda ms: any(m.value["event"] == "playbook_end"
                                                                          for m in ms))]
            image_events = [m.value for m in read_messages(tansu_broker, [status_topic], timeout=20, idle=2.0)]
            reboots = fleet.reboots()
            # never_returns keeps its device down until the simulator restarts; then it boots its committed image
            fleet.restart()
            report = run_playbook(HERE / "playbooks" / "report_versions.yml", fleet.inventory,
                                  results_dir=work / "report", extra_vars={"swim_connect_timeout": 5})
            assert report.returncode == 0, report.stdout[-3000:]
            print(f"matrix total ({transport}): {time.monotonic() - started:.1f}s")
            reported = {name: report.results(name) for name in CELLS}
            yield MatrixRun(transport, fleet, campaign, run, campaign.rows(), campaign.log(), events, image_events,
                            reported, reboots)
        finally:
            factory.close()


def test_campaign_exit_code_and_status_table(matrix):
    run = matrix.run
    # partially failed, and one device unreachable: Ansible's exit code for unreachable hosts (4) wins over 2
    assert run.returncode == 4, run.stdout[-5000:] + run.stderr[-2000:]
    assert "campaign matrix-" in run.stdout and ": partially failed" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert set(matrix.rows) == set(CELLS)
    for name, (_, outcome, stage, codes) in CELLS.items():
        code = codes and codes[matrix.transport]
        row = matrix.rows[name]
        assert row["outcome"] == outcome, (name, row)
        line = next(line for line in run.stdout.splitlines() if line.strip().strip('",').startswith(name + " "))
        assert outcome in line, line
        if stage:
            assert row["stages"][stage]["state"] == "failed", (name, row)
            assert row["stages"][stage]["error_code"] == code, (name, row["stages"][stage])
            assert row["stages"][stage]["error"].startswith(f"{name}: "), row["stages"][stage]
            assert f"{stage}: {code}" in line, line
        else:
            assert all(s["state"] == "ok" for s in row["stages"].values()), (name, row)
    assert not matrix.campaign.locks(), "every lock is released at the end"


@pytest.mark.parametrize("name", sorted(CELLS))
def test_every_device_ends_on_a_known_good_image(matrix, name):
    fleet = matrix.fleet
    active = fleet.state(name)["partitions"]["active"]
    assert active["version"] == FINAL[name], (name, active)
    assert known_good(fleet, name), (name, active)
    reported = matrix.reported[name]
    if CELLS[name][0] == "unreachable":
        # still unreachable (the fault persists across restarts): its flash state above is what it runs
        assert reported.get("unreachable") is True and reported["reason"] == CELLS[name][3][matrix.transport], (
            name, reported)
        return
    assert reported.get("failed") is not True, (name, reported)
    assert reported["active_version"] == FINAL[name], (name, reported)


def test_download_faults_never_touch_the_running_image(matrix):
    for name in ("olt-002", "olt-003", "olt-004", "olt-007"):
        row = matrix.rows[name]
        assert "activate" not in row["stages"], (name, row)
        assert row["stages"]["rollback"]["state"] == "skipped", "nothing to revert: the old image still runs"
        assert not [r for r in matrix.reboots_before_restart if r["device"] == name], f"{name} must not reboot"
    # the busy device was asked again (retries 5 s apart) before its failure was recorded: the upgrade
    # role retries on the result's transport-neutral `busy` flag (DMI and NETCONF alike)
    busy = matrix.rows["olt-007"]["stages"]["download"]
    assert stage_seconds(busy) >= BUSY_RETRIES * 5 - 1, busy
    # the busy device's standby was never even erased
    assert matrix.fleet.state("olt-007")["partitions"]["standby"]["version"] == "0.9.0"


def test_activation_sanity_failure_falls_back_automatically(matrix):
    row = matrix.rows["olt-005"]
    assert "device is running swim-olt 1.0.0" in row["stages"]["activate"]["error"], row["stages"]["activate"]
    kinds = [r["kind"] for r in matrix.reboots_before_restart if r["device"] == "olt-005"]
    assert kinds == ["activate", "fallback"], kinds
    standby = matrix.fleet.state("olt-005")["partitions"]["standby"]
    assert standby["version"] == "2.0.0" and standby["valid"] is False, "the failed image is not bootable"


def test_hang_after_reboot_is_detected_within_the_plan_time(matrix):
    stage = matrix.rows["olt-006"]["stages"]["activate"]
    took = stage_seconds(stage)
    assert ACTIVATE_TIMEOUT - 1 <= took <= ACTIVATE_TIMEOUT + HANG_MARGIN, took
    assert f"did not answer within {ACTIVATE_TIMEOUT}s" in stage["error"], stage["error"]
    hung = [r for r in matrix.reboots_before_restart if r["device"] == "olt-006"]
    assert hung and hung[0].get("never_returns") is True and hung[0]["up_at"] is None
    # the rescue could not even ask the dead device what it runs: its row says so instead of ending early
    rollback = matrix.rows["olt-006"]["stages"]["rollback"]
    assert rollback["state"] == "failed" and rollback["error"].startswith("olt-006: "), rollback
    assert rollback["error_code"], rollback


def test_flapping_device_is_followed_through_its_reboot(matrix):
    row = matrix.rows["olt-009"]
    assert row["stages"]["activate"]["state"] == "ok" and row["stages"]["postcheck"]["state"] == "ok"
    assert [r["kind"] for r in matrix.reboots_before_restart if r["device"] == "olt-009"] == ["activate"]


def test_a_new_alarm_after_the_upgrade_is_caught_and_reverted(matrix):
    row = matrix.rows["olt-011"]
    assert row["stages"]["activate"]["state"] == "ok" and row["stages"]["rollback"]["state"] == "ok", row
    assert "fan-2 major" in row["stages"]["postcheck"]["error"], row["stages"]["postcheck"]
    # (BBF has no revert action: the rollback activates the old revision's slot)
    back = "revert" if matrix.transport == "dmi" else "activate"
    assert [r["kind"] for r in matrix.reboots_before_restart if r["device"] == "olt-011"] == ["activate", back]
    # recorded once, by the postcheck snapshot itself: the upgrade role's rescue keeps the device's reason
    postcheck = [(e["result"], e["error_code"]) for e in matrix.log
                 if e["device"] == "olt-011" and e["action"] == "postcheck"]
    assert postcheck == [("running", ""), ("failed", "SNAPSHOT_MISMATCH")], postcheck


def test_unreachable_device_is_left_out_before_anything_happens(matrix):
    # Ansible's unreachable in the recap (issue 15), the others go on: none of them is unreachable, each one ran
    # its campaign to the end (its status row is final above)
    recap = matrix.run.recap
    assert recap["olt-008"]["unreachable"] == 1 and recap["olt-008"]["failed"] == 0, recap["olt-008"]
    assert all(recap[name]["unreachable"] == 0 for name in CELLS if name != "olt-008"), recap
    assert f"olt-008: GetSoftwareVersion over {matrix.transport} failed: " in matrix.run.stdout
    row = matrix.rows["olt-008"]
    assert set(row["stages"]) == {"precheck"}, row
    assert "batch" not in row
    assert matrix.fleet.state("olt-008")["partitions"]["standby"]["version"] == "0.9.0"
    assert not [e for e in matrix.image_events if e["host"] == "olt-008"]


def test_campaign_log_has_every_action(matrix):
    by_device: dict[str, list] = {}
    for entry in matrix.log:
        by_device.setdefault(entry["device"], []).append((entry["action"], entry["result"], entry["error_code"]))
    for name, (_, outcome, stage, codes) in CELLS.items():
        code = codes and codes[matrix.transport]
        actions = by_device[name]
        if stage:
            assert (stage, "failed", code) in actions, (name, actions)
        else:
            assert ("verify", "ok", "") in actions and ("postcheck", "ok", "") in actions, (name, actions)


def test_events_delivered_to_kafka(matrix):
    events = matrix.events
    assert events, "the callback published nothing"
    seqs = sorted(e["seq"] for e in events)
    assert seqs == list(range(1, len(seqs) + 1)), "callback events are gap-free"
    assert events[-1]["event"] == "playbook_end" or any(e["event"] == "playbook_end" for e in events)
    failed = {}
    for event in events:
        # (the unreachable device's precheck is an "unreachable" host result, with its reason)
        if event["event"] == "host_result" and event["result"] and event["result"]["status"] in ("failed", "unreachable"):
            failed.setdefault(event["host"], []).append(event["result"])
    for name, (_, outcome, stage, codes) in CELLS.items():
        code = codes and codes[matrix.transport]
        if outcome == "upgraded":
            assert name not in failed or all(r.get("ignored") for r in failed[name]), (name, failed.get(name))
        else:
            reasons = {r.get("reason") for r in failed.get(name, [])}
            assert code in reasons or any(code in (r.get("msg") or "") for r in failed.get(name, [])), \
                (name, failed.get(name))
    # the device's own progress reports: every download that started streamed to its end state
    terminal = {}
    for event in matrix.image_events:
        status = event["image_status"]
        if status["operation"] == "download_image":
            terminal.setdefault(event["host"], []).append(status["state"])
    for name in ("olt-001", "olt-005", "olt-006", "olt-009", "olt-010"):
        assert "UPGRADE_COMPLETE" in terminal.get(name, []), (name, terminal.get(name))
    # (NETCONF refuses a busy device's download action with an rpc-error: no progress report at all)
    for name in ("olt-002", "olt-003", "olt-004") + (("olt-007",) if matrix.transport == "dmi" else ()):
        assert "UPGRADE_FAILED" in terminal.get(name, []), (name, terminal.get(name))
    assert json.dumps(matrix.image_events).count("s3cret") == 0
