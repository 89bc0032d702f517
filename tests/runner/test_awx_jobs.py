"""The AWX project playbooks run as AWX runs them (ansible-runner, private data directory, extra vars, env vars),
against a simulated fleet; assertions on the job events and on the artifacts AWX reads (status, rc, stdout)."""
from __future__ import annotations

import json

import yaml

FAILING = "olt-003"


def plan_for(image, campaign_id: str) -> dict:
    return {"campaign": {
        "id": campaign_id,
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}},
        "groups": [
            {"name": "first", "group": "a", "batch": {"size": 1}},
            {"name": "second", "group": "b", "depends_on": ["first"], "batch": {"size": 2}},
        ],
        "timeouts": {"precheck": 20, "backup": 20, "download": 60, "activate": 60, "revert": 60, "postcheck": 20},
        "recovery": {"policy": "revert_device", "failure_threshold": "100%"},
    }}


def active_version(fleet, name: str) -> str:
    return fleet.state(name)["partitions"]["active"]["version"]


def test_rolling_upgrade_job(sim_fleet, image_server, awx_job, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a", "b"], faults={"devices": {FAILING: {"faults": ["activation_sanity_failure"]}}},
                      timings={"reboot_time": 0.3})
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(plan_for(image, "awx-campaign")))
    state = tmp_path / "state"

    job = awx_job("rolling_upgrade", fleet.inventory,
                  extra_vars={"swim_plan": str(plan), "swim_state_root": str(state), "swim_auto_approve": True})

    # Artifacts: what AWX shows as the job's status and output.
    assert job.status == "failed" and job.rc == 2, job.stdout_text[-4000:]
    assert (job.artifacts / "status").read_text() == "failed"
    assert (job.artifacts / "rc").read_text() == "2"
    assert "partially failed" in job.stdout_text
    assert json.loads((job.artifacts / "command").read_text())["command"][0].endswith("ansible-playbook")
    assert job.statuses[0] == "starting" and job.statuses[-1] == "failed"

    # Job events: streamed to the handler and kept under artifacts/<ident>/job_events, the same ones.
    assert [e["uuid"] for e in job.events] == [e["uuid"] for e in job.artifact_events()]
    assert job.events[0]["event"] == "playbook_on_start" and job.events[-1]["event"] == "playbook_on_stats"
    assert {e["event_data"]["play"] for e in job.of("playbook_on_play_start")} >= {
        "Plan the campaign", "Upgrade batch by batch", "Report the campaign"}
    devices = {"olt-001", "olt-002", FAILING}
    assert job.hosts("runner_on_ok", "Download: image into standby") == devices
    assert job.hosts("runner_on_ok", "Activate: reboot into the new image") == devices - {FAILING}
    (failed_activation,) = job.of("runner_on_failed", "Activate: reboot into the new image")
    assert failed_activation["event_data"]["host"] == FAILING
    assert "INVALID_IMAGE" in json.dumps(failed_activation["event_data"]["res"])
    downloads = job.of("runner_on_ok", "Download: image into standby")
    assert all(e["event_data"]["res"]["changed"] for e in downloads)

    stats = job.stats
    assert set(stats["processed"]) >= devices | {"localhost"}
    assert stats["rescued"].get(FAILING) == 1
    assert not stats["dark"]
    assert "localhost" in stats["failures"]     # the campaign's verdict: a device failed

    assert {n: active_version(fleet, n) for n in sorted(devices)} == {"olt-001": "2.0.0", "olt-002": "2.0.0", FAILING: "1.0.0"}
    rows = {p.stem: json.loads(p.read_text()) for p in (state / "campaigns" / "awx-campaign" / "status").glob("*.json")}
    assert rows[FAILING]["outcome"] == "failed" and rows["olt-001"]["outcome"] == "upgraded"

    # The version report job right after, on the same inventory, with the campaign's outcomes.
    report_file = tmp_path / "report.json"
    report = awx_job("version_report", fleet.inventory,
                     extra_vars={"swim_campaign_id": "awx-campaign", "swim_state_root": str(state),
                                 "swim_report_dest": str(report_file)})
    assert report.status == "successful" and report.rc == 0, report.stdout_text[-4000:]
    assert (report.artifacts / "status").read_text() == "successful"
    reads = {e["event_data"]["host"]: e["event_data"]["res"]
             for e in report.of("runner_on_ok", "Read the active and standby images")}
    assert {h: r["active_version"] for h, r in reads.items()} == {"olt-001": "2.0.0", "olt-002": "2.0.0", FAILING: "1.0.0"}
    (table,) = report.of("runner_on_ok", "Version table")
    lines = table["event_data"]["res"]["msg"]
    assert lines[0].split() == ["device", "active", "standby", "outcome", "error"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["olt-001"] == ["olt-001", "2.0.0", "1.0.0", "upgraded"]
    assert rows[FAILING][:2] == [FAILING, "1.0.0"] and rows[FAILING][-1] == "failed", lines
    assert report.stats["failures"] == {} and report.stats["changed"].get("localhost") == 1
    written = json.loads(report_file.read_text())
    assert {d["device"]: d["outcome"] for d in written["devices"]} == {"olt-001": "upgraded", "olt-002": "upgraded",
                                                                       FAILING: "failed"}


def slice_inventory(inventory: dict, number: int, count: int) -> dict:
    """AWX job slicing: slice *number* (1-based) of *count* holds every count-th host in name order, in its groups."""
    names = sorted({name for group in walk_groups(inventory) for name in (group.get("hosts") or {})})
    keep = set(names[number - 1::count])
    sliced = json.loads(json.dumps(inventory))
    for group in walk_groups(sliced):
        if group.get("hosts"):
            group["hosts"] = {name: v for name, v in group["hosts"].items() if name in keep}
    return sliced


def walk_groups(node: dict):
    for group in node.values():
        if isinstance(group, dict):
            yield group
            yield from walk_groups(group.get("children") or {})


def test_version_report_is_slice_safe(sim_fleet, awx_job, tmp_path):
    """A sliced version_report job (2 slices, as AWX runs a template with job_slice_count: 2) reads every device once."""
    fleet = sim_fleet(4, groups=["a", "b"])
    inventory = yaml.safe_load(fleet.inventory.read_text())
    seen: dict[str, str] = {}
    for number in (1, 2):
        dest = tmp_path / f"report-{number}.json"
        job = awx_job("version_report", slice_inventory(inventory, number, 2),
                      extra_vars={"swim_report_dest": str(dest), "swim_state_root": str(tmp_path / "state")})
        assert job.status == "successful", job.stdout_text[-3000:]
        hosts = job.hosts("runner_on_ok", "Read the active and standby images")
        assert len(hosts) == 2 and not hosts & set(seen)
        devices = json.loads(dest.read_text())["devices"]
        assert {d["device"] for d in devices} == hosts
        seen.update({d["device"]: d["active"] for d in devices})
    assert seen == {d["name"]: "1.0.0" for d in fleet.devices}


def test_validate_plan_dry_run_job(sim_fleet, image_server, awx_job):
    """The dry run of docs/awx: a plan kept in the project, validated on the inventory; batches in the job output,
    no device touched. A bad plan fails the job with every problem in the failed event."""
    image = image_server.make_image("swim-olt", "2.0.0", size=16 * 1024)
    fleet = sim_fleet(3, groups=["a", "b"])
    plan = plan_for(image, "dry-run")
    job = awx_job("validate_plan", fleet.inventory, extra_vars={"swim_plan": "{project}/campaigns/dry-run.yml"},
                  project_files={"campaigns/dry-run.yml": yaml.safe_dump(plan)})
    assert job.status == "successful" and job.rc == 0, job.stdout_text[-3000:]
    (shown,) = job.of("runner_on_ok", "What the campaign would do")
    lines = shown["event_data"]["res"]["msg"]
    # group a = olt-001, olt-003 (batches of 1), group b = olt-002 after it
    assert lines[1:] == ["batch 0 first: olt-001 -> swim-olt 2.0.0", "batch 1 first: olt-003 -> swim-olt 2.0.0",
                         "batch 2 second: olt-002 -> swim-olt 2.0.0"], lines
    assert job.hosts("runner_on_ok") == {"localhost"}
    assert all(active_version(fleet, d["name"]) == "1.0.0" for d in fleet.devices)
    assert not fleet.reboots()

    plan["campaign"]["groups"][1]["depends_on"] = ["nowhere"]
    plan["campaign"]["images"]["default"]["sha256"] = "not-a-checksum"
    bad = awx_job("validate_plan", fleet.inventory, extra_vars={"swim_plan": "{project}/campaigns/bad.yml"},
                  project_files={"campaigns/bad.yml": yaml.safe_dump(plan)})
    assert bad.status == "failed" and bad.rc == 2
    (failed,) = bad.of("runner_on_failed")
    assert "problem(s) in the campaign plan" in failed["event_data"]["res"]["msg"]
    # Every problem in the validation's own result, and one per line in the job output.
    (checked,) = bad.of("runner_on_ok", "Validate the plan")
    problems = checked["event_data"]["res"]["problems"]
    assert any("nowhere" in p for p in problems) and any("sha256" in p for p in problems), problems
    (listed,) = bad.of("runner_on_ok", "Problems of the plan, one per line")
    assert listed["event_data"]["res"]["msg"] == problems


def test_rolling_upgrade_check_job(sim_fleet, image_server, awx_job, tmp_path):
    """The check-mode job template: per device what it would go through, nothing changed."""
    image = image_server.make_image("swim-olt", "2.0.0", size=16 * 1024)
    fleet = sim_fleet(3, groups=["a", "b"])
    state = tmp_path / "state"
    job = awx_job("rolling_upgrade", fleet.inventory, job_type="check",
                  extra_vars={"swim_plan": "{project}/campaigns/check.yml", "swim_state_root": str(state),
                              "swim_auto_approve": "true"},    # a survey answers with a string
                  project_files={"campaigns/check.yml": yaml.safe_dump(plan_for(image, "awx-check"))})
    assert job.status == "successful" and job.rc == 0, job.stdout_text[-4000:]
    assert "--check" in json.loads((job.artifacts / "command").read_text())["command"]
    shown = {e["event_data"]["host"]: e["event_data"]["res"]["msg"]
             for e in job.of("runner_on_ok", "Check mode - what this device would go through")}
    assert set(shown) == {"olt-001", "olt-002", "olt-003"}
    assert shown["olt-002"].startswith("batch 2 (second): 1.0.0 -> 2.0.0: precheck, backup, download swim-olt 2.0.0")
    assert not job.of("runner_on_failed")
    assert fleet.reboots() == [] and all(active_version(fleet, d["name"]) == "1.0.0" for d in fleet.devices)
    assert not list(state.glob("campaigns/*/status/*.json")) and not list(state.glob("locks/*.lock"))
