"""The campaign's other collection playbooks over a simulated fleet: rollback (standalone and as the
rollback_campaign recovery policy), version_report, validate_plan."""

from __future__ import annotations

import json
import re

import yaml

from playbook_runner import run_playbook
from test_campaign import table_states


def plan_for(image, campaign_id: str, policy: str = "revert_device", batch: int = 1) -> dict:
    return {"campaign": {
        "id": campaign_id,
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}},
        "groups": [{"name": "all-a", "group": "a", "batch": {"size": batch}}],
        "timeouts": {"precheck": 20, "backup": 20, "download": 60, "activate": 60, "revert": 60, "postcheck": 20},
        "verification": {"sensor_tolerance": {"temperature*": 10}},
        "recovery": {"policy": policy, "failure_threshold": 0},
    }}


def active(fleet) -> dict:
    return {d["name"]: fleet.state(d["name"])["partitions"]["active"]["version"] for d in fleet.devices}


def test_rollback_campaign_policy_reverts_every_upgraded_device_in_reverse_order(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(4, groups=["a"], faults={"devices": {"olt-003": {"faults": ["activation_sanity_failure"]}}})
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(plan_for(image, "it-rollback-policy", policy="rollback_campaign")))
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert run.returncode == 2, run.stdout[-5000:]
    assert "stopped after batch 2 (recovery policy rollback_campaign), rolled back" in run.stdout
    # Batches of one: olt-001, olt-002 upgraded, olt-003 failed (fell back, stays on 1.0.0), olt-004 never reached.
    assert active(fleet) == {"olt-001": "1.0.0", "olt-002": "1.0.0", "olt-003": "1.0.0", "olt-004": "1.0.0"}
    rows = table_states(state / "campaigns" / "it-rollback-policy")
    assert rows["olt-001"][0] == rows["olt-002"][0] == "rolled_back"
    assert rows["olt-003"][0] == "failed"
    assert "download" not in rows["olt-004"][1]
    # Reverse batch order: olt-002 (batch 1) went back before olt-001 (batch 0); olt-004 never rebooted.
    order = [r["device"] for r in fleet.reboots()]
    assert "olt-004" not in order
    assert order.index("olt-001") < order.index("olt-002")                  # upgrades
    last_001 = len(order) - 1 - order[::-1].index("olt-001")
    last_002 = len(order) - 1 - order[::-1].index("olt-002")
    assert last_002 < last_001, order                                          # reverts: reverse order
    assert not list((state / "locks").glob("*.lock"))


def test_rollback_playbook_reverts_a_finished_campaign_then_does_nothing(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a"])
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(plan_for(image, "it-rollback", batch=2)))
    env = {"SWIM_STATE_DIR": str(tmp_path / "state")}
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env=env,
                       extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert run.returncode == 0, run.stdout[-5000:]
    assert set(active(fleet).values()) == {"2.0.0"}
    upgrades = len(fleet.reboots())

    # version_report with the campaign: versions read from the devices, the table, each device's outcome.
    report_file = tmp_path / "report.json"
    report = run_playbook("escalator.swim.version_report", fleet.inventory, env=env,
                          extra_vars={"swim_campaign_id": "it-rollback", "swim_report_dest": str(report_file)})
    assert report.returncode == 0, report.stdout[-4000:]
    written = json.loads(report_file.read_text())
    assert {d["device"]: (d["active"], d["standby"], d["outcome"]) for d in written["devices"]} == {
        name: ("2.0.0", "1.0.0", "upgraded") for name in ("olt-001", "olt-002", "olt-003")}
    assert "campaign it-rollback" in report.stdout and "postcheck" in report.stdout     # the status table
    assert "olt-003  2.0.0   1.0.0    upgraded" in report.stdout

    back = run_playbook("escalator.swim.rollback", fleet.inventory, env=env,
                        extra_vars={"swim_campaign_id": "it-rollback", "swim_auto_approve": True})
    assert back.returncode == 0, back.stdout[-5000:]
    assert set(active(fleet).values()) == {"1.0.0"}
    rows = table_states(tmp_path / "state" / "campaigns" / "it-rollback")
    assert {outcome for outcome, _ in rows.values()} == {"rolled_back"}
    # Reverse batch order: batch 1 (olt-003) before batch 0 (olt-001, olt-002).
    reverted = [r["device"] for r in fleet.reboots()[upgrades:]]
    assert sorted(reverted) == ["olt-001", "olt-002", "olt-003"]
    assert reverted[0] == "olt-003", reverted
    assert not list((tmp_path / "state" / "locks").glob("*.lock"))

    again = run_playbook("escalator.swim.rollback", fleet.inventory, env=env,
                         extra_vars={"swim_campaign_id": "it-rollback", "swim_auto_approve": True})
    assert again.returncode == 0, again.stdout[-3000:]
    assert len(fleet.reboots()) == upgrades + 3, "nothing left to revert"

    # The campaign run again after its rollback: every device's row says rolled back, and so does the outcome.
    rerun = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env=env,
                         extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert "campaign it-rollback: rolled back" in rerun.stdout, rerun.stdout[-3000:]
    assert "partially failed" not in rerun.stdout
    assert len(fleet.reboots()) == upgrades + 3

    # Without a campaign: versions only, and an unreachable device is a line of the report, not a failure.
    inventory = yaml.safe_load(fleet.inventory.read_text())
    inventory["all"]["children"]["swim_fleet"]["children"]["a"]["hosts"]["olt-003"]["ansible_port"] = 1
    fleet.inventory.write_text(yaml.safe_dump(inventory))
    plain = run_playbook("escalator.swim.version_report", fleet.inventory, env=env,
                         extra_vars={"swim_report_dest": str(report_file)})
    assert plain.returncode == 0, plain.stdout[-3000:]
    devices = {d["device"]: d for d in json.loads(report_file.read_text())["devices"]}
    assert devices["olt-001"]["active"] == "1.0.0" and devices["olt-001"]["error"] == ""
    assert devices["olt-003"]["active"] == "" and "olt-003" in devices["olt-003"]["error"]


def test_validate_plan_playbook(sim_fleet, tmp_path):
    fleet = sim_fleet(2, groups=["a"])
    good = {"campaign": {
        "id": "it-validate",
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": "http://127.0.0.1/x.img",
                               "sha256": "a" * 64}},
        "groups": [{"name": "all-a", "group": "a", "canary": 1, "batch": {"size": 1}}],
    }}
    path = tmp_path / "good.yml"
    path.write_text(yaml.safe_dump(good))
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory, extra_vars={"swim_plan": str(path)})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "campaign it-validate is valid on the inventory" in run.stdout
    assert "batch 0 all-a (canary): olt-001 -> swim-olt 2.0.0" in run.stdout
    assert "batch 1 all-a: olt-002 -> swim-olt 2.0.0" in run.stdout

    bad = {"campaign": {"id": "it-validate",
                        "images": {"default": {"name": "swim-olt", "version": 2.0, "url": "x", "sha256": "0"}},
                        "groups": [{"group": "nope", "batch": {"size": "0%"}}]}}
    path.write_text(yaml.safe_dump(bad))
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory, extra_vars={"swim_plan": str(path)})
    assert run.returncode == 2
    for problem in ("campaign.images.default.sha256", "campaign.images.default.version",
                    "campaign.images.default.url", "campaign.groups[0].batch.size"):
        assert problem in run.stdout, run.stdout[-3000:]
    # On the inventory: a group the inventory does not have; offline the same plan is fine.
    good["campaign"]["groups"][0]["group"] = "aa"
    path.write_text(yaml.safe_dump(good))
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory, extra_vars={"swim_plan": str(path)})
    assert run.returncode == 2 and "unknown inventory group 'aa'" in run.stdout, run.stdout[-3000:]
    offline = run_playbook("escalator.swim.validate_plan", fleet.inventory,
                           extra_vars={"swim_plan": str(path), "swim_offline": True})
    assert offline.returncode == 0 and "is valid offline" in offline.stdout, offline.stdout[-3000:]


def test_check_mode_prints_the_batches_and_touches_nothing(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a"])
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(plan_for(image, "it-check", batch=2)))
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars={"swim_plan": str(plan), "swim_auto_approve": True}, check=True)
    assert run.returncode == 0, run.stdout[-5000:]
    # The resolved batches, one readable line each.
    assert re.search(r'"batch 0 [\w-]+( \(canary\))?: olt-001, olt-002"', run.stdout), run.stdout[-5000:]
    assert re.search(r'"batch 1 [\w-]+( \(canary\))?: olt-003"', run.stdout)
    assert "campaign it-check: check mode: nothing changed; 3 devices would be upgraded, 0 skipped" in run.stdout
    assert ": complete" not in run.stdout
    for host, batch in (("olt-001", 0), ("olt-002", 0), ("olt-003", 1)):
        assert re.search(rf'ok: \[{host}\] => {{\s*"msg": "batch {batch} \(all-a\): 1\.0\.0 -> 2\.0\.0: precheck, '
                         r'backup, download swim-olt 2\.0\.0', run.stdout), host
    assert fleet.reboots() == []
    assert set(active(fleet).values()) == {"1.0.0"}
    assert not list(state.glob("campaigns/*/status/*.json")) and not list(state.glob("locks/*.lock"))
