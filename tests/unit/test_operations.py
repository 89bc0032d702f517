"""Module operations over a fake device: idempotence, check mode, guards, failure shaping."""

from __future__ import annotations

import json

import pytest

from ansible_collections.escalator.swim.plugins.module_utils.device import Image
from ansible_collections.escalator.swim.plugins.module_utils.ops import (
    activate_image, download_image, revert_image, snapshot, sw_version,
)
from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext, execute

from fake_device import FakeDevice

SHA = "a" * 64
CONNECTION = {"device_name": "olt-001", "host": "127.0.0.1", "transport": "dmi"}


def run(operation, device, check_mode=False, diff=False, **params):
    defaults = {key: spec.get("default") for key, spec in operation.ARGUMENT_SPEC.items()}
    context = OperationContext({**CONNECTION, **defaults, **params}, check_mode=check_mode, diff=diff,
                               device_factory=lambda _params: device)
    return execute(operation, context)


def image_args(**overrides):
    args = {"name": "swim-olt", "version": "2.0.0", "url": "http://user:secret@127.0.0.1:8080/i.img", "sha256": SHA}
    args.update(overrides)
    return args


def test_sw_version_reports_partitions_and_facts():
    result = run(sw_version, FakeDevice(), set_facts=True)
    assert result["changed"] is False
    assert result["active_version"] == "1.0.0" and result["standby_version"] == "0.9.0"
    assert result["ansible_facts"]["swim_software"]["active"] == [{"name": "swim-olt", "version": "1.0.0"}]


def test_download_installs_into_standby_and_redacts_credentials():
    device = FakeDevice()
    result = run(download_image, device, diff=True, **image_args())
    assert result["changed"] is True and "failed" not in result
    assert device.standby == Image("swim-olt", "2.0.0")
    assert result["final_state"] == "UPGRADE_COMPLETE"
    assert "secret" not in json.dumps(result)
    assert result["image"]["url"] == "http://********@127.0.0.1:8080/i.img"
    assert "swim-olt 2.0.0" in result["diff"]["after"] and "swim-olt 0.9.0" in result["diff"]["before"]
    # the device got the real URL, credentials included
    assert device.calls[1][1].url == "http://user:secret@127.0.0.1:8080/i.img"


@pytest.mark.parametrize("partition", ["standby", "active"])
def test_download_is_idempotent(partition):
    device = FakeDevice(**{partition: ("swim-olt", "2.0.0")})
    result = run(download_image, device, **image_args())
    assert result["changed"] is False
    assert not any(isinstance(c, tuple) for c in device.calls), "no download may be sent"


def test_download_force_downloads_again():
    device = FakeDevice(standby=("swim-olt", "2.0.0"))
    assert run(download_image, device, force=True, **image_args())["changed"] is True


def test_download_check_mode_touches_nothing():
    device = FakeDevice()
    result = run(download_image, device, check_mode=True, **image_args())
    assert result["changed"] is True and "would download" in result["msg"]
    assert device.standby == Image("swim-olt", "0.9.0")


@pytest.mark.parametrize("override, expected", [
    ({"sha256": "abc"}, "sha256 must be 64 hexadecimal"),
    ({"sha256": "g" * 64}, "sha256 must be 64 hexadecimal"),
    ({"url": "not a url"}, "is not a URL"),
    ({"url": "gopher://x/y"}, "is not a URL"),
    ({"version": "  "}, "version must be 1-255"),
    ({"timeout": -1.0}, "timeout must be a positive"),
])
def test_download_rejects_bad_input_before_any_device_call(override, expected):
    device = FakeDevice()
    result = run(download_image, device, **image_args(**override))
    assert result["failed"] is True and expected in result["msg"] and result["msg"].startswith("olt-001:")
    assert device.calls == []


def test_download_failure_names_device_and_dmi_reason():
    device = FakeDevice()
    device.download_failure = ("WRONG_IMAGE_CHECKSUM", "sha256 mismatch")
    result = run(download_image, device, **image_args())
    assert result["failed"] is True
    assert result["reason"] == "WRONG_IMAGE_CHECKSUM"
    assert result["msg"] == "olt-001: DownloadImage failed: WRONG_IMAGE_CHECKSUM (sha256 mismatch)"
    assert [e["state"] for e in result["status_history"]] == ["COPYING_IMAGE", "UPGRADE_FAILED"]
    assert result["busy"] is False


@pytest.mark.parametrize("reason, busy", [
    ("OPERATION_ALREADY_IN_PROGRESS", True),  # DMI
    ("bbf-software-management:component-busy", True),  # NETCONF, standard model
    ("bbf-software-image-management-one-dot-one:component-busy", True),  # another dialect, same identity
    ("bbf-software-management:connection-reset-by-peer", False),
    ("DEVICE_IN_WRONG_STATE", False),
])
def test_busy_is_one_flag_on_both_transports(reason, busy):
    device = FakeDevice()
    device.download_failure = (reason, "refused")
    result = run(download_image, device, **image_args())
    assert result["failed"] is True and result["reason"] == reason
    assert result["busy"] is busy


def test_activate_verifies_after_reboot_and_is_idempotent():
    device = FakeDevice(standby=("swim-olt", "2.0.0"))
    result = run(activate_image, device, diff=True, name="swim-olt", version="2.0.0")
    assert result["changed"] is True, result
    assert result["after"]["active"] == [{"name": "swim-olt", "version": "2.0.0"}]
    assert device.calls.count("versions") >= 3, "must poll through the reboot"
    again = run(activate_image, device, name="swim-olt", version="2.0.0")
    assert again["changed"] is False and "already active" in again["msg"]


def test_activate_refuses_wrong_standby_version():
    device = FakeDevice()
    result = run(activate_image, device, version="2.0.0")
    assert result["failed"] is True and result["reason"] == "VERSION_MISMATCH"
    assert "activate" not in device.calls


def test_activate_fallback_reports_running_image():
    device = FakeDevice(standby=("swim-olt", "2.0.0"))
    device.activation_falls_back = True
    result = run(activate_image, device, version="2.0.0")
    assert result["failed"] is True and result["changed"] is True
    assert result["reason"] == "INVALID_IMAGE"
    assert result["fell_back_to"] == {"name": "swim-olt", "version": "1.0.0"}
    assert "device is running swim-olt 1.0.0" in result["msg"]


def test_revert_refused_by_device_is_reported():
    device = FakeDevice()
    device.refuse_revert = True
    result = run(revert_image, device)
    assert result["failed"] is True and result["reason"] == "DEVICE_IN_WRONG_STATE"
    assert result["changed"] is False


def test_revert_refuses_uncommitted_standby_when_known():
    device = FakeDevice()
    device.standby = Image("swim-olt", "2.0.0", committed=False, valid=True)
    result = run(revert_image, device)
    assert result["failed"] is True and result["reason"] == "NOT_KNOWN_GOOD"
    assert "revert" not in device.calls


def test_revert_swaps_and_check_mode_does_not():
    device = FakeDevice()
    assert run(revert_image, device, check_mode=True)["changed"] is True
    assert device.active == Image("swim-olt", "1.0.0")
    result = run(revert_image, device, version="0.9.0")
    assert result["changed"] is True and device.active == Image("swim-olt", "0.9.0")
    assert run(revert_image, device, version="0.9.0")["changed"] is False


def test_snapshot_collect_write_and_compare(tmp_path):
    device = FakeDevice()
    pre = tmp_path / "c" / "pre.json"
    first = run(snapshot, device, dest=str(pre))
    assert first["changed"] is False and json.loads(pre.read_text())["versions"]["active"][0]["version"] == "1.0.0"
    same = run(snapshot, FakeDevice(), compare_to=str(pre), expect_active_version="1.0.0",
               sensor_tolerance={"temp*": 1})
    assert same["passed"] is True and same["violations"] == []
    wrong = run(snapshot, FakeDevice(), compare_to=str(pre), expect_active_version="2.0.0")
    assert wrong["failed"] is True and "active version is 1.0.0, expected 2.0.0" in wrong["msg"]


def test_snapshot_compare_fails_closed_on_missing_file(tmp_path):
    result = run(snapshot, FakeDevice(), compare_to=str(tmp_path / "absent.json"))
    assert result["failed"] is True and "before snapshot is missing or empty" in result["msg"]


def test_snapshot_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / "pre.json"
    result = run(snapshot, FakeDevice(), check_mode=True, dest=str(dest))
    assert not dest.exists() and result["snapshot"]["device"] == "olt-001"
