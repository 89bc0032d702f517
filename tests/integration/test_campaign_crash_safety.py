"""Issue 16 on real ansible-playbook runs: an unreachable device does not hold the others' precheck (point 9),
locks are released for devices an earlier crashed run finished and the report never dies on a lock (failure 4)."""

from __future__ import annotations

import datetime
import json
import subprocess
import time

import yaml

from controller_kill import kill_whole_controller
from playbook_runner import BIN, ROOT, ansible_env, run_playbook
from test_campaign_resume import plan_for


def when(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def rows_now(campaign) -> dict:
    """table_states while the campaign runs: a row's temporary file (.tmp-*.json) or a vanished one is skipped."""
    rows = {}
    for path in (campaign / "status").glob("[!.]*.json") if (campaign / "status").is_dir() else []:
        try:
            row = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        rows[row["device"]] = (row["outcome"], {name: stage["state"] for name, stage in row["stages"].items()})
    return rows


def write_plan(tmp_path, image, **campaign) -> dict:
    document = plan_for(image)
    document["campaign"]["redundancy_groups"] = []
    document["campaign"]["groups"] = [{"name": "all", "group": "swim_fleet", "batch": {"size": 1}}]
    document["campaign"].update(campaign)
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(document))
    return {"swim_plan": str(plan), "swim_auto_approve": True}


def test_an_unreachable_device_fails_its_precheck_within_the_connect_window_alone(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a"], faults={"devices": {"olt-002": {"faults": ["unreachable"]}}})
    extra = write_plan(tmp_path, image)
    plan = yaml.safe_load((tmp_path / "plan.yml").read_text())
    plan["campaign"]["timeouts"]["precheck"] = 120          # far above the connect window (10 s)
    (tmp_path / "plan.yml").write_text(yaml.safe_dump(plan))
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars=extra)
    # 4: Ansible's exit code when a host was unreachable (olt-002 is, in the recap), over the campaign's 2
    assert run.returncode == 4, run.stdout[-4000:]
    assert "unreachable=1" in run.stdout.split("PLAY RECAP")[-1].split("olt-002", 1)[1].splitlines()[0], run.stdout[-2000:]
    rows = {p.stem: json.loads(p.read_text()) for p in (state / "campaigns" / "it-resume" / "status").glob("*.json")}
    assert rows["olt-001"]["outcome"] == "upgraded" and rows["olt-003"]["outcome"] == "upgraded", rows
    assert rows["olt-002"]["outcome"] == "failed", rows["olt-002"]
    assert rows["olt-002"]["stages"]["precheck"]["error_code"] == "DEVICE_UNREACHABLE", rows["olt-002"]
    started = min(when(row["stages"]["precheck"]["start"]) for row in rows.values())
    backups = [when(rows[name]["stages"]["backup"]["start"]) for name in ("olt-001", "olt-003")]
    # The reachable devices went on after the connect window of olt-002, not after the 120 s precheck timeout.
    assert (max(backups) - started).total_seconds() < 45, rows
    assert "Traceback" not in run.stdout + run.stderr


def test_locks_of_devices_an_earlier_crashed_run_finished_are_released(sim_fleet, image_server, tmp_path):
    """Failure 4: the first run upgrades olt-001 then the whole controller crashes during olt-002; the re-run
    (its scope is olt-002 only) still releases olt-001's lock. A lock another campaign holds is reported in the
    table output, and the report does not die on it."""
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(2, groups=["a"], timings={"reboot_time": 2.5, "sanity_time": 0.3})
    extra = write_plan(tmp_path, image)
    state = tmp_path / "state"
    campaign = state / "campaigns" / "it-resume"
    command = [str(BIN / "ansible-playbook"), "-i", str(fleet.inventory), "escalator.swim.rolling_upgrade",
               "-e", json.dumps(extra)]
    with (tmp_path / "killed.log").open("w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=ansible_env({"SWIM_STATE_DIR": str(state)}),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            rows = rows_now(campaign)
            if rows.get("olt-001", ("",))[0] == "upgraded" and \
                    rows.get("olt-002", ("", {}))[1].get("activate") == "running":
                break
            time.sleep(0.05)
        assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
        kill_whole_controller(proc)
    assert sorted(p.name for p in (state / "locks").glob("*.lock")) == ["olt-001.lock", "olt-002.lock"]
    rerun = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                         extra_vars=extra)
    assert rerun.returncode == 0, rerun.stdout[-6000:]
    assert not list((state / "locks").glob("*.lock")), "the lock of olt-001 (finished before the crash) leaked"
    released = [json.loads(line) for line in (state / "locks" / "releases.log").read_text().splitlines()]
    assert {entry["device"] for entry in released} == {"olt-001", "olt-002"}

    # A later campaign on the same devices while another campaign holds olt-002: the report still prints the
    # status table and says who holds the lock.
    (state / "locks" / "olt-002.lock").write_text(json.dumps({"campaign": "someone-else", "since": "now"}))
    again = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                         extra_vars=extra)
    assert "device   batch" in again.stdout or "device  batch" in again.stdout, again.stdout[-4000:]
    assert "lock not released" in again.stdout and "someone-else" in again.stdout, again.stdout[-4000:]


def test_a_device_that_never_came_back_holds_its_redundancy_partner(sim_fleet, image_server, tmp_path):
    """Failure 3: olt-001 never returns from its reboot (TIMEOUT; its revert cannot reach it); its partner
    olt-002, in the next batch, is held back for the rest of the campaign and never rebooted."""
    from test_campaign import pair_up

    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(2, groups=["a", "b"], faults={"devices": {"olt-001": {"faults": ["never_returns"]}}})
    pair_up(fleet, ("olt-001", "olt-002"))
    document = plan_for(image)
    document["campaign"]["timeouts"].update(activate=10, revert=10)
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(document))
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert run.returncode == 2, run.stdout[-6000:]
    assert [r["device"] for r in fleet.reboots() if r["device"] == "olt-002"] == [], fleet.reboots()
    assert fleet.state("olt-002")["partitions"]["active"]["version"] == "1.0.0"
    campaign = state / "campaigns" / "it-resume"
    row = json.loads((campaign / "status" / "olt-002.json").read_text())
    assert "activate" not in row["stages"] and "olt-001 is down" in row["details"]["hold"], row
    entries = [json.loads(line) for line in (campaign / "campaign.log").read_text().splitlines()]
    assert any(e["device"] == "olt-002" and "held back" in e["error"] and "olt-001" in e["error"] for e in entries)
    assert "held back: redundancy group" in run.stdout


def test_every_device_failing_its_precheck_still_reports_and_releases(sim_fleet, image_server, tmp_path):
    """Failure 6, end: when every device in scope fails its precheck the playbook still prints the status
    table, releases the locks and exits 2 (Ansible ends a playbook whose play lost every host)."""
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(1, groups=["a"], faults={"devices": {"olt-001": {"alarms": {"fan-2": "major"}}}})
    extra = write_plan(tmp_path, image)
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars=extra)
    assert run.returncode == 2, run.stdout[-4000:]
    assert "campaign it-resume: partially failed" in run.stdout, run.stdout[-4000:]
    assert "BLOCKING_ALARMS" in run.stdout
    assert not list((state / "locks").glob("*.lock"))
    assert fleet.reboots() == []
