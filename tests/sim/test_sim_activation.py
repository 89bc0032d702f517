"""ActivateImage / RevertToStandbyImage / startup configuration over real gRPC."""
from __future__ import annotations

import time

import grpc
import pytest
from sim_dmi_client import Dmi, reason_name, state_name, unavailable_details

SIZE = 256 * 1024


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    return sim_fleet_module(8)


def test_download_activate_then_revert(fleet, image_server):
    device = fleet.devices[0]
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with Dmi(device) as client, Dmi(device) as observer:
        assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"

        stream = client.sw.ActivateImage(client.hid(), timeout=30)
        first = next(stream)
        assert state_name(first) == "REBOOTING_DEVICE" and "swim-olt 2.0.0" in first.description
        # While it reboots the box does not answer: gRPC UNAVAILABLE, for every RPC of the device.
        assert unavailable_details(observer.get_versions) == f"device {device['name']} is rebooting"
        assert unavailable_details(observer.inventory) == f"device {device['name']} is rebooting"
        assert unavailable_details(observer.config_info) == f"device {device['name']} is rebooting"
        # ... while the device manager itself is up
        assert observer.managed()[device["name"]] == device["uuid"]
        rest = Dmi.collect(stream)
        assert rest.error is None
        assert rest.states == ["COMMITTING_IMAGE", "ACTIVATION_COMPLETE"]
        assert client.versions() == ([("swim-olt", "2.0.0")], [("swim-olt", "1.0.0")])
        inventory = client.inventory()[0].inventory
        assert inventory.root.software_rev == "2.0.0"

        parts = fleet.state(device["name"])["partitions"]
        assert parts["active"]["version"] == "2.0.0" and parts["active"]["committed"] is True
        assert parts["standby"]["version"] == "1.0.0" and parts["standby"]["committed"] is True

        # Rollback: the old image is committed and valid, so a revert is allowed.
        result = client.revert()
        assert result.states == ["REBOOTING_DEVICE", "ACTIVATION_COMPLETE"]
        assert client.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "2.0.0")])

    reboots = [r for r in fleet.reboots() if r["device"] == device["name"]]
    assert [r["kind"] for r in reboots] == ["activate", "revert"]
    for entry in reboots:
        assert entry["up_at"] - entry["down_at"] >= 0.3 - 0.01  # reboot_time
    assert reboots[0]["up_at"] <= reboots[1]["down_at"]


def test_activate_refused_without_valid_standby(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with Dmi(fleet.devices[1]) as client:
        assert reason_name(client.download(image.url, "f" * 64).last) == "WRONG_IMAGE_CHECKSUM"
        result = client.activate()
        assert result.states == ["ACTIVATION_FAILED"]
        assert reason_name(result.last) == "DEVICE_IN_WRONG_STATE" and result.last.status == 2
        assert "no valid image" in result.last.reason_detail
        assert client.versions()[0] == [("swim-olt", "1.0.0")]
        # Revert is refused too: nothing valid to boot.
        assert reason_name(client.revert().last) == "DEVICE_IN_WRONG_STATE"
    assert not [r for r in fleet.reboots() if r["device"] == fleet.devices[1]["name"]]


def test_revert_refused_for_uncommitted_standby(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with Dmi(fleet.devices[2]) as client:
        assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        result = client.revert()
        assert (result.states, reason_name(result.last)) == (["ACTIVATION_FAILED"], "DEVICE_IN_WRONG_STATE")
        assert "not committed" in result.last.reason_detail
        assert client.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "2.0.0")])


def test_revert_to_factory_standby(fleet):
    with Dmi(fleet.devices[3]) as client:
        assert client.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "0.9.0")])
        result = client.revert()
        assert result.states == ["REBOOTING_DEVICE", "ACTIVATION_COMPLETE"]
        assert "without sanity checks" in result.statuses[0].description
        assert client.versions() == ([("swim-olt", "0.9.0")], [("swim-olt", "1.0.0")])
    assert [r["kind"] for r in fleet.reboots() if r["device"] == fleet.devices[3]["name"]] == ["revert"]


def test_startup_configuration_survives_upgrade(fleet, auth_image_server):
    (auth_image_server.dir / "olt.cfg").write_text("nni-speed: 100G\n")
    (auth_image_server.dir / "config-v1.2.3.xml").write_text("<config/>\n")
    (auth_image_server.dir / "empty.cfg").write_text("")
    image = auth_image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with Dmi(fleet.devices[4]) as client:
        info = client.config_info()
        assert (info.status, info.config_url, info.version) == (1, "", "factory")

        responses = client.update_config(auth_image_server.url_for("olt.cfg") + "?version=7.1")
        assert [r.status for r in responses] == [1]
        info = client.config_info()
        assert info.version == "7.1"
        assert info.config_url.startswith("http://***@127.0.0.1:") and "s3cret" not in info.config_url

        assert client.update_config(auth_image_server.url_for("config-v1.2.3.xml"))[-1].status == 1
        assert client.config_info().version == "1.2.3"

        bad = client.update_config(auth_image_server.url_for("nope.cfg"))[-1]
        assert (bad.status, bad.reason) == (2, 3)  # ERROR_FETCHING_CONFIG
        empty = client.update_config(auth_image_server.url_for("empty.cfg"))[-1]
        assert (empty.status, empty.reason) == (2, 4)  # INVALID_CONFIG
        assert client.config_info().version == "1.2.3"  # failures keep the current configuration

        assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        assert client.activate().states[-1] == "ACTIVATION_COMPLETE"
        info = client.config_info()
        assert info.version == "1.2.3" and info.config_url.endswith("/config-v1.2.3.xml")
    assert fleet.state(fleet.devices[4]["name"])["startup_config"]["version"] == "1.2.3"


def test_client_deadline_is_honoured_and_operation_goes_on(fleet, image_server):
    """A client deadline shorter than the activation ends the client's stream with DEADLINE_EXCEEDED;
    the device manager still completes the activation."""
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with Dmi(fleet.devices[5]) as client:
        assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        started = time.monotonic()
        result = client.activate(timeout=0.15)
        assert time.monotonic() - started < 2
        assert result.error is not None and result.error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert result.states == ["REBOOTING_DEVICE"]
        client.wait_up(timeout=10)
        deadline = time.monotonic() + 10
        while client.versions()[0] != [("swim-olt", "2.0.0")] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.versions() == ([("swim-olt", "2.0.0")], [("swim-olt", "1.0.0")])
