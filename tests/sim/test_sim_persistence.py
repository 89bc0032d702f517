"""Restarting the simulator keeps what flash keeps; interrupted operations leave a consistent state."""
from __future__ import annotations

import os
import signal
import threading
import time

import grpc
from dmi import hw_management_service_pb2 as hwm
from dmi import hw_pb2
from sim_dmi_client import Dmi, reason_name

SIZE = 256 * 1024


def run_in_thread(fn):
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", fn()), daemon=True)
    thread.start()
    return thread, box


def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_restart_keeps_partitions_startup_config_ports_and_managed_flag(sim_fleet, image_server):
    fleet = sim_fleet(3)
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    (image_server.dir / "startup-4.2.cfg").write_text("x\n")
    inventory_before = fleet.inventory.read_text()
    a, b, c = fleet.devices
    with Dmi(a) as client:
        assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        assert client.activate().states[-1] == "ACTIVATION_COMPLETE"
        assert client.update_config(image_server.url_for("startup-4.2.cfg"))[-1].status == 1
    with Dmi(b) as client:
        assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"  # not activated
    with Dmi(c) as client:
        assert client.hw.StopManagingDevice(hwm.StopManagingDeviceRequest(name=c["name"]), timeout=5).status == 1
    old_pid = fleet.pid

    fleet.restart()
    assert fleet.pid != old_pid
    assert fleet.inventory.read_text() == inventory_before  # same ports and uuids: inventory still valid
    with Dmi(fleet.device(a["name"])) as client:
        assert client.versions() == ([("swim-olt", "2.0.0")], [("swim-olt", "1.0.0")])
        info = client.config_info()
        assert (info.version, info.config_url) == ("4.2", image_server.url_for("startup-4.2.cfg"))
    with Dmi(fleet.device(b["name"])) as client:
        assert client.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "2.0.0")])
        # still uncommitted after the restart: revert refused, activation allowed
        assert reason_name(client.revert().last) == "DEVICE_IN_WRONG_STATE"
    with Dmi(fleet.device(c["name"])) as client:
        assert c["name"] not in client.managed()
        assert client.get_versions().reason == 1  # UNKNOWN_DEVICE while unmanaged
        start = hw_pb2.ModifiableComponent(name=c["name"], uri=hw_pb2.Uri(uri="127.0.0.1"))
        (resp,) = list(client.hw.StartManagingDevice(start, timeout=5))
        assert (resp.status, resp.device_uuid.uuid) == (1, c["uuid"])  # the same, stable uuid
        (again,) = list(client.hw.StartManagingDevice(start, timeout=5))
        assert (again.status, again.reason) == (2, 1)  # DEVICE_ALREADY_MANAGED
        assert client.versions()[0] == [("swim-olt", "1.0.0")]


def test_download_interrupted_by_stop_leaves_standby_invalid(sim_fleet, image_server):
    fleet = sim_fleet(1, timings={"download_rate": 128 * 1024})
    image = image_server.make_image("swim-olt", "2.0.0", size=1024 * 1024)  # ~8 s
    with Dmi(fleet.devices[0]) as client:
        thread, box = run_in_thread(lambda: client.download(image.url, image.sha256))
        assert wait_for(lambda: fleet.state(fleet.devices[0]["name"])["operation"] == "DownloadImage")
        time.sleep(0.3)
        assert fleet.stop() == 0
        thread.join(10)
        result = box["result"]
        assert result.states[0] == "COPYING_IMAGE" and "UPGRADE_COMPLETE" not in result.states
        assert result.error is not None and result.error.code() in (grpc.StatusCode.UNAVAILABLE,
                                                                    grpc.StatusCode.CANCELLED)
    fleet.start()
    state = fleet.state(fleet.devices[0]["name"])
    assert state["operation"] is None
    assert state["partitions"]["standby"]["valid"] is False
    assert state["partitions"]["active"] == {"image_name": "swim-olt", "version": "1.0.0", "committed": True,
                                             "valid": True, "sha256": ""}
    with Dmi(fleet.devices[0]) as client:
        assert client.versions() == ([("swim-olt", "1.0.0")], [])
        assert reason_name(client.activate().last) == "DEVICE_IN_WRONG_STATE"


def test_download_interrupted_by_a_crash_is_recovered(sim_fleet, image_server):
    fleet = sim_fleet(1, timings={"download_rate": 128 * 1024})
    image = image_server.make_image("swim-olt", "2.0.0", size=1024 * 1024)
    name = fleet.devices[0]["name"]
    with Dmi(fleet.devices[0]) as client:
        thread, _ = run_in_thread(lambda: client.download(image.url, image.sha256))
        assert wait_for(lambda: fleet.state(name)["operation"] == "DownloadImage")
        os.kill(fleet.pid, signal.SIGKILL)
        thread.join(10)
    assert fleet.state(name)["operation"] == "DownloadImage"  # what the crash left on flash
    fleet.start()  # the stale pid file does not prevent a start
    assert fleet.state(name)["operation"] is None
    assert "DownloadImage was interrupted" in fleet.log_text()
    with Dmi(fleet.devices[0]) as client:
        assert client.versions() == ([("swim-olt", "1.0.0")], [])


def test_activation_interrupted_boots_the_committed_image(sim_fleet, image_server):
    fleet = sim_fleet(2, faults={"devices": {"olt-001": {"timings": {"reboot_time": 1.5}},
                                             "olt-002": {"faults": ["never_returns"]}}})
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    first, second = fleet.devices
    with Dmi(first) as one, Dmi(second) as two:
        for client in (one, two):
            assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        stream = one.sw.ActivateImage(one.hid(), timeout=30)
        assert next(stream).state == 4  # REBOOTING_DEVICE; reboot takes 1.5 s
        assert two.activate(timeout=1).states == ["REBOOTING_DEVICE"]  # never comes back
        assert fleet.stop() == 0
        assert Dmi.collect(stream).error is not None
    fleet.start()
    with Dmi(fleet.device("olt-001")) as one, Dmi(fleet.device("olt-002")) as two:
        for client in (one, two):
            # booted the committed image; the new one is still valid on standby (not committed)
            assert client.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "2.0.0")])
        assert one.activate().states == ["REBOOTING_DEVICE", "COMMITTING_IMAGE", "ACTIVATION_COMPLETE"]
    for name in ("olt-001", "olt-002"):
        standby = fleet.state(name)["partitions"]["standby"]
        assert standby["version"] in ("2.0.0", "1.0.0")
    reboots = fleet.reboots()
    interrupted = [r for r in reboots if r["device"] == "olt-001" and r.get("interrupted")]
    assert len(interrupted) == 1 and interrupted[0]["up_at"] is None
    assert [r for r in reboots if r["device"] == "olt-002"][0]["never_returns"] is True
