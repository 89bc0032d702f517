"""Results say what the device reported and what really happened, through real ansible-playbook runs
over the simulator: a device manager claiming success on the old image, check mode writing nothing."""

from __future__ import annotations

from playbook_runner import run_playbook


def test_activation_complete_on_the_old_image_is_not_called_a_fallback(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(1, faults={"devices": {"olt-001": {"faults": ["activation_not_applied"]}}})
    run = run_playbook("record_upgrade.yml", fleet.inventory, results_dir=tmp_path / "results",
                       extra_vars={"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url,
                                             "sha256": image.sha256}})
    assert run.returncode == 0, run.stdout[-3000:]
    activate = run.results("olt-001")["activate"]
    assert activate.get("failed") is True and activate["reason"] == "UNEXPECTED_IMAGE", (activate["msg"], activate.get("after"))
    assert "the device reported ACTIVATION_COMPLETE but runs swim-olt 1.0.0, not swim-olt 2.0.0" in activate["msg"]
    assert "reported no fallback" in activate["msg"] and "fell back" not in activate["msg"]
    assert activate["fell_back_to"] is None
    assert fleet.state("olt-001")["partitions"]["active"]["version"] == "1.0.0"


def test_snapshot_in_check_mode_says_it_wrote_nothing(sim_fleet, tmp_path):
    fleet = sim_fleet(1)
    results = tmp_path / "results"
    run = run_playbook("snapshot_check.yml", fleet.inventory, results_dir=results, check=True)
    assert run.returncode == 0, run.stdout[-3000:]
    snap = run.results("olt-001")["snapshot"]
    assert snap["msg"] == f"olt-001: snapshot taken; check mode: not written to {results}/olt-001-snap.json"
    assert "written to" not in snap["msg"].replace("not written to", "")
    assert not (results / "olt-001-snap.json").exists()


def test_rollback_and_version_report_of_an_unknown_campaign_fail(sim_fleet, tmp_path):
    fleet = sim_fleet(1)
    env = {"SWIM_STATE_DIR": str(tmp_path / "state")}
    back = run_playbook("escalator.swim.rollback", fleet.inventory, env=env,
                        extra_vars={"swim_campaign_id": "no-such-campaign", "swim_auto_approve": True})
    assert back.returncode == 2, back.stdout[-3000:]
    assert "unknown campaign no-such-campaign: no status table in" in back.stdout
    assert "nothing was reverted" in back.stdout and fleet.reboots() == []
    report = run_playbook("escalator.swim.version_report", fleet.inventory, env=env,
                          extra_vars={"swim_campaign_id": "no-such-campaign",
                                      "swim_report_dest": str(tmp_path / "report.json")})
    assert report.returncode == 2 and "unknown campaign no-such-campaign: no status table in" in report.stdout
