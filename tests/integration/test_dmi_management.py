"""What a DMI device manager manages changes only in a task that may change the device, and a device found once
is not registered again: real ansible-playbook runs over the simulator, which logs every StartManagingDevice."""

from __future__ import annotations

import yaml

from playbook_runner import run_playbook


def inventory_without_uuids(fleet, path, renamed: dict[str, tuple[str, str]] | None = None) -> str:
    """The fleet's inventory with no swim_device_uuid (so the modules look the devices up), and each host of
    *renamed* (old name -> (new name, device address)) under another inventory name than its manager's."""
    inventory = yaml.safe_load(open(fleet.inventory))

    def walk(group):
        hosts = group.get("hosts") or {}
        for name in list(hosts):
            host = {key: value for key, value in hosts.pop(name).items()
                    if key not in ("swim_device_uuid", "swim_device_name")}
            new_name, uri = (renamed or {}).get(name, (name, None))
            hosts[new_name] = {**host, **({"swim_device_uri": uri} if uri else {})}
        for child in (group.get("children") or {}).values():
            walk(child)

    walk(inventory["all"])
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


def test_read_only_and_check_mode_tasks_never_register_an_unknown_device(sim_fleet, image_server, tmp_path):
    fleet = sim_fleet(1, transport="dmi", faults={"devices": {"olt-001": {"managed": False}}})
    inventory = inventory_without_uuids(fleet, tmp_path / "inventory.yml")
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    extra = {"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}}
    manager = fleet.address("olt-001")
    for check in (True, False):
        results = tmp_path / f"check-{check}"
        # a real run without the image: only the read-only modules
        run = run_playbook("dmi_management.yml", inventory, results_dir=results, check=check,
                           extra_vars=extra if check else {})
        assert run.returncode == 0, run.stdout[-3000:]
        saved = run.results("olt-001")
        tasks = ["first_read", "snap", "last_read"] + (["download"] if check else [])
        for task in tasks:
            assert saved[task]["failed"] is True and saved[task]["reason"] == "UNKNOWN_DEVICE", (task, saved[task])
            msg = saved[task]["msg"]
            assert msg.startswith("olt-001: GetManagedDevices over dmi failed: UNKNOWN_DEVICE"), msg
            assert f"the device manager {manager} manages no device named 'olt-001'" in msg
            assert "nothing was registered" in msg and "manage: true" in msg and "swim_device_name" in msg
        assert fleet.dmi_calls() == [], f"check={check}: {fleet.dmi_calls()}"
    assert fleet.state("olt-001")["managed"] is False

    # manage: true (not in check mode) registers it, once; the later tasks of the run find it
    run = run_playbook("dmi_management.yml", inventory, results_dir=tmp_path / "manage",
                       extra_vars={"manage": True})
    assert run.returncode == 0, run.stdout[-3000:]
    saved = run.results("olt-001")
    assert all(saved[task].get("failed") is not True for task in ("first_read", "snap", "last_read")), saved
    assert saved["first_read"]["ansible_facts"]["swim_dmi_device"]["managed_as"] == "olt-001"
    # the later tasks took the uuid from that host fact: no lookup, so no fact of their own
    assert "swim_dmi_device" not in saved["snap"].get("ansible_facts", {})
    assert "swim_dmi_device" not in saved["last_read"].get("ansible_facts", {})
    assert [(call["name"], call["status"]) for call in fleet.dmi_calls()] == [("olt-001", "OK_STATUS")]
    assert fleet.state("olt-001")["managed"] is True


def test_a_device_the_manager_names_otherwise_is_registered_at_most_once(sim_fleet, image_server, tmp_path):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    extra = {"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}}
    # managed under its own name, at its own address: found by address, never registered
    fleet = sim_fleet(2, per_manager=2, transport="dmi", faults={"devices": {"olt-001": {"dmi_uri": "127.0.0.21"}}})
    inventory = inventory_without_uuids(fleet, tmp_path / "renamed.yml", {"olt-001": ("edge-a", "127.0.0.21")})
    run = run_playbook("dmi_management.yml", inventory, results_dir=tmp_path / "known",
                       extra_vars={**extra, "target": "edge-a"})
    assert run.returncode == 0, run.stdout[-3000:]
    saved = run.results("edge-a")
    assert saved["download"]["changed"] is True and not saved["download"].get("failed"), saved["download"]
    assert saved["last_read"]["standby_version"] == "2.0.0"
    assert saved["first_read"]["ansible_facts"]["swim_dmi_device"]["managed_as"] == "olt-001"
    assert "swim_dmi_device" not in saved["download"].get("ansible_facts", {})     # (the cached uuid)
    assert fleet.state("olt-001")["partitions"]["standby"]["version"] == "2.0.0"
    assert fleet.state("olt-002")["partitions"]["standby"]["version"] == "0.9.0"   # (behind the same manager)
    assert fleet.dmi_calls() == []

    # not managed yet: the download (the first task that may change it) registers it, the rest find it
    fleet = sim_fleet(1, transport="dmi", faults={"devices": {"olt-001": {"managed": False, "dmi_uri": "127.0.0.22"}}})
    inventory = inventory_without_uuids(fleet, tmp_path / "renamed-new.yml", {"olt-001": ("edge-b", "127.0.0.22")})
    for attempt in ("first", "second"):
        run = run_playbook("dmi_management.yml", inventory, results_dir=tmp_path / attempt, extra_vars=extra)
        assert run.returncode == 0, run.stdout[-3000:]
        saved = run.results("edge-b")
        assert saved["last_read"]["standby_version"] == "2.0.0", saved["last_read"]
    calls = fleet.dmi_calls()
    assert [(call["name"], call["uri"], call["status"]) for call in calls] == [("edge-b", "127.0.0.22", "OK_STATUS")]
