"""Approval gates as AWX runs them (ansible-runner, which gives the playbook a pty, job_timeout 90): the job
stops at the gate and succeeds without waiting, the same template with swim_approve_gate=next resumes past it;
a rollback job without approval reverts nothing. Against a simulated fleet."""
from __future__ import annotations

import yaml

GATED_PLAN = "awx-gate"


def plan_for(image) -> dict:
    return {"campaign": {
        "id": GATED_PLAN,
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}},
        "groups": [{"name": "first", "group": "a", "batch": {"size": 2}},
                   {"name": "second", "group": "b", "depends_on": ["first"], "batch": {"size": 1}}],
        "timeouts": {"precheck": 20, "backup": 20, "download": 60, "activate": 60, "revert": 60, "postcheck": 20},
        "verification": {"sensor_tolerance": {"temperature*": 10}},
        "coordination": {"pause_before_steps": ["second"]},
    }}


def versions(fleet) -> dict:
    return {d["name"]: fleet.state(d["name"])["partitions"]["active"]["version"] for d in fleet.devices}


def test_gate_job_stops_then_the_same_template_resumes_past_the_approval(sim_fleet, image_server, awx_job, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a", "b"], timings={"reboot_time": 0.3})     # a: olt-001, olt-003; b: olt-002
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(plan_for(image)))
    state = tmp_path / "state"
    common = {"swim_plan": str(plan), "swim_state_root": str(state)}

    # The survey's default: no auto-approve. The job ends at the gate (well before job_timeout) and succeeds.
    first = awx_job("rolling_upgrade", fleet.inventory, extra_vars={**common, "swim_auto_approve": "false"}, timeout=90)
    assert first.status == "successful" and first.rc == 0, first.stdout_text[-4000:]
    assert "waiting for approval before batch 1 (second: olt-002)" in first.stdout_text
    assert "Not waiting for response" not in first.stdout_text
    assert versions(fleet) == {"olt-001": "2.0.0", "olt-002": "1.0.0", "olt-003": "2.0.0"}

    # After the workflow's approval node: the same template with swim_approve_gate=next.
    second = awx_job("rolling_upgrade", fleet.inventory, extra_vars={**common, "swim_approve_gate": "next"}, timeout=90)
    assert second.status == "successful" and second.rc == 0, second.stdout_text[-4000:]
    assert f"campaign {GATED_PLAN}: complete" in second.stdout_text
    assert set(versions(fleet).values()) == {"2.0.0"}

    # Rollback: without approval it stops before the first revert; approved, it reverts.
    held = awx_job("rollback", fleet.inventory, timeout=90,
                   extra_vars={"swim_campaign_id": GATED_PLAN, "swim_state_root": str(state)})
    assert held.status == "successful", held.stdout_text[-4000:]
    assert "waiting for approval before the rollback of" in held.stdout_text
    assert set(versions(fleet).values()) == {"2.0.0"}
    back = awx_job("rollback", fleet.inventory, timeout=90,
                   extra_vars={"swim_campaign_id": GATED_PLAN, "swim_state_root": str(state), "swim_approve_gate": "next"})
    assert back.status == "successful", back.stdout_text[-4000:]
    assert set(versions(fleet).values()) == {"1.0.0"}
