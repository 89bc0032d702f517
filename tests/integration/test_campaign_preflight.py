"""Image preflight and plan errors through real ansible-playbook runs over a simulated fleet: a wrong
image is refused on the controller before any device is touched; plan mistakes get one readable line each."""

from __future__ import annotations

import yaml

from playbook_runner import run_playbook
from test_campaign import pair_up
from test_campaign_playbooks import active, plan_for


def standby(fleet) -> dict:
    return {d["name"]: fleet.state(d["name"])["partitions"]["standby"]["version"] for d in fleet.devices}


def write_plan(tmp_path, document) -> str:
    path = tmp_path / "plan.yml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return str(path)


def test_a_wrong_checksum_stops_the_campaign_before_any_device_is_touched(sim_fleet, auth_image_server, tmp_path):
    image = auth_image_server.make_image("swim-olt", "2.0.0", size=3 * 1024 * 1024 + 17)
    fleet = sim_fleet(2, groups=["a"])
    before = standby(fleet)
    document = plan_for(image, "it-preflight", batch=2)
    document["campaign"]["images"]["default"]["sha256"] = "0" * 64
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars={"swim_plan": write_plan(tmp_path, document), "swim_auto_approve": True})
    assert run.returncode == 2, run.stdout[-4000:]
    assert (f"campaign.images.default: preflight: the image at http://********@127.0.0.1:{auth_image_server.port}/"
            f"{image.filename}: sha256 is {image.sha256}, the plan says {'0' * 64}") in run.stdout, run.stdout[-4000:]
    assert "s3cret" not in run.stdout + run.stderr
    # No device was touched: no reboot, no download (standby unchanged), no precheck task, no status row.
    assert fleet.reboots() == [] and standby(fleet) == before
    assert "TASK [escalator.swim.precheck" not in run.stdout
    assert not list(state.glob("campaigns/*/status/*.json"))

    # The plan's size is checked as well (the server's Content-Length already tells).
    document["campaign"]["images"]["default"].update(sha256=image.sha256, size=image.size + 1)
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars={"swim_plan": write_plan(tmp_path, document), "swim_auto_approve": True})
    assert run.returncode == 2
    assert f"the server announces {image.size} bytes, the plan says size {image.size + 1}" in run.stdout
    assert fleet.reboots() == [] and standby(fleet) == before


def test_validate_plan_runs_the_preflight_on_its_own(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(1, groups=["a"])
    document = plan_for(image, "it-preflight-alone")
    document["campaign"]["images"]["default"]["size"] = image.size
    path = write_plan(tmp_path, document)
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory,
                       extra_vars={"swim_plan": path, "swim_verify_images": True})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "campaign it-preflight-alone is valid on the inventory; 1 image(s) verified on the controller" in run.stdout

    # An image the controller cannot reach fails closed, saying how to leave it to the devices...
    document["campaign"]["images"]["default"]["url"] = "http://127.0.0.1:1/swim-olt.img"
    path = write_plan(tmp_path, document)
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory,
                       extra_vars={"swim_plan": path, "swim_verify_images": True})
    assert run.returncode == 2
    assert "preflight: cannot read the image at http://127.0.0.1:1/swim-olt.img" in run.stdout
    assert "set campaign.preflight.images: false" in run.stdout
    # ... which the plan option does; without swim_verify_images validate_plan reads no image at all.
    document["campaign"]["preflight"] = {"images": False}
    path = write_plan(tmp_path, document)
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory,
                       extra_vars={"swim_plan": path, "swim_verify_images": True})
    assert run.returncode == 0 and "image preflight off (campaign.preflight.images: false)" in run.stdout
    assert run_playbook("escalator.swim.validate_plan", fleet.inventory, extra_vars={"swim_plan": path}).returncode == 0

    # An image URL only the devices use (sftp) is left to them and said so.
    del document["campaign"]["preflight"]
    document["campaign"]["images"]["default"]["url"] = "sftp://127.0.0.1/swim-olt.img"
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory,
                       extra_vars={"swim_plan": write_plan(tmp_path, document), "swim_verify_images": True})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 image(s) verified on the controller (size, sha256), left to the devices: default (sftp:// is fetched by the devices" \
        in run.stdout, run.stdout[-3000:]


def test_plan_errors_are_one_readable_line_each(sim_fleet, tmp_path):
    fleet = sim_fleet(4, groups=["a"])
    # No swim_plan at all: one plain sentence, not Ansible's undefined-variable error.
    for playbook in ("escalator.swim.rolling_upgrade", "escalator.swim.validate_plan"):
        run = run_playbook(playbook, fleet.inventory, env={"SWIM_STATE_DIR": str(tmp_path / "state")})
        assert run.returncode == 2
        assert "no campaign plan given: set swim_plan to the plan file (-e swim_plan=plan.yml)" in run.stdout
        assert "undefined" not in run.stdout.lower()
    # A plan file that does not exist.
    missing = str(tmp_path / "nope.yml")
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, extra_vars={"swim_plan": missing},
                       env={"SWIM_STATE_DIR": str(tmp_path / "state")})
    assert run.returncode == 2 and f"the campaign plan file {missing} does not exist" in run.stdout
    assert "remote_src" not in run.stdout
    # A YAML syntax error: file, line and column.
    path = write_plan(tmp_path, "campaign:\n  id: x\n  images: {default: {name: a\n  groups: []\n")
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory, extra_vars={"swim_plan": path})
    assert run.returncode == 2 and f"{path}:4:9: YAML syntax error" in run.stdout, run.stdout[-3000:]
    # Several problems: one per line (a list), not joined with ';'.
    path = write_plan(tmp_path, {"campaign": {"id": "it-errors", "groups": [{"group": "nope", "batch": {"size": "0%"}}],
                                              "images": {"default": {"name": "swim-olt", "version": 2.0, "url": "x",
                                                                     "sha256": int("9" * 64)}}}})
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory, extra_vars={"swim_plan": path})
    assert run.returncode == 2
    lines = [line.strip().strip('",') for line in run.stdout.splitlines() if line.strip().startswith('"campaign.')]
    assert any(line.startswith("campaign.images.default.sha256: must be a string: YAML read this unquoted checksum "
                               "as a number, quote it") for line in lines), run.stdout[-3000:]
    assert any(line.startswith("campaign.images.default.version:") for line in lines)
    assert any(line.startswith("campaign.groups[0].batch.size:") for line in lines)
    assert not any("; campaign." in line for line in lines)
    assert "problem(s) in the campaign plan" in run.stdout


def test_the_batch_listing_says_why_a_redundancy_pair_is_split(sim_fleet, tmp_path):
    fleet = sim_fleet(4, groups=["a"])
    pair_up(fleet, ("olt-001", "olt-002"))
    document = {"campaign": {
        "id": "it-split", "groups": [{"name": "all-a", "group": "a", "batch": {"size": 4}}],
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": "http://127.0.0.1/x.img",
                               "sha256": "a" * 64}},
        "redundancy_groups": [{"name": "pairs", "var": "swim_redundancy_pair"}]}}
    run = run_playbook("escalator.swim.validate_plan", fleet.inventory,
                       extra_vars={"swim_plan": write_plan(tmp_path, document)})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "batch 0 all-a: olt-001, olt-003, olt-004 -> swim-olt 2.0.0" in run.stdout, run.stdout[-3000:]
    # once, under the last batch the pair is split over
    assert run.stdout.count(WHY_SPLIT) == 1, run.stdout[-2000:]
    assert run.stdout.index('"batch 1 all-a: olt-002 -> swim-olt 2.0.0"') < run.stdout.index(WHY_SPLIT)


WHY_SPLIT = ("  why: redundancy group pairs (swim_redundancy_pair=p1): olt-001, olt-002 are split over batches 0, 1 "
             "because it allows 1 member(s) down at a time")


def test_the_rolling_upgrade_batch_listing_says_why_a_redundancy_pair_is_split(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(4, groups=["a"])
    pair_up(fleet, ("olt-001", "olt-002"))
    document = plan_for(image, "it-split-campaign", batch=4)
    document["campaign"]["redundancy_groups"] = [{"name": "pairs", "var": "swim_redundancy_pair"}]
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, check=True,
                       env={"SWIM_STATE_DIR": str(tmp_path / "state")},
                       extra_vars={"swim_plan": write_plan(tmp_path, document), "swim_auto_approve": True})
    assert run.returncode == 0, run.stdout[-4000:]
    listing = run.stdout.split("TASK [Show the batches]", 1)[1].split("TASK [", 1)[0]
    lines = [line.strip().rstrip(",").strip('"') for line in listing.splitlines() if line.strip().startswith('"')]
    assert lines[1:] == ["batch 0 all-a: olt-001, olt-003, olt-004", "batch 1 all-a: olt-002", WHY_SPLIT], listing
    assert fleet.reboots() == []


def test_an_invalid_standby_does_not_block_the_download_into_it(sim_fleet, image_server, tmp_path):
    """Precheck asks what the upgrade needs: a valid active image to fall back to, not a valid standby."""
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(2, groups=["a"], faults={"devices": {"olt-002": {"partitions": {
        "standby": {"image_name": "swim-olt", "version": "0.9.0", "valid": False, "committed": False}}}}})
    state = tmp_path / "state"
    run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                       extra_vars={"swim_plan": write_plan(tmp_path, plan_for(image, "it-bad-standby", batch=2)),
                                   "swim_auto_approve": True})
    assert run.returncode == 0, run.stdout[-4000:]
    assert "NO_USABLE_IMAGE" not in run.stdout
    assert active(fleet) == {"olt-001": "2.0.0", "olt-002": "2.0.0"}
