"""The swim-sim command-line contract: inventory, fleet.json, groups, managers, detach/stop, errors."""
from __future__ import annotations

import subprocess
import uuid

import grpc
import pytest
import yaml
from dmi import hw_management_service_pb2 as hwm
from google.protobuf import empty_pb2
from sim_dmi_client import Dmi

from swim_sim.broker import free_port
from swim_sim.daemon import alive
from swim_sim.testing import SimFleet, swim_sim_command

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "swim-sim.escalator.invalid")


def run(*args, timeout=60):
    return subprocess.run(swim_sim_command(*args), capture_output=True, text=True, timeout=timeout)


def test_inventory_contract(sim_fleet):
    fleet = sim_fleet(3)
    doc = yaml.safe_load(fleet.inventory.read_text())
    assert doc["all"]["vars"] == {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    assert list(doc["all"]["children"]) == ["swim_fleet"]
    hosts = doc["all"]["children"]["swim_fleet"]["hosts"]
    assert list(hosts) == ["olt-001", "olt-002", "olt-003"]
    ports = set()
    for name, hostvars in hosts.items():
        assert set(hostvars) == {"ansible_connection", "ansible_host", "ansible_port", "swim_device_name",
                                 "swim_device_uuid"}
        assert hostvars["ansible_host"] == "127.0.0.1" and hostvars["ansible_connection"] == "escalator.swim.dmi"
        assert hostvars["swim_device_name"] == name
        assert hostvars["swim_device_uuid"] == str(uuid.uuid5(NAMESPACE, name))
        ports.add(hostvars["ansible_port"])
        record = fleet.device(name)
        assert (record["uuid"], record["port"], record["transport"]) == (
            hostvars["swim_device_uuid"], hostvars["ansible_port"], "dmi")
        with Dmi(record) as client:  # every port answers for its device, by name and uuid
            assert client.managed() == {name: record["uuid"]}
            assert client.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "0.9.0")])
    assert len(ports) == 3  # --per-manager 1: one port per device


def test_groups_per_manager_prefix_and_base_port(sim_fleet):
    base = free_port()
    fleet = sim_fleet(5, groups=["east", "west"], per_manager=2, name_prefix="pon-", base_port=base)
    doc = yaml.safe_load(fleet.inventory.read_text())
    fleet_group = doc["all"]["children"]["swim_fleet"]
    assert "hosts" not in fleet_group
    children = fleet_group["children"]
    assert list(children["east"]["hosts"]) == ["pon-001", "pon-003", "pon-005"]
    assert list(children["west"]["hosts"]) == ["pon-002", "pon-004"]
    ports = {d["name"]: d["port"] for d in fleet.devices}
    assert ports == {"pon-001": base, "pon-002": base, "pon-003": base + 1, "pon-004": base + 1, "pon-005": base + 2}
    info = fleet.fleet_json
    assert [m["devices"] for m in info["managers"]] == [["pon-001", "pon-002"], ["pon-003", "pon-004"], ["pon-005"]]
    with Dmi(fleet.device("pon-003")) as client:
        assert client.managed() == {"pon-003": fleet.device("pon-003")["uuid"], "pon-004": fleet.device("pon-004")["uuid"]}
        other = fleet.device("pon-004")
        assert client.sw.GetSoftwareVersion(client.hid(other["uuid"]), timeout=5).status == 1
        first = client.hw.HeartbeatCheck(empty_pb2.Empty(), timeout=5).heartbeat_signature
        assert client.hw.HeartbeatCheck(empty_pb2.Empty(), timeout=5).heartbeat_signature == first
        stop = client.hw.StopManagingDevice(hwm.StopManagingDeviceRequest(name="pon-001"), timeout=5)
        assert (stop.status, stop.reason) == (2, 1)  # UNKNOWN_DEVICE: pon-001 is behind another manager


def test_detach_stop_and_pidfile(tmp_path):
    fleet = SimFleet(tmp_path, 2)
    fleet.start()
    pid = fleet.pid
    assert pid and alive(pid)
    assert "swim-sim fleet ready: 2 devices" in fleet.ready_message
    again = subprocess.run(fleet.command(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already running" in again.stderr
    stopped = run("stop", "--pidfile", str(fleet.pidfile))
    assert stopped.returncode == 0, stopped.stderr
    assert not alive(pid) and not fleet.pidfile.exists()
    with Dmi(fleet.devices[0]) as client:
        with pytest.raises(grpc.RpcError) as err:
            client.get_versions(timeout=1)
        assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    # stopping again is harmless
    assert run("stop", "--pidfile", str(fleet.pidfile)).returncode == 0


def test_foreground_mode_runs_until_sigterm(tmp_path):
    proc = subprocess.Popen(swim_sim_command("fleet", "--count", "1", "--inventory", str(tmp_path / "inv.yml"),
                                             "--pidfile", str(tmp_path / "fg.pid")),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("swim-sim fleet ready: 1 devices")
        assert (tmp_path / "swim-sim-state" / "fleet.json").exists()  # default state dir next to the inventory
        assert (tmp_path / "fg.pid").read_text().strip() == str(proc.pid)
        proc.terminate()
        assert proc.wait(15) == 0
        assert not (tmp_path / "fg.pid").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


@pytest.mark.parametrize("args, message", [
    (["--transport", "snmp"], "unknown --transport 'snmp'"),
    (["--per-manager", "0"], "--per-manager must be >= 1"),
])
def test_bad_arguments_are_rejected(tmp_path, args, message):
    result = run("fleet", "--count", "2", "--inventory", str(tmp_path / "inv.yml"), *args)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("faults, message", [
    ({"devices": {"olt-009": {"faults": ["busy"]}}}, "not in this fleet: olt-009"),
    ({"devices": {"olt-001": {"faults": ["explode"]}}}, "unknown fault 'explode'"),
    ({"devices": {"olt-001": {"faults": [{"download_drop": {"drop_at": 2}}]}}}, "drop_at must be in [0, 1)"),
    ({"devices": {"olt-001": {"timings": {"reboot_tme": 1}}}}, "unknown timing"),
    ({"devices": {"olt-001": {"faults": [{"alarm_after_upgrade": {"severity": "loud"}}]}}},
     "alarm_after_upgrade: severity must be one of"),
])
def test_bad_faults_file_fails_detached_start_with_a_message(tmp_path, faults, message):
    path = tmp_path / "faults.yml"
    path.write_text(yaml.safe_dump(faults))
    result = run("fleet", "--count", "2", "--inventory", str(tmp_path / "inv.yml"), "--faults", str(path),
                 "--detach", "--pidfile", str(tmp_path / "f.pid"))
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "f.pid").exists()


def test_port_in_use_fails_start(tmp_path, sim_fleet):
    fleet = sim_fleet(1)
    taken = fleet.devices[0]["port"]
    result = run("fleet", "--count", "1", "--inventory", str(tmp_path / "inv.yml"), "--base-port", str(taken),
                 "--detach", "--pidfile", str(tmp_path / "p.pid"))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{taken}" in result.stderr
    assert not (tmp_path / "p.pid").exists()


def test_fleet_args_from_the_environment_win(sim_fleet, monkeypatch):
    """$SWIM_SIM_FLEET_ARGS is appended to every `swim-sim fleet` command line (also through --detach)."""
    import json

    monkeypatch.setenv("SWIM_SIM_FLEET_ARGS", "--legacy-hello --host-key-type ed25519")
    fleet = sim_fleet(3, transport="netconf", host_key_type="rsa")
    assert [d["host_key_type"] for d in json.loads((fleet.state_dir / "fleet.json").read_text())["devices"]] == \
        ["ed25519"] * 3
    with fleet.netconf("olt-001") as client:
        assert not any("yang-library" in c for c in client.capabilities)
