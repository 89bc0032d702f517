"""Per-device campaign locks: two campaigns started at the same time on overlapping devices.

Campaign A (olt-001..003) and campaign B (olt-003..005) are two concurrent ansible-playbook runs sharing
one state root (one lock directory). Whichever locks olt-003 first upgrades it; the other is refused for
that device, clearly, and goes on with its own devices. olt-003 is rebooted exactly once.
"""

from __future__ import annotations

import yaml

from swim_matrix import TARGET, Campaign, finish, plan, wait_for

A_HOSTS = ["olt-001", "olt-002", "olt-003"]
B_HOSTS = ["olt-003", "olt-004", "olt-005"]


def test_two_concurrent_campaigns_never_share_a_device(sim_fleet, image_server, tmp_path):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=128 * 1024)
    fleet = sim_fleet(5, timings={"reboot_time": 2.0, "install_time": 1.0})
    inventory = yaml.safe_load(fleet.inventory.read_text())
    fleet_group = inventory["all"]["children"]["swim_fleet"]
    fleet_group["children"] = {"wave_a": {"hosts": {h: None for h in A_HOSTS}},
                               "wave_b": {"hosts": {h: None for h in B_HOSTS}}}
    fleet.inventory.write_text(yaml.safe_dump(inventory))

    shared_state = tmp_path / "state"
    campaigns = {}
    for name, group in (("wave-a", "wave_a"), ("wave-b", "wave_b")):
        campaign = Campaign(tmp_path / name, plan(image, campaign_id=name, group=group, batch_size=3))
        campaign.state = shared_state             # one controller state root: one lock directory
        campaigns[name] = campaign
    a = campaigns["wave-a"].start(fleet.inventory)
    try:
        # B starts while A holds its devices (and is still upgrading them)
        wait_for(lambda: (shared_state / "locks" / "olt-003.lock").exists() or a.poll() is not None, 120,
                 "campaign wave-a to lock its devices")
        assert a.poll() is None
        b = campaigns["wave-b"].start(fleet.inventory)
        run_b = finish(b, timeout=600)
    finally:
        run_a = finish(a, timeout=600)

    assert run_a.returncode == 0, run_a.stdout[-4000:]
    assert run_b.returncode == 2, run_b.stdout[-4000:]
    assert "olt-003 is locked by campaign 'wave-a'" in run_b.stdout, run_b.stdout[-4000:]
    rows_b = campaigns["wave-b"].rows()
    refused = rows_b["olt-003"]
    assert refused["outcome"] == "failed" and refused["stages"]["precheck"]["error_code"] == "LOCKED", refused
    assert set(refused["stages"]) == {"precheck"}, "B did nothing else to olt-003"
    assert rows_b["olt-004"]["outcome"] == rows_b["olt-005"]["outcome"] == "upgraded"
    assert all(campaigns["wave-a"].rows()[h]["outcome"] == "upgraded" for h in A_HOSTS)

    assert {fleet.state(d["name"])["partitions"]["active"]["version"] for d in fleet.devices} == {TARGET["version"]}
    reboots = [r["device"] for r in fleet.reboots()]
    assert sorted(reboots) == sorted(set(A_HOSTS) | set(B_HOSTS)), "olt-003 rebooted once, by one campaign"
    assert not list((shared_state / "locks").glob("*.lock")), "both campaigns released their own locks"
