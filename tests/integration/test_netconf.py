"""NETCONF-specific integration tests: real ansible-playbook against the real NETCONF/SSH simulator.

Host keys, credentials, the capability check, both framings, notifications in the status history,
the commit option, and a mixed DMI + NETCONF fleet upgraded by one playbook.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import paramiko
import pytest
import yaml

from playbook_runner import run_playbook

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / ".collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.escalator.swim.plugins.module_utils.device import DeviceError  # noqa: E402
from ansible_collections.escalator.swim.plugins.module_utils.netconf import NetconfDevice  # noqa: E402

TARGET = {"name": "swim-olt", "version": "2.0.0"}
DEVICES = {
    "olt-001": {},
    "olt-002": {"netconf_framing": "1.0"},
    "olt-003": {"faults": ["no_swm_model"]},
}


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    """Three NETCONF devices: framing 1.1, framing 1.0 only, and one without bbf-software-management."""
    return sim_fleet_module(3, transport="netconf", faults={"devices": DEVICES})


@pytest.fixture
def target_image(image_server):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=128 * 1024)
    return {**TARGET, "url": image.url, "sha256": image.sha256}


def _new_key(path: Path) -> Path:
    """A fresh ed25519 private key in OpenSSH format (another device's host key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    return path


def inventory_with(fleet, tmp_path: Path, **overrides) -> Path:
    """The fleet's inventory with host variables overridden (None removes one) for every host."""
    document = yaml.safe_load(fleet.inventory.read_text())
    for host in document["all"]["children"]["swim_fleet"]["hosts"].values():
        for key, value in overrides.items():
            if value is None:
                host.pop(key, None)
            else:
                host[key] = value
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def host_vars(fleet, name: str) -> dict:
    return yaml.safe_load(fleet.inventory.read_text())["all"]["children"]["swim_fleet"]["hosts"][name]


def versions(inventory: Path, tmp_path: Path, target: str = "olt-001") -> dict:
    run = run_playbook("versions.yml", inventory, results_dir=tmp_path / "results", extra_vars={"target": target})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr
    return run.results(target)["versions"]


def test_fleet_inventory_selects_netconf_with_host_key_checking(fleet):
    variables = host_vars(fleet, "olt-001")
    assert variables["ansible_connection"] == "escalator.swim.netconf"
    assert Path(variables["swim_known_hosts_file"]).read_text().startswith(f"[127.0.0.1]:{variables['ansible_port']} ")
    assert "ansible_host_key_checking" not in variables, "checking must be on by default, not switched on by the fleet"


def test_wrong_host_key_is_refused(fleet, tmp_path):
    impostor = paramiko.Ed25519Key(filename=str(_new_key(tmp_path / "impostor_host_key")))
    port = host_vars(fleet, "olt-001")["ansible_port"]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {impostor.get_name()} {impostor.get_base64()}\n")
    result = versions(inventory_with(fleet, tmp_path, swim_known_hosts_file=str(known)), tmp_path)
    assert result["failed"] is True
    assert result["msg"].startswith("olt-001: GetSoftwareVersion over netconf failed: HOST_KEY_MISMATCH")
    assert str(known) in result["msg"] and "refusing to connect" in result["msg"]

    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    unknown = versions(inventory_with(fleet, tmp_path, swim_known_hosts_file=str(empty)), tmp_path)
    assert unknown["failed"] is True and "HOST_KEY_UNKNOWN" in unknown["msg"]

    # the explicit lab opt-out connects whatever the key
    lab = versions(inventory_with(fleet, tmp_path, swim_known_hosts_file=str(known), ansible_host_key_checking=False),
                   tmp_path)
    assert lab.get("failed") is not True and lab["active_version"] == "1.0.0", lab


def test_known_hosts_entry_of_another_key_type_is_host_key_mismatch(fleet, tmp_path):
    """known_hosts records a key of another type than the device's: HOST_KEY_MISMATCH naming both, through
    ansible-playbook (not an SSH negotiation error with an empty detail), and no traceback anywhere."""
    variables = host_vars(fleet, "olt-001")
    recorded = Path(variables["swim_known_hosts_file"]).read_text().split("\n")[0].split()[1]
    other = paramiko.RSAKey.generate(2048) if recorded != "ssh-rsa" else \
        paramiko.Ed25519Key(filename=str(_new_key(tmp_path / "other_key")))
    known = tmp_path / "known_hosts_other_type"
    known.write_text(f"[127.0.0.1]:{variables['ansible_port']} {other.get_name()} {other.get_base64()}\n")
    run = run_playbook("versions.yml", inventory_with(fleet, tmp_path, swim_known_hosts_file=str(known)),
                       results_dir=tmp_path / "results", extra_vars={"target": "olt-001"})
    assert "Traceback" not in run.stdout + run.stderr and "paramiko" not in run.stdout + run.stderr
    result = run.results("olt-001")["versions"]
    assert result["failed"] is True
    assert result["msg"].startswith("olt-001: GetSoftwareVersion over netconf failed: HOST_KEY_MISMATCH"), result
    assert f"records a key of another type ({other.get_name()})" in result["msg"]


def test_bad_credentials_and_key_authentication(fleet, tmp_path):
    bad = versions(inventory_with(fleet, tmp_path, ansible_password="not-the-password"), tmp_path)
    assert bad["failed"] is True
    assert bad["msg"].startswith("olt-001: GetSoftwareVersion over netconf failed: AUTHENTICATION_FAILED")
    assert "not-the-password" not in json.dumps(bad)

    key_file = fleet.state_dir / "netconf_client_key"
    assert key_file.exists(), "the fleet writes a client key allowed on every device"
    by_key = versions(inventory_with(fleet, tmp_path, ansible_password=None, ansible_private_key_file=str(key_file)), tmp_path)
    assert by_key.get("failed") is not True and by_key["active_version"] == "1.0.0", by_key


def test_device_without_the_software_model_is_refused_clearly(fleet, tmp_path):
    result = versions(fleet.inventory, tmp_path, target="olt-003")
    assert result["failed"] is True
    assert result["msg"].startswith("olt-003: GetSoftwareVersion over netconf failed: MODEL_NOT_SUPPORTED")
    assert "bbf-software-management" in result["msg"] and "ietf-hardware" in result["msg"]


def connect(fleet, name: str) -> NetconfDevice:
    variables = host_vars(fleet, name)
    return NetconfDevice({"device_name": name, "host": "127.0.0.1", "port": variables["ansible_port"],
                          "username": variables["ansible_user"], "password": variables["ansible_password"],
                          "known_hosts_file": variables["swim_known_hosts_file"], "connect_timeout": 5})


def test_both_framings_upgrade_with_notifications_in_the_history(fleet, target_image, tmp_path):
    for name, framing in (("olt-001", "1.1"), ("olt-002", "1.0")):
        with connect(fleet, name) as device:
            assert device.versions().active_image.version == "1.0.0"
            assert device.framing == framing, name
    run = run_playbook("record_upgrade.yml", fleet.inventory, results_dir=tmp_path / "results",
                       extra_vars={"image": target_image, "target": "olt-001:olt-002"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for name in ("olt-001", "olt-002"):
        result = run.results(name)
        assert result["activate"]["changed"] is True, result["activate"]
        assert result["versions"]["active_version"] == "2.0.0"
        download = [e["description"] for e in result["download"]["status_history"]]
        activate = [e["description"] for e in result["activate"]["status_history"]]
        # notifications of the bbf-software-management model, seen while the operations ran
        assert any(d.startswith("notification revision-downloaded") for d in download), download
        assert any(d.startswith("notification revision-activated") for d in activate), activate
        assert any(d.startswith("notification revision-committed") for d in activate), activate
        assert result["activate"]["status_history"][-1]["state"] == "ACTIVATION_COMPLETE"
        assert fleet.state(name)["partitions"]["active"]["version"] == "2.0.0"


def test_mixed_fleet_same_playbook_identical_results_and_idempotence(sim_fleet, target_image, tmp_path):
    fleet = sim_fleet(8, transport="mixed")
    transports = {d["name"]: d["transport"] for d in fleet.devices}
    assert sorted(transports.values()) == ["dmi"] * 4 + ["netconf"] * 4
    run = run_playbook("record_upgrade.yml", fleet.inventory, results_dir=tmp_path / "results",
                       extra_vars={"image": target_image})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert all(c["failed"] == 0 and c["changed"] == 3 for c in run.recap.values()), run.recap

    def shape(name):
        saved = run.results(name)
        return {
            "download": (saved["download"]["changed"], saved["download"]["msg"].replace(name, "DEV"),
                         saved["download"]["final_state"], saved["download"]["after"]["standby"][0]["version"]),
            "activate": (saved["activate"]["changed"], saved["activate"]["msg"].replace(name, "DEV"),
                         saved["activate"]["final_state"], saved["activate"]["after"]["active"][0]["version"],
                         saved["activate"]["after"]["standby"][0]["version"]),
            "versions": (saved["versions"]["active_version"], saved["versions"]["standby_version"]),
        }

    shapes = {name: shape(name) for name in transports}
    assert len({json.dumps(s, sort_keys=True) for s in shapes.values()}) == 1, shapes
    assert shapes["olt-001"]["versions"] == ("2.0.0", "1.0.0")

    second = run_playbook("upgrade.yml", fleet.inventory, extra_vars={"image": target_image})
    assert second.returncode == 0, second.stdout[-3000:]
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in second.recap.values()), second.recap
    assert len(fleet.reboots()) == 8, "one reboot per device, none on the idempotent run"


def test_commit_option_false_leaves_a_trial_activation_the_device_undoes_at_restart(sim_fleet, target_image,
                                                                                    tmp_path):
    fleet = sim_fleet(1, transport="netconf")
    trial = inventory_with(fleet, tmp_path, swim_netconf_commit=False)
    run = run_playbook("record_upgrade.yml", trial, results_dir=tmp_path / "results",
                       extra_vars={"image": target_image})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    result = run.results("olt-001")
    assert result["activate"]["changed"] is True, result["activate"]
    assert "NOT committed" in result["activate"]["status_history"][-1]["description"]
    active = result["versions"]["active"][0]
    assert (active["version"], active["committed"]) == ("2.0.0", False)
    assert [v["committed"] for v in result["versions"]["standby"]] == [True], "1.0.0 still boots next"

    fleet.restart()  # the device restarts: it boots its committed revision again (G.988 semantics)
    after = versions(fleet.inventory, tmp_path)
    assert after["active_version"] == "1.0.0" and after["standby_version"] == "2.0.0", after


def test_corrupted_transfer_is_never_taken_for_an_installed_image(sim_fleet, target_image, tmp_path):
    """The device learns name/version from the image, so a corrupted transfer looks valid; its hash differs.
    A second run must download again (and fail again), not skip the download and activate the bad image."""
    fleet = sim_fleet(1, transport="netconf", faults={"devices": {"olt-001": {"faults": ["checksum_corruption"]}}})
    for attempt in (1, 2):
        run = run_playbook("record_upgrade.yml", fleet.inventory, results_dir=tmp_path / f"run{attempt}",
                           extra_vars={"image": target_image})
        assert run.returncode == 0, run.stdout[-3000:]
        download = run.results("olt-001")["download"]
        assert download["failed"] is True and "WRONG_IMAGE_CHECKSUM" in download["msg"], (attempt, download)
        assert download["status_history"], "the second run downloaded again"
        assert run.results("olt-001")["activate"].get("skipped") is True
    assert fleet.state("olt-001")["partitions"]["active"]["version"] == "1.0.0"
    assert fleet.reboots() == []


def test_component_and_software_overrides(fleet, tmp_path):
    chosen = versions(inventory_with(fleet, tmp_path, swim_netconf_component="olt-board",
                                     swim_netconf_software="application-software"), tmp_path)
    assert chosen.get("failed") is not True and chosen["active_version"], chosen
    wrong = versions(inventory_with(fleet, tmp_path, swim_netconf_component="line-card-9"), tmp_path)
    assert wrong["failed"] is True
    assert wrong["msg"].startswith("olt-001: GetSoftwareVersion over netconf failed: NO_SOFTWARE")
    assert "component line-card-9" in wrong["msg"]


# -- jump hosts: a second SSH hop on loopback (tools/swim_sim/jumphost.py) --------------------------------------
@pytest.fixture
def jump_host(tmp_path):
    from swim_sim.jumphost import JumpHost
    key = paramiko.Ed25519Key(filename=str(_new_key(tmp_path / "jump_host_key")))
    with JumpHost(key, user="bastion", password="bastion-pw") as jump:
        yield jump


def through_jump(fleet, name: str, jump, tmp_path: Path, **overrides) -> dict:
    variables = host_vars(fleet, name)
    known = tmp_path / "known_hosts_with_jump"
    known.write_text(Path(variables["swim_known_hosts_file"]).read_text() + jump.known_hosts_line())
    return {"device_name": name, "host": "127.0.0.1", "port": variables["ansible_port"],
            "username": variables["ansible_user"], "password": variables["ansible_password"],
            "known_hosts_file": str(known), "connect_timeout": 5, **overrides}


def test_proxy_jump_reaches_the_device_through_a_second_ssh_hop(fleet, jump_host, tmp_path):
    params = through_jump(fleet, "olt-001", jump_host, tmp_path,
                          proxy_jump=f"bastion@127.0.0.1:{jump_host.port}")
    # the jump host's login: the device's password is tried there too; here it has its own
    params["password"] = None
    key_file = fleet.state_dir / "netconf_client_key"
    client_key = paramiko.PKey.from_path(str(key_file))
    jump_host.authorized_keys.add((client_key.get_name(), client_key.get_base64()))
    params["ssh_key_file"] = str(key_file)
    with NetconfDevice(params) as device:
        assert device.versions().active_image.version == fleet.state("olt-001")["partitions"]["active"]["version"]
    assert jump_host.forwarded == [f"127.0.0.1:{params['port']}"]


def test_ssh_config_proxy_jump_and_the_jump_hosts_host_key_is_checked(fleet, jump_host, tmp_path):
    params = through_jump(fleet, "olt-001", jump_host, tmp_path)
    config = tmp_path / "ssh_config"
    config.write_text(f"Host olt-001\n  HostName 127.0.0.1\n  ProxyJump bastion-host\n"
                      f"Host bastion-host\n  HostName 127.0.0.1\n  Port {jump_host.port}\n  User bastion\n")
    jump_host.password = params["password"]  # the same credentials on the bastion
    with NetconfDevice({**params, "host": "olt-001", "ssh_config": str(config)}) as device:
        assert device.versions().active_image.version == fleet.state("olt-001")["partitions"]["active"]["version"]
    assert len(jump_host.forwarded) == 1

    # a known_hosts without the jump host: refused at the jump host, before anything reaches the device
    only_devices = tmp_path / "known_hosts_devices"
    only_devices.write_text(Path(host_vars(fleet, "olt-001")["swim_known_hosts_file"]).read_text())
    with pytest.raises(DeviceError) as info:
        NetconfDevice({**params, "host": "olt-001", "ssh_config": str(config),
                       "known_hosts_file": str(only_devices)}).versions()
    assert info.value.reason == "HOST_KEY_UNKNOWN" and "jump host" in info.value.msg
    assert not info.value.unreachable and len(jump_host.forwarded) == 1


def test_ssh_config_proxy_command(fleet, tmp_path):
    """ProxyCommand from an ssh_config file (ncclient's own path, given the command's socket)."""
    variables = host_vars(fleet, "olt-001")
    config = tmp_path / "ssh_config"
    config.write_text(f"Host olt-001\n  HostName 127.0.0.1\n"
                      f"  ProxyCommand {sys.executable} -m swim_sim.jumphost --relay %h %p\n")
    with NetconfDevice({"device_name": "olt-001", "host": "olt-001", "port": variables["ansible_port"],
                        "username": variables["ansible_user"], "password": variables["ansible_password"],
                        "known_hosts_file": variables["swim_known_hosts_file"], "ssh_config": str(config),
                        "connect_timeout": 5}) as device:
        assert device.versions().active_image.version == fleet.state("olt-001")["partitions"]["active"]["version"]


def test_jump_host_forwards_to_loopback_only_and_unreachable_targets_are_unreachable(fleet, jump_host, tmp_path):
    params = through_jump(fleet, "olt-001", jump_host, tmp_path, proxy_jump=f"bastion@127.0.0.1:{jump_host.port}",
                          connect_timeout=0.5)
    jump_host.password = params["password"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(DeviceError) as info:
        NetconfDevice({**params, "port": closed}).versions()
    assert info.value.reason == "UNREACHABLE" and info.value.unreachable and info.value.retryable
    with pytest.raises(DeviceError) as info:
        NetconfDevice({**params, "host": "192.0.2.1"}).versions()
    assert info.value.reason == "UNREACHABLE" and not info.value.retryable and "prohibited" in info.value.msg
    assert jump_host.refused == ["192.0.2.1:" + str(params["port"])], "refused once, not retried"


# -- transport errors classified by cause -------------------------------------------------------------------------
def test_ssh_cut_during_authentication_is_a_connection_failure_not_bad_credentials(tmp_path):
    """A server that completes the SSH handshake and drops the connection while the client authenticates
    (a device restarting): CONNECTION_LOST, retried within the connect window, unreachable; never
    AUTHENTICATION_FAILED."""
    import threading
    import time

    key = paramiko.Ed25519Key(filename=str(_new_key(tmp_path / "host_key")))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted = []

    class DropDuringAuth(paramiko.ServerInterface):
        def __init__(self, transport):
            self.transport = transport

        def get_allowed_auths(self, username):
            return "password"

        def check_auth_password(self, username, password):
            self.transport.close()  # the device goes away under the authentication
            return paramiko.AUTH_FAILED

    def serve():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            accepted.append(time.monotonic())
            transport = paramiko.Transport(client)
            transport.add_server_key(key)
            try:
                transport.start_server(server=DropDuringAuth(transport))
            except (paramiko.SSHException, EOFError, OSError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {key.get_name()} {key.get_base64()}\n")
    device = NetconfDevice({"device_name": "olt-eof", "host": "127.0.0.1", "port": port, "username": "u",
                            "password": "p", "known_hosts_file": str(known), "connect_timeout": 1.5})
    try:
        with pytest.raises(DeviceError) as info:
            device.versions()
    finally:
        listener.close()
    assert info.value.reason == "CONNECTION_LOST", info.value.msg
    assert info.value.retryable and info.value.unreachable
    assert len(accepted) >= 2, "retried within the connect window"


# -- the reference-server behaviour and the older ones, each driven end to end ------------------------------------
MODES = {
    "olt-001": {},                                   # standard: YANG library 1.1 (content-id), NMDA, RSA host key
    "olt-002": {"legacy_hello": True},               # modules in <hello>, no YANG library, no NMDA
    "olt-003": {"yang_library": "1.0"},              # RFC 7895 /modules-state only
    "olt-004": {"nmda": False, "host_key_type": "rsa"},  # YANG library without ietf-netconf-nmda: <get>
}


@pytest.fixture(scope="module")
def modes(sim_fleet_module):
    return sim_fleet_module(4, transport="netconf", faults={"devices": MODES})


def test_rsa_ecdsa_and_ed25519_host_keys_with_host_key_checking(modes, tmp_path):
    types = {d["name"]: d["host_key_type"] for d in modes.devices}
    assert set(types.values()) == {"rsa", "ecdsa", "ed25519"}, types
    run = run_playbook("versions.yml", modes.inventory, results_dir=tmp_path / "results")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr
    for name in types:
        result = run.results(name)["versions"]
        assert result.get("failed") is not True and result["active_version"] == "1.0.0", (name, types[name], result)
    assert all(c["failed"] == 0 and c.get("unreachable", 0) == 0 for c in run.recap.values()), run.recap
    known = {line.split()[1] for line in Path(host_vars(modes, "olt-001")["swim_known_hosts_file"]).read_text()
             .splitlines() if line.strip()}
    assert {"ssh-rsa", "ssh-ed25519"} <= known and any(k.startswith("ecdsa-sha2-") for k in known), known


@pytest.mark.parametrize("name, sources, nmda", [
    ("olt-001", ("hello", "YANG library /yang-library"), True),
    ("olt-002", ("hello",), False),
    ("olt-003", ("hello", "YANG library /modules-state"), False),
    ("olt-004", ("hello", "YANG library /yang-library"), False),
])
def test_discovery_path_per_server_kind_and_hardware_class_and_parent(modes, name, sources, nmda):
    with connect(modes, name) as device:
        assert device.versions().active_image.version == "1.0.0"
        assert device.library.sources == sources and device.library.nmda is nmda
        assert device.dialect.module == "bbf-software-management"
        assert device.dialect.has_feature("software-management-actions") is not False
        components = device.inventory()["components"]
    by_name = {c["name"]: c for c in components}
    assert by_name["olt-board"]["class"] == "CHASSIS", components
    assert any(c["parent"] == "olt-board" for c in components), "parent of the components read"


def test_standard_and_legacy_servers_upgrade_by_the_same_playbook(modes, target_image, tmp_path):
    run = run_playbook("record_upgrade.yml", modes.inventory, results_dir=tmp_path / "results",
                       extra_vars={"image": target_image, "target": "olt-001:olt-002"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for name in ("olt-001", "olt-002"):
        result = run.results(name)
        assert result["activate"]["changed"] is True, (name, result["activate"])
        assert result["versions"]["active_version"] == "2.0.0"
        assert modes.state(name)["partitions"]["active"]["version"] == "2.0.0"


def test_a_campaign_commits_a_target_that_runs_uncommitted_instead_of_skipping_it(sim_fleet, target_image, tmp_path):
    """Issue 16, failure 2: a device running the target but booting the old image is not "already on the
    target": the campaign commits it (then post-checks it), and a restart proves the target is the boot image."""
    fleet = sim_fleet(1, transport="netconf")
    trial = inventory_with(fleet, tmp_path, swim_netconf_commit=False)
    run = run_playbook("record_upgrade.yml", trial, results_dir=tmp_path / "trial", extra_vars={"image": target_image})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert (run.results("olt-001")["versions"]["active"][0]["committed"]) is False

    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump({"campaign": {
        "id": "it-uncommitted",
        "images": {"default": {**target_image}},
        "groups": [{"name": "all", "group": "swim_fleet", "batch": {"size": 1}}],
        "timeouts": {"precheck": 20, "backup": 20, "download": 60, "activate": 60, "revert": 60, "postcheck": 20},
        "recovery": {"policy": "revert_device", "failure_threshold": "100%"},
    }}))
    state = tmp_path / "state"
    campaign = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(state)},
                            extra_vars={"swim_plan": str(plan), "swim_auto_approve": True})
    assert campaign.returncode == 0, campaign.stdout[-6000:]
    row = json.loads((state / "campaigns" / "it-uncommitted" / "status" / "olt-001.json").read_text())
    assert row["outcome"] == "upgraded" and row["stages"]["postcheck"]["state"] == "ok", row
    assert row["stages"]["verify"]["state"] == "ok" and row["details"]["committed"] is True, row
    assert "already runs" not in json.dumps(row)
    assert "committed" in campaign.stdout          # the status table's committed column
    now = versions(fleet.inventory, tmp_path)
    assert now["active"][0]["version"] == "2.0.0" and now["active"][0]["committed"] is True, now
    fleet.restart()
    assert versions(fleet.inventory, tmp_path)["active_version"] == "2.0.0"    # it is the boot image now
