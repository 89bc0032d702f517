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


def test_check_diff_shows_the_partitions_as_a_real_run_would_leave_them(sim_fleet, transport, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(1, transport=transport)
    extra = {"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256},
             "steps": ["download", "activate"]}
    dry = run_playbook("partitions_diff.yml", fleet.inventory, results_dir=tmp_path / "dry", extra_vars=extra,
                       check=True, diff=True)
    assert dry.returncode == 0, dry.stdout[-3000:]
    predicted = dry.results("olt-001")
    assert predicted["download"]["changed"] is True and predicted["activate"]["changed"] is True
    # computed from a real read: the device still runs 1.0.0 with 0.9.0 in standby, and nothing was touched
    assert predicted["download"]["diff"]["before"] == "standby: swim-olt 0.9.0\n"
    assert predicted["download"]["diff"]["after"].startswith("standby: swim-olt 2.0.0")
    assert predicted["activate"]["diff"]["before"] == "active: swim-olt 1.0.0\nstandby: swim-olt 0.9.0\n"
    assert predicted["activate"]["diff"]["after"] == "active: swim-olt 2.0.0\nstandby: swim-olt 1.0.0\n"
    assert "-standby: swim-olt 0.9.0" in dry.stdout and "+active: swim-olt 2.0.0" in dry.stdout
    assert fleet.state("olt-001")["partitions"]["standby"]["version"] == "0.9.0" and fleet.reboots() == []

    real = run_playbook("partitions_diff.yml", fleet.inventory, results_dir=tmp_path / "real", extra_vars=extra,
                        diff=True)
    assert real.returncode == 0, real.stdout[-3000:]
    done = real.results("olt-001")
    # the prediction is what the real run then showed (the activation's before differs: the download really ran)
    assert predicted["download"]["diff"] == done["download"]["diff"]
    assert predicted["activate"]["diff"]["after"] == done["activate"]["diff"]["after"]

    back = {**extra, "steps": ["revert"]}
    dry_revert = run_playbook("partitions_diff.yml", fleet.inventory, results_dir=tmp_path / "dry-revert",
                              extra_vars=back, check=True, diff=True)
    assert dry_revert.returncode == 0, dry_revert.stdout[-3000:]
    predicted_revert = dry_revert.results("olt-001")["revert"]
    assert predicted_revert["changed"] is True and len(fleet.reboots()) == 1
    assert predicted_revert["diff"]["after"].startswith("active: swim-olt 1.0.0\nstandby: swim-olt 2.0.0")
    real_revert = run_playbook("partitions_diff.yml", fleet.inventory, results_dir=tmp_path / "real-revert",
                               extra_vars=back, diff=True)
    assert real_revert.returncode == 0, real_revert.stdout[-3000:]
    assert predicted_revert["diff"] == real_revert.results("olt-001")["revert"]["diff"]
