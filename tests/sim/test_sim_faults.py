"""Every fault of the simulator, each on its own device of one fleet, asserting the exact
state sequence and reason a DMI client sees."""
from __future__ import annotations

import threading
import time

import grpc
import pytest
from sim_dmi_client import Dmi, reason_name, unavailable_details

SIZE = 256 * 1024
REBOOT = 0.3  # FAST_TIMINGS reboot_time

FAULTS = {
    "devices": {
        "olt-001": {"faults": ["checksum_corruption"]},
        "olt-002": {"faults": [{"download_drop": {"drop_at": 0.3}}]},
        "olt-003": {"faults": ["invalid_image"]},
        "olt-004": {"faults": {"activation_sanity_failure": None}},
        "olt-005": {"faults": ["never_returns"]},
        "olt-006": {"faults": {"slow": {"factor": 3}}},
        "olt-007": {"faults": ["busy"]},
        "olt-008": {"faults": ["unreachable"]},
        "olt-009": {"faults": [{"flapping": {"flaps": 2, "up_time": 0.3}}]},
        "olt-010": {"faults": ["stream_drop_on_reboot"]},
        "olt-011": {"faults": [{"activation_sanity_failure": {"reason": "INTERNAL_ERROR"}}],
                    "partitions": {"active": {"version": "1.5.0"}, "standby": {"version": "1.4.0"}}},
    }
}


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    return sim_fleet_module(11, faults=FAULTS)


@pytest.fixture
def image(image_server):
    return image_server.make_image("swim-olt", "2.0.0", size=SIZE)


def client(fleet, name) -> Dmi:
    return Dmi(fleet.device(name))


def test_checksum_corruption(fleet, image):
    with client(fleet, "olt-001") as c:
        result = c.download(image.url, image.sha256)
        assert result.compact_states == ["COPYING_IMAGE", "UPGRADE_FAILED"]
        assert reason_name(result.last) == "WRONG_IMAGE_CHECKSUM"
        assert f"expected {image.sha256}" in result.last.reason_detail
        assert c.versions() == ([("swim-olt", "1.0.0")], [])
    assert fleet.state("olt-001")["partitions"]["standby"]["valid"] is False


def test_download_drop(fleet, image):
    with client(fleet, "olt-002") as c:
        result = c.download(image.url, image.sha256)
        assert result.compact_states == ["COPYING_IMAGE", "UPGRADE_FAILED"]
        assert reason_name(result.last) == "INTERNAL_ERROR"
        detail = result.last.reason_detail
        assert f"dropped at 30% ({int(0.3 * image.size)}/{image.size} bytes)" in detail, detail
        assert not any(s.description.startswith("downloaded 100%") for s in result.statuses)
        assert c.versions()[1] == []


def test_invalid_image(fleet, image):
    with client(fleet, "olt-003") as c:
        result = c.download(image.url, image.sha256)
        assert result.compact_states == ["COPYING_IMAGE", "INSTALLING_IMAGE", "UPGRADE_FAILED"]
        assert reason_name(result.last) == "INVALID_IMAGE" and "installer rejected" in result.last.reason_detail
        assert c.versions()[1] == []


def test_activation_sanity_failure_falls_back(fleet, image):
    with client(fleet, "olt-004") as c:
        assert c.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        result = c.activate()
        assert result.states == ["REBOOTING_DEVICE", "REBOOTING_DEVICE", "ACTIVATION_FAILED"]
        assert "falling back to swim-olt 1.0.0" in result.statuses[1].description
        assert reason_name(result.last) == "INVALID_IMAGE" and result.last.status == 2
        assert result.last.reason_detail == "sanity checks failed on swim-olt 2.0.0; fell back to swim-olt 1.0.0"
        assert c.versions() == ([("swim-olt", "1.0.0")], [])
    parts = fleet.state("olt-004")["partitions"]
    assert parts["active"] == {**parts["active"], "version": "1.0.0", "committed": True, "valid": True}
    assert parts["standby"] == {**parts["standby"], "version": "2.0.0", "committed": False, "valid": False}
    kinds = [r["kind"] for r in fleet.reboots() if r["device"] == "olt-004"]
    assert kinds == ["activate", "fallback"]


def test_activation_sanity_failure_with_internal_error_reason(fleet, image_server):
    image = image_server.make_image("swim-olt", "1.6.0", size=SIZE)
    with client(fleet, "olt-011") as c:
        assert c.versions() == ([("swim-olt", "1.5.0")], [("swim-olt", "1.4.0")])  # partitions from the YAML
        assert c.download(image.url, image.sha256, version="1.6.0").states[-1] == "UPGRADE_COMPLETE"
        result = c.activate()
        assert reason_name(result.last) == "INTERNAL_ERROR"
        assert result.last.reason_detail.endswith("fell back to swim-olt 1.5.0")


def test_never_returns(fleet, image):
    with client(fleet, "olt-005") as c, client(fleet, "olt-005") as observer:
        assert c.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        started = time.monotonic()
        result = c.activate(timeout=REBOOT * 5)
        # The stream stays open but silent until the client gives up.
        assert result.states == ["REBOOTING_DEVICE"]
        assert result.error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started >= REBOOT * 5 - 0.05
        for _ in range(3):
            assert unavailable_details(observer.get_versions) == "device olt-005 is rebooting"
            time.sleep(0.1)
        refused = observer.download(image.url, image.sha256)
        assert refused.statuses == [] and refused.error.code() == grpc.StatusCode.UNAVAILABLE
        assert refused.error.details() == "device olt-005 is rebooting"
    entry = [r for r in fleet.reboots() if r["device"] == "olt-005"]
    assert len(entry) == 1 and entry[0]["up_at"] is None and entry[0]["never_returns"] is True


def test_slow(fleet):
    with client(fleet, "olt-006") as c:
        started = time.monotonic()
        result = c.revert()
        elapsed = time.monotonic() - started
        assert result.states == ["REBOOTING_DEVICE", "ACTIVATION_COMPLETE"]
        assert elapsed >= REBOOT * 3 - 0.05
    (entry,) = [r for r in fleet.reboots() if r["device"] == "olt-006"]
    assert entry["up_at"] - entry["down_at"] >= REBOOT * 3 - 0.05


def test_busy(fleet, image):
    with client(fleet, "olt-007") as c:
        for result, state in ((c.download(image.url, image.sha256), "UPGRADE_FAILED"),
                              (c.activate(), "ACTIVATION_FAILED"), (c.revert(), "ACTIVATION_FAILED")):
            assert result.states == [state]
            assert reason_name(result.last) == "OPERATION_ALREADY_IN_PROGRESS"
            assert "another manager" in result.last.reason_detail
        assert c.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "0.9.0")])  # reads still work


def test_unreachable(fleet, image):
    with client(fleet, "olt-008") as c:
        resp = c.get_versions()
        assert (resp.status, resp.reason) == (2, 3)  # ERROR_STATUS, DEVICE_UNREACHABLE
        assert resp.reason_detail == "device olt-008 is not reachable"
        for result, state in ((c.download(image.url, image.sha256), "UPGRADE_FAILED"),
                              (c.activate(), "ACTIVATION_FAILED"), (c.revert(), "ACTIVATION_FAILED")):
            assert (result.states, reason_name(result.last)) == ([state], "DEVICE_NOT_REACHABLE")
        inv = c.inventory()[0]
        assert (inv.status, inv.reason) == (2, 3)  # DEVICE_UNREACHABLE
        cfg = c.config_info()
        assert (cfg.status, cfg.reason) == (2, 3)
        assert c.managed()["olt-008"] == fleet.device("olt-008")["uuid"]  # still managed


def test_flapping(fleet):
    samples: list[tuple[float, bool]] = []
    done = threading.Event()
    results = {}

    def revert():
        with client(fleet, "olt-009") as c:
            results["revert"] = c.revert()
        done.set()

    with client(fleet, "olt-009") as observer:
        worker = threading.Thread(target=revert)
        worker.start()
        deadline = time.monotonic() + 15
        while not done.is_set() and time.monotonic() < deadline:
            try:
                observer.get_versions(timeout=1)
                samples.append((time.monotonic(), True))
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE
                samples.append((time.monotonic(), False))
            time.sleep(0.02)
        worker.join(5)
    assert results["revert"].states == ["REBOOTING_DEVICE", "ACTIVATION_COMPLETE"]
    states = [ok for _, ok in samples]
    changes = [b for a, b in zip(states, states[1:]) if a != b]
    # down -> up -> down -> up -> down -> up(stable): it answered briefly twice before staying up
    ups = changes.count(True)
    assert ups >= 2, states
    (entry,) = [r for r in fleet.reboots() if r["device"] == "olt-009"]
    assert entry["up_at"] - entry["down_at"] >= REBOOT + 2 * (0.3 + REBOOT) - 0.05


def test_stream_drop_on_reboot(fleet, image):
    with client(fleet, "olt-010") as c:
        assert c.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        result = c.activate()
        assert result.states == ["REBOOTING_DEVICE"]
        assert result.error.code() == grpc.StatusCode.UNAVAILABLE
        assert "olt-010 is rebooting" in result.error.details()
        # The client follows via GetSoftwareVersion: the reboot completes normally.
        # The first answer after the reboot is the final outcome (sanity checks run before it answers).
        c.wait_up(timeout=10)
        assert c.versions() == ([("swim-olt", "2.0.0")], [("swim-olt", "1.0.0")])
        assert fleet.state("olt-010")["partitions"]["active"]["committed"] is True
        result = c.revert()
        assert result.states == ["REBOOTING_DEVICE"] and result.error.code() == grpc.StatusCode.UNAVAILABLE
