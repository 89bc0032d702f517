"""Approval gates fail closed under a plain ansible-playbook run without a terminal (as cron runs it): the
campaign stops right after the batch before the gate, says how to go on, and resumes past the gate."""

from __future__ import annotations

import yaml

from playbook_runner import run_playbook
from test_campaign_playbooks import active


def gated_plan(image, campaign_id: str) -> dict:
    return {"campaign": {
        "id": campaign_id,
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}},
        "groups": [{"name": "first", "group": "a", "batch": {"size": 1}},
                   {"name": "second", "group": "b", "depends_on": ["first"], "batch": {"size": 1}}],
        "timeouts": {"precheck": 20, "backup": 20, "download": 60, "activate": 60, "revert": 60, "postcheck": 20},
        "verification": {"sensor_tolerance": {"temperature*": 10}},
        "coordination": {"pause_before_steps": ["second"]},
    }}


def test_a_gate_without_an_operator_stops_the_campaign_and_resumes_when_approved(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a", "b"])          # olt-001, olt-003 in a; olt-002 in b
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(gated_plan(image, "it-gate")))
    env = {"SWIM_STATE_DIR": str(tmp_path / "state")}
    first = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env=env, timeout=300,
                         extra_vars={"swim_plan": str(plan)})
    assert first.returncode == 0, first.stdout[-4000:]
    assert "waiting for approval before batch 2 (second: olt-002)" in first.stdout, first.stdout[-4000:]
    assert "-e swim_approve_gate=next" in first.stdout
    assert "Not waiting for response" not in first.stdout + first.stderr
    assert active(fleet) == {"olt-001": "2.0.0", "olt-002": "1.0.0", "olt-003": "2.0.0"}

    # Approved: the gate it stopped at is passed, the rest of the campaign runs.
    second = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env=env, timeout=300,
                          extra_vars={"swim_plan": str(plan), "swim_approve_gate": "next"})
    assert second.returncode == 0, second.stdout[-4000:]
    assert "campaign it-gate: complete" in second.stdout
    assert set(active(fleet).values()) == {"2.0.0"}
    assert not list((tmp_path / "state" / "locks").glob("*.lock"))


def test_limit_is_refused_with_the_reason_and_nothing_changes(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a", "b"])
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(gated_plan(image, "it-limit")))
    env = {"SWIM_STATE_DIR": str(tmp_path / "state")}
    for playbook, extra in (("escalator.swim.rolling_upgrade", {"swim_plan": str(plan), "swim_auto_approve": True}),
                            ("escalator.swim.rollback", {"swim_campaign_id": "it-limit", "swim_auto_approve": True})):
        run = run_playbook(playbook, fleet.inventory, env=env, extra_vars=extra, args=["--limit", "olt-003"])
        assert run.returncode == 2, run.stdout[-3000:]
        assert "--limit olt-003 is refused: a campaign chooses its devices from the plan" in run.stdout
    assert fleet.reboots() == [] and set(active(fleet).values()) == {"1.0.0"}
    assert not list((tmp_path / "state").glob("campaigns/*/status/*.json"))
