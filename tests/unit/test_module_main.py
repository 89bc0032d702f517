"""The modules' own main() (the module-interpreter path) with a fake transport."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.escalator.swim.plugins.module_utils.ops import common
from ansible_collections.escalator.swim.plugins.modules import download_image, sw_version

from fake_device import FakeDevice


class Exit(Exception):
    pass


@pytest.fixture
def device(monkeypatch):
    fake = FakeDevice()
    monkeypatch.setattr(common, "open_device", lambda params: fake)
    return fake


def run_main(module, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_sw_version_main(device, capsys):
    code, result = run_main(sw_version, {"host": "127.0.0.1", "device_name": "olt-001"}, capsys)
    assert code == 0 and result["active_version"] == "1.0.0" and result["changed"] is False


def test_download_main_failure_is_clean_and_redacted(device, capsys):
    device.download_failure = ("WRONG_IMAGE_CHECKSUM", "fetched http://u:topsecret@h/x: sha256 mismatch")
    args = {"host": "127.0.0.1", "device_name": "olt-001", "name": "swim-olt", "version": "2.0.0",
            "url": "http://u:topsecret@h/x", "sha256": "b" * 64, "password": "hunter2"}
    code, result = run_main(download_image, args, capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith("olt-001: DownloadImage failed: WRONG_IMAGE_CHECKSUM")
    text = json.dumps(result)
    assert "topsecret" not in text and "hunter2" not in text


def test_unknown_argument_is_rejected(device, capsys):
    code, result = run_main(sw_version, {"host": "h", "device_name": "d", "bogus": 1}, capsys)
    assert code == 1 and "bogus" in result["msg"]
