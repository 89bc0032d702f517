"""The connection plugins escalator.swim.dmi and escalator.swim.netconf end to end (issue 15): real
ansible-playbook against a real mixed simulator fleet, with inventories written here from standard Ansible
variables only (no swim_* variable, not even the simulator's own inventory): NETCONF with a password and host
key checking on against ~/.ssh/known_hosts, NETCONF with a private key and ansible_host_key_checking false,
DMI with ansible_host/ansible_port (the uuid looked up by the inventory hostname), and a device that never
answers, unreachable in the recap while the others finish. Also: an inventory of earlier releases
(ansible_connection local + swim_transport) with its one deprecation warning, and a NETCONF device reached
through a jump host (python -m swim_sim.jumphost) named in the inventory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from playbook_runner import run_playbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
from swim_matrix import Campaign, plan  # noqa: E402

TARGET = {"name": "swim-olt", "version": "2.0.0"}
UNREACHABLE = "olt-005"
# mixed fleet: olt-001 dmi, olt-002 netconf, olt-003 dmi, olt-004 netconf, olt-005 (dmi) never answers
FAULTS = {"devices": {UNREACHABLE: {"faults": ["unreachable"]}}}


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    fleet = sim_fleet_module(5, transport="mixed", faults=FAULTS)
    assert [d["transport"] for d in fleet.devices] == ["dmi", "netconf", "dmi", "netconf", "dmi"]
    return fleet


@pytest.fixture(scope="module")
def home(fleet, tmp_path_factory) -> Path:
    """A HOME whose ~/.ssh/known_hosts holds the fleet's host keys (OpenSSH's default place)."""
    home = tmp_path_factory.mktemp("home")
    (home / ".ssh").mkdir()
    shutil.copy(fleet.fleet_json["netconf"]["known_hosts_file"], home / ".ssh" / "known_hosts")
    return home


def standard_host_vars(fleet, device: dict) -> dict:
    """Only standard Ansible variables; the second NETCONF device logs in by key, host key checking off."""
    variables = {"ansible_connection": f"escalator.swim.{device['transport']}", "ansible_host": "127.0.0.1",
                 "ansible_port": device["port"]}
    if device["transport"] == "netconf":
        info = fleet.fleet_json["netconf"]
        variables["ansible_user"] = info["username"]
        if device["name"] == "olt-002":
            variables.update(ansible_password=info["password"], ansible_host_key_checking=True)
        else:
            variables.update(ansible_private_key_file=info["client_key_file"], ansible_host_key_checking=False)
    return variables


def write_inventory(path: Path, hosts: dict) -> Path:
    path.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_python_interpreter": sys.executable},
        "children": {"swim_fleet": {"hosts": hosts}}}}))
    return path


@pytest.fixture(scope="module")
def standard_inventory(fleet, tmp_path_factory) -> Path:
    hosts = {d["name"]: standard_host_vars(fleet, d) for d in fleet.devices}
    inventory = write_inventory(tmp_path_factory.mktemp("inventory") / "standard.yml", hosts)
    assert not [key for host in hosts.values() for key in host if key.startswith("swim_")]
    return inventory


@pytest.fixture
def target_image(image_server):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=128 * 1024)
    return {**TARGET, "url": image.url, "sha256": image.sha256}


def active(fleet, name: str) -> str:
    return fleet.state(name)["partitions"]["active"]["version"]


def test_every_module_from_standard_variables_and_an_unreachable_device(fleet, home, standard_inventory,
                                                                        target_image, tmp_path):
    started = time.monotonic()
    run = run_playbook("every_module.yml", standard_inventory, results_dir=tmp_path / "results",
                       extra_vars={"image": target_image}, env={"HOME": str(home)}, timeout=600)
    took = time.monotonic() - started
    assert "Traceback" not in run.stdout + run.stderr
    assert run.returncode == 4, run.stdout[-3000:] + run.stderr[-2000:]     # 4: some host unreachable
    assert run.recap[UNREACHABLE]["unreachable"] == 1 and run.recap[UNREACHABLE]["failed"] == 0, run.recap
    assert f"{UNREACHABLE}: GetSoftwareVersion over dmi failed: DEVICE_UNREACHABLE" in run.stdout
    for device in fleet.devices[:4]:
        name = device["name"]
        assert run.recap[name]["unreachable"] == 0 and run.recap[name]["failed"] == 0, (name, run.recap[name])
        result = run.results(name)
        assert result["before"]["transport"] == device["transport"], result["before"]
        assert result["before"]["active_version"] == "1.0.0"
        assert result["snapshot"]["snapshot"]["versions"]["active"][0]["version"] == "1.0.0"
        assert result["download"]["changed"] and result["activate"]["changed"] and result["revert"]["changed"]
        assert result["after"]["active_version"] == "1.0.0", result["after"]
        assert (tmp_path / "results" / f"{name}.snapshot.json").exists()
    # the unreachable device did not slow the others down beyond its connect window (10 s default) per task
    assert took < 300, took
    assert active(fleet, UNREACHABLE) == "1.0.0"


def test_ansible_host_key_checking_is_honoured(fleet, standard_inventory, tmp_path):
    """Checking on (olt-002) with an empty ~/.ssh/known_hosts: HOST_KEY_UNKNOWN; off (olt-004): it connects."""
    empty_home = tmp_path / "home"
    (empty_home / ".ssh").mkdir(parents=True)
    (empty_home / ".ssh" / "known_hosts").write_text("")
    run = run_playbook("versions.yml", standard_inventory, results_dir=tmp_path / "results",
                       extra_vars={"target": "olt-002:olt-004"}, env={"HOME": str(empty_home)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    checked = run.results("olt-002")["versions"]
    assert checked["failed"] is True and "HOST_KEY_UNKNOWN" in checked["msg"], checked
    assert "~/.ssh/known_hosts" in checked["msg"], checked["msg"]
    assert run.results("olt-004")["versions"]["active_version"] == active(fleet, "olt-004")
    # ANSIBLE_HOST_KEY_CHECKING=False switches it off when no variable says otherwise
    hosts = yaml.safe_load(standard_inventory.read_text())["all"]["children"]["swim_fleet"]["hosts"]
    hosts["olt-002"].pop("ansible_host_key_checking")
    relaxed = write_inventory(tmp_path / "relaxed.yml", hosts)
    run = run_playbook("versions.yml", relaxed, results_dir=tmp_path / "relaxed",
                       extra_vars={"target": "olt-002"}, env={"HOME": str(empty_home), "ANSIBLE_HOST_KEY_CHECKING": "False"})
    assert run.results("olt-002")["versions"]["active_version"] == active(fleet, "olt-002"), run.stdout[-3000:]


def test_rolling_upgrade_from_standard_variables(fleet, home, standard_inventory, target_image, tmp_path):
    campaign = Campaign(tmp_path / "campaign", plan(target_image, campaign_id="standard-vars", batch_size=2))
    run = campaign.run(standard_inventory, env={"HOME": str(home)}, timeout=900)
    assert "Traceback" not in run.stdout + run.stderr
    # partially failed, one device unreachable: Ansible exits 4 (unreachable hosts) rather than 2
    assert run.returncode == 4, run.stdout[-5000:] + run.stderr[-2000:]
    assert run.recap[UNREACHABLE]["unreachable"] == 1, run.recap
    rows = campaign.rows()
    for device in fleet.devices[:4]:
        assert rows[device["name"]]["outcome"] == "upgraded", rows[device["name"]]
        assert active(fleet, device["name"]) == "2.0.0"
        assert run.recap[device["name"]]["unreachable"] == 0, run.recap
    # not touched, left on its image, reported: only its precheck, failed with the transport's reason
    row = rows[UNREACHABLE]
    assert set(row["stages"]) == {"precheck"} and row["stages"]["precheck"]["state"] == "failed", row
    assert row["stages"]["precheck"]["error_code"] == "DEVICE_UNREACHABLE", row
    assert active(fleet, UNREACHABLE) == "1.0.0"
    assert not campaign.locks()


def old_style_inventory(fleet, path: Path) -> Path:
    """The inventory form of earlier releases: ansible_connection local, swim_transport, swim_* variables."""
    info = fleet.fleet_json["netconf"]
    hosts = {}
    for device in fleet.devices[:4]:
        variables = {"ansible_host": "127.0.0.1", "swim_transport": device["transport"], "swim_port": device["port"],
                     "swim_device_name": device["name"]}
        if device["transport"] == "netconf":
            variables.update(swim_username=info["username"], swim_password=info["password"],
                             swim_known_hosts_file=info["known_hosts_file"])
        hosts[device["name"]] = variables
    path.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {"swim_fleet": {"hosts": hosts}}}}))
    return path


def test_old_style_inventory_still_works_with_one_deprecation_warning(fleet, tmp_path):
    inventory = old_style_inventory(fleet, tmp_path / "old.yml")
    run = run_playbook("versions.yml", inventory, results_dir=tmp_path / "results",
                       env={"ANSIBLE_DEPRECATION_WARNINGS": "1"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for device in fleet.devices[:4]:
        result = run.results(device["name"])["versions"]
        assert result.get("failed") is not True and result["transport"] == device["transport"], result
    output = " ".join((run.stdout + run.stderr).split())
    assert output.count("[DEPRECATION WARNING]") == 1, run.stderr
    assert ("ansible_connection=local with swim_transport are deprecated: set ansible_connection to "
            "escalator.swim.dmi or escalator.swim.netconf") in output, run.stderr


@pytest.fixture
def jump_host(fleet, tmp_path):
    """python -m swim_sim.jumphost on a free loopback port; the fleet's NETCONF login is also the jump login."""
    password = fleet.fleet_json["netconf"]["password"]
    process = subprocess.Popen([sys.executable, "-m", "swim_sim.jumphost", "--port", "0", "--user", "bastion",
                                "--password", password, "--state-dir", str(tmp_path)],
                               stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and not line.startswith("listening on"):
            line = process.stdout.readline().strip()
            if process.poll() is not None:
                break
        assert line.startswith("listening on 127.0.0.1:"), line
        yield process, int(line.rsplit(":", 1)[1]), tmp_path / "jumphost_known_hosts"
    finally:
        process.terminate()
        process.wait(10)


def test_proxy_jump_from_the_inventory(fleet, jump_host, tmp_path):
    process, port, jump_known_hosts = jump_host
    info = fleet.fleet_json["netconf"]
    known = tmp_path / "known_hosts"
    known.write_text(Path(info["known_hosts_file"]).read_text() + jump_known_hosts.read_text())
    device = fleet.device("olt-002")
    hosts = {"olt-002": {"ansible_connection": "escalator.swim.netconf", "ansible_host": "127.0.0.1",
                         "ansible_port": device["port"], "ansible_user": info["username"],
                         "ansible_password": info["password"], "swim_known_hosts_file": str(known),
                         "swim_proxy_jump": f"bastion@127.0.0.1:{port}"}}
    inventory = write_inventory(tmp_path / "jump.yml", hosts)
    run = run_playbook("versions.yml", inventory, results_dir=tmp_path / "through", env={"HOME": str(tmp_path)})
    assert run.results("olt-002")["versions"]["active_version"] == active(fleet, "olt-002"), run.stdout[-3000:]
    # the session really goes through the jump host: without it the device, though up, cannot be reached
    process.terminate()
    process.wait(10)
    hosts["olt-002"]["swim_connect_timeout"] = 1
    run = run_playbook("versions.yml", write_inventory(tmp_path / "jump.yml", hosts), results_dir=tmp_path / "down",
                       env={"HOME": str(tmp_path)})
    result = run.results("olt-002")["versions"]
    assert result.get("unreachable") is True and "jump host" in result["msg"], result
    assert json.dumps(result).count(info["password"]) == 0
