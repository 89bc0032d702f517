"""The rolling_upgrade collection playbook over a simulated fleet: batches, rollback of a failed device,
status table, structured log, locks, redundancy, re-run."""

from __future__ import annotations

import json

import yaml

from playbook_runner import run_playbook

PAIR = ("olt-002", "olt-004")
FAILING = "olt-005"


def plan_for(image, campaign_id: str = "it-campaign") -> dict:
    return {"campaign": {
        "id": campaign_id,
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}},
        "groups": [
            {"name": "first", "group": "a", "batch": {"size": 2}},
            {"name": "second", "group": "b", "depends_on": ["first"], "batch": {"size": 2}},
        ],
        "redundancy_groups": [{"name": "pairs", "var": "swim_redundancy_pair"}],
        "timeouts": {"precheck": 20, "backup": 20, "download": 60, "activate": 60, "revert": 60, "postcheck": 20},
        "verification": {"sensor_tolerance": {"temperature*": 10}},
        "recovery": {"policy": "revert_device", "failure_threshold": "100%"},
    }}


def pair_up(fleet, pair, name: str = "p1") -> None:
    """Make the hosts of *pair* a redundancy pair (host variable swim_redundancy_pair) in the fleet's inventory."""
    inventory = yaml.safe_load(fleet.inventory.read_text())
    for group in inventory["all"]["children"]["swim_fleet"]["children"].values():
        for host_name, host in group["hosts"].items():
            if host_name in pair:
                host["swim_redundancy_pair"] = name
    fleet.inventory.write_text(yaml.safe_dump(inventory))


def overlaps(reboots, a, b) -> bool:
    spans = {name: [(r["down_at"], r["up_at"]) for r in reboots if r["device"] == name] for name in (a, b)}
    return any(a0 < b1 and b0 < a1 for a0, a1 in spans[a] for b0, b1 in spans[b])


def run_campaign(fleet, document: dict, tmp_path):
    """Write *document* as the plan and run rolling_upgrade on *fleet*: (the run, the state directory)."""
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(document))
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    return run, state


def active_versions(fleet) -> dict:
    return {d["name"]: fleet.state(d["name"])["partitions"]["active"]["version"] for d in fleet.devices}


def test_rolling_upgrade_campaign(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=128 * 1024)
    fleet = sim_fleet(6, groups=["a", "b"], faults={"devices": {FAILING: {"faults": ["activation_sanity_failure"]}}},
                      timings={"reboot_time": 0.5})
    pair_up(fleet, PAIR)
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(plan_for(image)))
    state = tmp_path / "state"
    env = {"SWIM_STATE_DIR": str(state)}

    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env=env,
                       extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert run.returncode == 2, run.stdout[-4000:] + run.stderr[-2000:]   # partially failed, as it should be
    versions = active_versions(fleet)
    assert versions.pop(FAILING) == "1.0.0"
    assert set(versions.values()) == {"2.0.0"}, run.stdout[-6000:]
    assert not overlaps(fleet.reboots(), *PAIR)

    campaign = state / "campaigns" / "it-campaign"
    rows = {p.stem: json.loads(p.read_text()) for p in (campaign / "status").glob("*.json")}
    assert len(rows) == 6
    assert rows[FAILING]["outcome"] == "failed"
    assert rows[FAILING]["stages"]["activate"]["state"] == "failed"
    assert rows[FAILING]["stages"]["activate"]["error_code"] == "INVALID_IMAGE"
    assert all(rows[name]["outcome"] == "upgraded" for name in versions)
    assert rows[PAIR[0]]["batch"] != rows[PAIR[1]]["batch"], "a redundancy pair must never share a batch"
    log = [json.loads(line) for line in (campaign / "campaign.log").read_text().splitlines()]
    assert {"time", "campaign", "device", "action", "result", "error_code"} <= set(log[0])
    assert any(e["device"] == FAILING and e["action"] == "activate" and e["result"] == "failed" for e in log)
    assert not list((state / "locks").glob("*.lock")), "locks are released at the end of the campaign"
    assert (campaign / "snapshots" / "olt-001" / "post.json").is_file()
    assert "partially failed" in run.stdout

    # The same campaign again: every row is final (upgraded, or failed and back on its old image), so the
    # re-run leaves every device alone: no reboot, the same table.
    before = table_states(campaign)
    reboots_before = len(fleet.reboots())
    again = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env=env,
                         extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert again.returncode == 2, again.stdout[-3000:]      # still partially failed: olt-005 failed
    assert fleet.reboots()[reboots_before:] == []
    assert table_states(campaign) == before
    assert "olt-001" in again.stdout and "partially failed" in again.stdout

    # swim_retry_failed=true: only the failed device is taken up again (its fault persists: it fails and
    # falls back again); the upgraded ones are still left alone.
    retry = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env=env,
                         extra_vars={"swim_plan": str(plan), "swim_auto_approve": True, "swim_retry_failed": True})
    assert retry.returncode == 2, retry.stdout[-3000:]
    assert {r["device"] for r in fleet.reboots()[reboots_before:]} == {FAILING}
    assert fleet.state(FAILING)["partitions"]["active"]["version"] == "1.0.0"
    assert table_states(campaign) == before


def table_states(campaign) -> dict:
    """{device: (outcome, {stage: state})}: the status table without its times."""
    rows = [json.loads(p.read_text()) for p in (campaign / "status").glob("*.json")]
    return {row["device"]: (row["outcome"], {name: stage["state"] for name, stage in row["stages"].items()})
            for row in rows}


def test_a_pair_member_failing_its_precheck_holds_back_its_partner(sim_fleet, image_server, tmp_path):
    """The failed precheck is passed to the resolver as `unavailable`: only the partner is held back."""
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(4, groups=["a"], faults={"devices": {PAIR[0]: {"alarms": {"fan-2": "major"}}}})
    pair_up(fleet, PAIR)
    document = plan_for(image)
    document["campaign"]["groups"] = [{"name": "first", "group": "a", "batch": {"size": 2}}]
    run, state = run_campaign(fleet, document, tmp_path)
    assert run.returncode == 2, run.stdout[-4000:]
    versions = active_versions(fleet)
    assert versions == {"olt-001": "2.0.0", "olt-002": "1.0.0", "olt-003": "2.0.0", "olt-004": "1.0.0"}
    rows = table_states(state / "campaigns" / "it-campaign")
    assert rows["olt-002"][1]["precheck"] == "failed"
    assert rows["olt-004"] == ("skipped", {"precheck": "ok", "backup": "ok", "verify": "skipped"})
    status = json.loads((state / "campaigns" / "it-campaign" / "status" / "olt-004.json").read_text())
    assert "redundancy group" in status["stages"]["verify"]["error"]
    assert {r["device"] for r in fleet.reboots()} == {"olt-001", "olt-003"}


def test_a_device_held_by_another_campaign_is_refused(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(2, groups=["a", "b"])
    plan = tmp_path / "plan.yml"
    document = plan_for(image)
    document["campaign"]["redundancy_groups"] = []
    plan.write_text(yaml.safe_dump(document))
    locks = tmp_path / "state" / "locks"
    locks.mkdir(parents=True)
    (locks / "olt-001.lock").write_text(json.dumps({"campaign": "someone-else"}))
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(tmp_path / "state")},
                       extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert run.returncode == 2
    assert "locked by campaign 'someone-else'" in run.stdout
    assert fleet.state("olt-001")["partitions"]["active"]["version"] == "1.0.0"
    assert fleet.state("olt-002")["partitions"]["active"]["version"] == "2.0.0"
    assert (locks / "olt-001.lock").exists(), "another campaign's lock is never removed"


def test_a_new_alarm_after_the_upgrade_fails_the_postcheck_and_the_device_is_reverted(sim_fleet, image_server,
                                                                                      tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    alarmed = "olt-002"
    fleet = sim_fleet(2, groups=["a"], faults={"devices": {alarmed: {"faults": ["alarm_after_upgrade"]}}},
                      timings={"reboot_time": 0.5})
    document = plan_for(image, "it-postcheck")
    document["campaign"]["groups"] = [{"name": "first", "group": "a", "batch": {"size": 2}}]
    document["campaign"].pop("redundancy_groups")
    run, state = run_campaign(fleet, document, tmp_path)
    assert run.returncode == 2, run.stdout[-4000:]
    assert active_versions(fleet) == {"olt-001": "2.0.0", alarmed: "1.0.0"}, run.stdout[-4000:]
    campaign = state / "campaigns" / "it-postcheck"
    row = json.loads((campaign / "status" / f"{alarmed}.json").read_text())
    assert row["outcome"] == "rolled_back"
    assert row["stages"]["activate"]["state"] == "ok" and row["stages"]["postcheck"]["state"] == "failed"
    assert "fan-2" in row["stages"]["postcheck"]["error"] and alarmed in row["stages"]["postcheck"]["error"]
    assert row["stages"]["rollback"]["state"] == "ok"
    log = [json.loads(line) for line in (campaign / "campaign.log").read_text().splitlines()]
    postcheck = [(e["result"], e["error_code"]) for e in log if e["device"] == alarmed and e["action"] == "postcheck"]
    assert postcheck == [("running", ""), ("failed", row["stages"]["postcheck"]["error_code"])], postcheck
