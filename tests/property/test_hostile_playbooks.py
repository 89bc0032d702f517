"""A few hostile inputs through real ansible-playbook runs against a real simulator (the in-process property
tests cover the space; these prove the same behaviour end to end): each task fails cleanly with a msg naming
the device and the problem, no traceback, and the device is never touched."""

from __future__ import annotations

import json

import pytest
import yaml

from playbook_runner import run_playbook

SHA = "ab" * 32
CASES = [
    ("malformed url", "download_image", {"name": "swim-olt", "version": "2.0.0", "url": "http:// 127.0.0.1/x.img",
                                         "sha256": SHA}, "is not a URL the device can fetch"),
    ("short checksum", "download_image", {"name": "swim-olt", "version": "2.0.0", "url": "http://127.0.0.1:1/x.img",
                                          "sha256": "abc"}, "sha256 must be 64 hexadecimal characters"),
    ("wrong type", "download_image", {"name": "swim-olt", "version": "2.0.0", "url": "http://127.0.0.1:1/x.img",
                                      "sha256": SHA, "timeout": ["ten"]}, "timeout"),
    ("unknown option", "activate_image", {"version": "2.0.0", "reboot_now": True}, "unsupported parameter"),
    ("old connection option", "sw_version", {"port": 70000}, "unsupported parameter port"),
    # (a connection setting, from the variables of the task: the connection plugin's port option)
    ("port out of range", "sw_version", {"_vars": {"ansible_port": 70000}}, "port must be between 1 and 65535"),
    ("nan timeout", "sw_version", {"connect_timeout": "nan"}, "connect_timeout must be a positive number"),
    ("control characters", "revert_image", {"version": "1.0.0\n\x07"}, "version"),
    ("huge name", "download_image", {"name": "x" * 5000, "version": "2.0.0", "url": "http://127.0.0.1:1/x.img",
                                     "sha256": SHA}, "name must be 1-255 printable characters"),
]


@pytest.fixture(scope="module")
def one_device(sim_fleet_module):
    return sim_fleet_module(1)


def test_hostile_tasks_fail_cleanly_end_to_end(one_device, tmp_path):
    tasks = []
    for label, module, args, _ in CASES:
        args = dict(args)
        task_vars = args.pop("_vars", {})
        tasks.append({"name": label, f"escalator.swim.{module}": args, "register": "r", "ignore_errors": True,
                      **({"vars": task_vars} if task_vars else {})})
        tasks.append({"name": f"save {label}", "ansible.builtin.copy": {
            "content": "{{ r | to_json }}", "dest": f"{tmp_path}/{label.replace(' ', '_')}.json", "mode": "0644"},
            "delegate_to": "localhost"})
    playbook = tmp_path / "hostile.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "swim_fleet", "gather_facts": False, "tasks": tasks}]))
    run = run_playbook(playbook, one_device.inventory, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr
    assert run.recap["olt-001"]["ignored"] == len(CASES), run.recap
    for label, _, _, expected in CASES:
        result = json.loads((tmp_path / f"{label.replace(' ', '_')}.json").read_text())
        assert result["failed"] is True, (label, result)
        assert result["msg"].startswith("olt-001: "), (label, result["msg"])
        assert expected in result["msg"], (label, result["msg"])
        assert not result.get("status_history"), (label, "nothing was sent to the device")
    state = one_device.state("olt-001")["partitions"]
    assert state["active"]["version"] == "1.0.0" and state["standby"]["version"] == "0.9.0"
    assert one_device.reboots() == []
