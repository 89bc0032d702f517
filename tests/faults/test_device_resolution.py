"""Device UUID resolution through real ansible-playbook runs: an inventory that carries no uuid.

Given a uuid it is used as is; given only the device name (and URI), the modules find the uuid with
GetManagedDevices, or (in a task that may change the device: download_image) register it with
StartManagingDevice when the manager does not manage it yet; tests/integration/test_dmi_management.py has the rest.
"""

from __future__ import annotations

import grpc
import yaml
from dmi import hw_management_service_pb2_grpc as hwm_grpc
from dmi import hw_pb2
from google.protobuf import empty_pb2

from playbook_runner import run_playbook

TARGET = {"name": "swim-olt", "version": "2.0.0"}


def strip_uuids(fleet, path):
    inventory = yaml.safe_load(fleet.inventory.read_text())
    for host in inventory["all"]["children"]["swim_fleet"]["hosts"].values():
        host.pop("swim_device_uuid")
    path.write_text(yaml.safe_dump(inventory))
    return path


def stop_managing(fleet, name):
    with grpc.insecure_channel(fleet.address(name)) as channel:
        response = hwm_grpc.NativeHWManagementServiceStub(channel).StopManagingDevice(
            hw_pb2.ModifiableComponent(name=name), timeout=10)
        assert response.status == 1, response  # OK_STATUS


def managed_names(fleet, name):
    with grpc.insecure_channel(fleet.address(name)) as channel:
        response = hwm_grpc.NativeHWManagementServiceStub(channel).GetManagedDevices(empty_pb2.Empty(), timeout=10)
        return {d.info.name: d.device_uuid.uuid for d in response.devices}


def test_inventory_without_uuid_resolves_by_name_or_starts_managing(sim_fleet, image_server, tmp_path):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=64 * 1024)
    fleet = sim_fleet(4, per_manager=2)      # two devices behind each manager port: the name must pick the right one
    stop_managing(fleet, "olt-003")           # olt-003's manager no longer manages it: needs StartManagingDevice
    assert "olt-003" not in managed_names(fleet, "olt-003")
    inventory = strip_uuids(fleet, tmp_path / "no-uuid.yml")
    assert "swim_device_uuid" not in inventory.read_text()

    run = run_playbook("record_upgrade.yml", inventory, results_dir=tmp_path / "results",
                       extra_vars={"image": {**TARGET, "url": image.url, "sha256": image.sha256}})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for device in fleet.devices:
        result = run.results(device["name"])
        assert result["download"]["changed"] is True, result["download"]
        assert result["activate"]["changed"] is True, result["activate"]
        assert result["versions"]["active_version"] == "2.0.0"
        # the upgrade went to the device of that name (its uuid), not to its manager neighbour
        assert fleet.state(device["name"])["partitions"]["active"]["version"] == "2.0.0"
    assert managed_names(fleet, "olt-003")["olt-003"] == fleet.device("olt-003")["uuid"], \
        "StartManagingDevice registered the device"


def test_unknown_device_name_and_wrong_uuid_fail_cleanly(sim_fleet, tmp_path):
    fleet = sim_fleet(1)
    playbook = tmp_path / "read.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "swim_fleet", "gather_facts": False, "tasks": [
        {"name": "Read", "escalator.swim.sw_version": {}}]}]))
    inventory = strip_uuids(fleet, tmp_path / "no-uuid.yml")

    stranger = run_playbook(playbook, inventory, extra_vars={"swim_device_name": "olt-999"})
    assert stranger.returncode == 2
    # a read-only task never registers a device: it says which manager does not know it and what to do
    assert "olt-999: GetManagedDevices over dmi failed: UNKNOWN_DEVICE" in stranger.stdout
    assert f"the device manager {fleet.address('olt-001')} manages no device named 'olt-999'" in stranger.stdout
    assert "(it manages: olt-001)" in stranger.stdout and fleet.dmi_calls() == []

    wrong = run_playbook(playbook, fleet.inventory,
                         extra_vars={"swim_device_uuid": "00000000-0000-0000-0000-000000000000"})
    assert wrong.returncode == 2
    assert "olt-001: GetSoftwareVersion over dmi failed: UNKNOWN_DEVICE" in wrong.stdout
    assert "Traceback" not in stranger.stdout + wrong.stdout
