"""The modules' own main() (the module-interpreter path).

The device modules have none by design (issue 15): how to reach the device is the task's connection
(escalator.swim.dmi / escalator.swim.netconf), which only the action plugin sees; main() fails with a
message that says so, and never opens a transport. The controller-only modules run there as before.
"""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.escalator.swim.plugins.module_utils.ops import common
from ansible_collections.escalator.swim.plugins.modules import (
    activate_image, campaign_status, download_image, revert_image, snapshot, sw_version)


@pytest.fixture
def opened(monkeypatch):
    calls = []
    monkeypatch.setattr(common, "open_device", lambda params: calls.append(params))
    return calls


def run_main(module, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("module, args", [
    (sw_version, {}),
    (download_image, {"name": "swim-olt", "version": "2.0.0", "url": "http://u:topsecret@h/x", "sha256": "b" * 64}),
    (activate_image, {}),
    (revert_image, {}),
    (snapshot, {}),
])
def test_device_module_main_says_it_needs_the_connection_plugin(module, args, opened, capsys):
    code, result = run_main(module, args, capsys)
    name = module.__name__.rsplit(".", 1)[-1]
    assert code == 1 and result["failed"] is True and result["reason"] == "NEEDS_CONNECTION_PLUGIN"
    assert result["msg"].startswith(f"escalator.swim.{name}: this module needs the connection "
                                    "escalator.swim.dmi or escalator.swim.netconf"), result["msg"]
    assert opened == [], "no transport is opened"
    assert "topsecret" not in json.dumps(result)


def test_old_connection_options_are_refused_on_the_task(opened, capsys):
    code, result = run_main(sw_version, {"host": "127.0.0.1", "device_name": "olt-001"}, capsys)
    assert code == 1 and "device_name" in result["msg"] and "host" in result["msg"], result["msg"]
    assert opened == []


def test_controller_only_module_main_still_runs(tmp_path, capsys):
    code, result = run_main(campaign_status, {"campaign_dir": str(tmp_path), "campaign_id": "c1"}, capsys)
    assert code == 0 and result["rows"] == [], result
