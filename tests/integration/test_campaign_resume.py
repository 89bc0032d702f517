"""A campaign whose controller crashes mid-batch and is then re-run ends exactly as the same campaign run
without interruption: the same image on every device (the simulator's own state files) and the same status
table.

Two crash kinds (tests/integration/controller_kill.py): the whole controller (the main ansible-playbook
process and every task worker, found by pid: ansible-core 2.19 workers call setsid(), so a process-group
kill would leave them running), and the main process only (the workers finish their task as orphans and
write the campaign directory after the controller died)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import yaml

import pytest

from controller_kill import kill_main_only, kill_whole_controller, wait_for_exit
from playbook_runner import BIN, ROOT, ansible_env, run_playbook
from test_campaign import overlaps, pair_up, table_states
from test_campaign import plan_for as campaign_plan

PAIR = ("olt-002", "olt-004")
FAILING = "olt-005"
# Reboots long enough for the kill to land while the first batch is activating.
TIMINGS = {"reboot_time": 2.5, "sanity_time": 0.3}


def plan_for(image) -> dict:
    document = campaign_plan(image, "it-resume")
    document["campaign"]["timeouts"] = {"precheck": 30, "backup": 30, "download": 60, "activate": 60, "revert": 60,
                                        "postcheck": 30}
    return document


def make_fleet(sim_fleet):
    fleet = sim_fleet(6, groups=["a", "b"], timings=TIMINGS,
                      faults={"devices": {FAILING: {"faults": ["activation_sanity_failure"]}}})
    pair_up(fleet, PAIR)
    return fleet


def versions(fleet) -> dict:
    return {d["name"]: (fleet.state(d["name"])["partitions"]["active"]["version"],
                        fleet.state(d["name"])["partitions"]["standby"]["version"]) for d in fleet.devices}


def activating(campaign, stage: str = "activate") -> list[str]:
    """Devices whose row says their *stage* is running right now."""
    found = []
    for path in (campaign / "status").glob("*.json"):
        try:
            row = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if row.get("stages", {}).get(stage, {}).get("state") == "running":
            found.append(row["device"])
    return found


def test_killed_controller_then_rerun_ends_like_an_uninterrupted_campaign(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(plan_for(image)))
    extra = {"swim_plan": str(plan), "swim_auto_approve": True}

    # The reference: the same campaign on an identical fleet, never interrupted.
    reference_fleet = make_fleet(sim_fleet)
    reference_state = tmp_path / "reference"
    reference = run_playbook("escalator.swim.rolling_upgrade", reference_fleet.inventory,
                             env={"SWIM_STATE_DIR": str(reference_state)}, extra_vars=extra)
    assert reference.returncode == 2, reference.stdout[-4000:]        # partially failed: olt-005
    expected_versions = versions(reference_fleet)
    expected_table = table_states(reference_state / "campaigns" / "it-resume")
    assert expected_versions[FAILING][0] == "1.0.0"
    assert sum(active == "2.0.0" for active, _ in expected_versions.values()) == 5
    reference_fleet.stop()

    # The interrupted campaign: kill the whole controller (ansible-playbook and every worker, by pid)
    # with SIGKILL while the first batch is activating. The simulated devices carry on alone.
    fleet = make_fleet(sim_fleet)
    state = tmp_path / "state"
    campaign = state / "campaigns" / "it-resume"
    interrupted = kill_during("activate", fleet, {"campaign_id": "it-resume", "vars": extra}, state, tmp_path)
    assert interrupted, (tmp_path / "killed-activate.log").read_text()[-3000:]
    rows_at_kill = table_states(campaign)
    assert all(rows_at_kill[name][0] == "in_progress" for name in interrupted)
    assert list((state / "locks").glob("*.lock")), "a killed controller leaves its locks behind"

    # Re-run the same campaign to completion.
    rerun = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                         extra_vars=extra)
    assert rerun.returncode == 2, rerun.stdout[-6000:]

    assert versions(fleet) == expected_versions
    assert table_states(campaign) == expected_table
    assert not overlaps(fleet.reboots(), *PAIR)
    assert not list((state / "locks").glob("*.lock"))
    # The interrupted devices were brought to a known state first: the stage left running is closed
    # with what the device said, before the resumed upgrade took it from there.
    entries = [json.loads(line) for line in (campaign / "campaign.log").read_text().splitlines()]
    for name in interrupted:
        closed = [e for e in entries if e["device"] == name and e["error_code"] == "INTERRUPTED"]
        assert closed and closed[0]["action"] == "activate", entries
        later = entries[entries.index(closed[0]):]
        assert any(e["device"] == name and e["action"] == "postcheck" and e["result"] == "ok" for e in later)
    # Each interrupted device rebooted into the new image exactly once (the re-run did not upgrade it again).
    for name in interrupted:
        assert [r for r in fleet.reboots() if r["device"] == name].__len__() == 1, fleet.reboots()


def kill_during(stage: str, fleet, extra: dict, state, tmp_path, kind: str = "whole") -> list[str]:
    """Start the campaign, crash the controller once a device's *stage* is running.

    *kind* ``whole``: SIGKILL the main process and every worker (asserted gone); ``main``: the main process
    only, then wait (bounded) for the orphaned workers to finish their task."""
    campaign = state / "campaigns" / extra["campaign_id"]
    command = [str(BIN / "ansible-playbook"), "-i", str(fleet.inventory), "escalator.swim.rolling_upgrade",
               "-e", json.dumps(extra["vars"])]
    with (tmp_path / f"killed-{stage}.log").open("w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=ansible_env({"SWIM_STATE_DIR": str(state)}),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        found: list[str] = []
        try:
            while time.monotonic() < deadline and proc.poll() is None and not found:
                found = activating(campaign, stage)
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                if kind == "whole" or not found:
                    workers = kill_whole_controller(proc)
                    assert not wait_for_exit(workers, 5), "a worker survived the whole-controller kill"
                else:
                    orphans = kill_main_only(proc)
                    assert orphans, "killing the main process left no worker running: nothing to test"
                    assert not wait_for_exit(orphans, 120), "the orphaned workers did not finish their task"
            proc.wait(timeout=30)
    if found:
        assert proc.returncode == -signal.SIGKILL, "the campaign ended before it could be killed"
    return found


@pytest.mark.parametrize("kind", ["whole", "main"])
def test_crash_while_activating_a_device_whose_new_image_raises_an_alarm(sim_fleet, image_server, tmp_path, kind):
    """Failures 1 and 6 of issue 16: the device the crashed controller was activating still gets its postcheck,
    which finds the new image's MAJOR alarm and reverts it. *whole*: the re-run's precheck must not blame the
    device (BLOCKING_ALARMS) for the alarm its new image raised. *main*: the orphaned worker recorded
    activate+verify ok after the controller died; the re-run must not take that row as upgraded."""
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(2, groups=["a", "b"], timings=TIMINGS,
                      faults={"devices": {"olt-001": {"faults": ["alarm_after_upgrade"]}}})
    document = plan_for(image)
    document["campaign"]["redundancy_groups"] = []
    document["campaign"]["groups"] = [{"name": "all", "group": "swim_fleet", "batch": {"size": 2}}]
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(document))
    state = tmp_path / "state"
    campaign = state / "campaigns" / "it-resume"
    extra = {"campaign_id": "it-resume", "vars": {"swim_plan": str(plan), "swim_auto_approve": True}}
    interrupted = kill_during("activate", fleet, extra, state, tmp_path, kind)
    assert "olt-001" in interrupted, (tmp_path / "killed-activate.log").read_text()[-3000:]
    if kind == "main":     # the orphan finished the activation and said so, after the controller died
        stages = json.loads((campaign / "status" / "olt-001.json").read_text())["stages"]
        assert stages["activate"]["state"] == "ok" and "postcheck" not in stages, stages

    rerun = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                         extra_vars=extra["vars"])
    assert rerun.returncode == 2, rerun.stdout[-6000:]        # olt-001 failed its postcheck and was reverted
    assert {name: active for name, (active, _) in versions(fleet).items()} == {"olt-001": "1.0.0", "olt-002": "2.0.0"}
    rows = table_states(campaign)
    assert rows["olt-001"][0] == "rolled_back" and rows["olt-002"][0] == "upgraded", rows
    entries = [json.loads(line) for line in (campaign / "campaign.log").read_text().splitlines()]
    mine = [e for e in entries if e["device"] == "olt-001"]
    assert not any(e["error_code"] == "BLOCKING_ALARMS" for e in mine), mine
    assert any(e["action"] == "postcheck" and e["result"] == "failed" for e in mine), mine
    assert mine[-1]["action"] == "rollback" and mine[-1]["result"] == "ok", mine
    assert "campaign it-resume: partially failed" in rerun.stdout
    assert not list((state / "locks").glob("*.lock"))


def test_killed_during_a_download_then_rerun(sim_fleet, image_server, tmp_path):
    """The device goes on downloading alone; the re-run waits for it (the device refuses a second download
    while busy), then activates it once."""
    image = image_server.make_image("swim-olt", "2.0.0", size=256 * 1024)
    fleet = sim_fleet(2, groups=["a", "b"], timings={"download_rate": 64 * 1024})       # 4 s per download
    document = plan_for(image)
    document["campaign"]["redundancy_groups"] = []
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(document))
    state = tmp_path / "state"
    extra = {"campaign_id": "it-resume", "vars": {"swim_plan": str(plan), "swim_auto_approve": True}}
    interrupted = kill_during("download", fleet, extra, state, tmp_path)
    assert interrupted, (tmp_path / "killed-download.log").read_text()[-3000:]
    rerun = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                         extra_vars=extra["vars"])
    assert rerun.returncode == 0, rerun.stdout[-6000:]
    assert {name: active for name, (active, _) in versions(fleet).items()} == {"olt-001": "2.0.0", "olt-002": "2.0.0"}
    rows = table_states(state / "campaigns" / "it-resume")
    assert {outcome for outcome, _ in rows.values()} == {"upgraded"}
    assert sorted(r["device"] for r in fleet.reboots()) == ["olt-001", "olt-002"]      # one activation each
    entries = [json.loads(line) for line in (state / "campaigns" / "it-resume" / "campaign.log").read_text().splitlines()]
    assert any(e["device"] == interrupted[0] and e["action"] == "download" and e["error_code"] == "INTERRUPTED"
               for e in entries)
