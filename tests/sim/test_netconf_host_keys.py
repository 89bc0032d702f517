"""NETCONF simulator: per-device SSH host keys (RSA 2048, ECDSA nistp256, Ed25519) with OpenSSH-like algorithm
offers (RFC 8332: no SHA-1 ssh-rsa signatures), and the fleet-wide options (--host-key-type, --legacy-hello, ...)
through FleetFactory, overridden per device by the faults YAML."""
from __future__ import annotations

import socket

import paramiko
import pytest
from ncclient.transport.errors import SSHError

from swim_sim.ssh_keys import load_or_create_key, public_line

EXPECTED = {"rsa": ("ssh-rsa", {"rsa-sha2-512", "rsa-sha2-256"}),
            "ecdsa": ("ecdsa-sha2-nistp256", {"ecdsa-sha2-nistp256"}),
            "ed25519": ("ssh-ed25519", {"ssh-ed25519"})}


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    return sim_fleet_module(3, transport="netconf")


def _transport(params, **security) -> paramiko.Transport:
    """A started client transport; ``security``: preferred algorithm lists to offer (SecurityOptions names)."""
    sock = socket.create_connection((params["host"], params["port"]), timeout=10)
    transport = paramiko.Transport(sock)
    options = transport.get_security_options()
    for name, value in security.items():
        setattr(options, name, value)
    transport.start_client(timeout=10)
    return transport


def test_a_fleet_spreads_the_key_types(fleet):
    assert [d["host_key_type"] for d in fleet.devices] == ["rsa", "ecdsa", "ed25519"]
    known = open(fleet.fleet_json["netconf"]["known_hosts_file"]).read().splitlines()
    for device in fleet.devices:
        key_name, _ = EXPECTED[device["host_key_type"]]
        assert f"[127.0.0.1]:{device['port']} {device['host_key']}" in known
        assert device["host_key"].startswith(key_name + " ")
    rsa = paramiko.RSAKey(filename=str(fleet.state_dir / "ssh_host_rsa_key"))
    assert rsa.get_bits() == 2048


@pytest.mark.parametrize("index", [0, 1, 2])
def test_each_key_type_verifies_under_host_key_checking(fleet, index):
    device = fleet.devices[index]
    params = fleet.netconf_params(device["name"])
    ssh = paramiko.SSHClient()
    ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
    ssh.load_host_keys(params["known_hosts_file"])
    ssh.connect(params["host"], port=params["port"], username=params["username"], password=params["password"],
                look_for_keys=False, allow_agent=False, timeout=10)
    try:
        key_name, algorithms = EXPECTED[device["host_key_type"]]
        transport = ssh.get_transport()
        assert transport.get_remote_server_key().get_name() == key_name
        assert transport.host_key_type in algorithms
    finally:
        ssh.close()
    with fleet.netconf(device["name"]) as client:  # ncclient, host key checked against the fleet's known_hosts
        assert client.revisions()[0]["is-active"] is True


def test_rsa_key_is_never_used_with_sha1_signatures(fleet):
    params = fleet.netconf_params(fleet.devices[0]["name"])
    transport = _transport(params)  # paramiko's defaults: the server picks an RFC 8332 algorithm
    assert transport.host_key_type in ("rsa-sha2-512", "rsa-sha2-256")
    transport.close()
    sock = socket.create_connection((params["host"], params["port"]), timeout=10)
    transport = paramiko.Transport(sock)
    transport._preferred_keys = ["ssh-rsa"]  # what ncclient 0.7.1 offers for a known_hosts ssh-rsa entry
    with pytest.raises(paramiko.SSHException, match="no acceptable host key"):
        transport.start_client(timeout=10)
    transport.close()


@pytest.mark.parametrize("option, value", [
    ("ciphers", ("aes128-cbc", "3des-cbc")),
    ("digests", ("hmac-md5", "hmac-sha1-96")),
])
def test_obsolete_algorithms_are_not_offered(fleet, option, value):
    params = fleet.netconf_params(fleet.devices[2]["name"])
    with pytest.raises(paramiko.SSHException, match="Incompatible|no acceptable"):
        _transport(params, **{option: value}).close()


def test_a_recorded_key_of_another_type_is_a_mismatch(fleet, tmp_path):
    """known_hosts records an Ed25519 key for the RSA device's port: host-key checking refuses it."""
    device = fleet.devices[0]
    other = load_or_create_key(tmp_path / "other", "ed25519")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{device['port']} {public_line(other)}\n")
    with pytest.raises(SSHError):
        fleet.netconf(device["name"], known_hosts_file=str(known))


def test_fleet_wide_options_and_per_device_overrides(sim_fleet):
    faults = {"devices": {"olt-002": {"host_key_type": "rsa", "legacy_hello": False}}}
    fleet = sim_fleet(3, transport="netconf", host_key_type="ecdsa", legacy_hello=True, faults=faults)
    assert [d["host_key_type"] for d in fleet.devices] == ["ecdsa", "rsa", "ecdsa"]
    for name, legacy in (("olt-001", True), ("olt-002", False)):
        with fleet.netconf(name) as client:
            caps = client.capabilities
            assert any("yang-library" in c for c in caps) is not legacy
            assert any("module=bbf-software-management" in c for c in caps) is legacy


def test_fleet_wide_yang_library_and_nmda(sim_fleet):
    fleet = sim_fleet(2, transport="netconf", yang_library="1.0", host_key_type="ed25519",
                      faults={"devices": {"olt-002": {"yang_library": "1.1"}}})
    with fleet.netconf("olt-001") as client:
        assert any(c.startswith("urn:ietf:params:netconf:capability:yang-library:1.0?") for c in client.capabilities)
    with fleet.netconf("olt-002") as client:
        assert any(c.startswith("urn:ietf:params:netconf:capability:yang-library:1.1?") for c in client.capabilities)
    fleet = sim_fleet(1, transport="netconf", nmda=False)
    with fleet.netconf("olt-001") as client:
        library = client.get('<yang-library xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-library"/>').xml
        assert "ietf-netconf-nmda" not in library and "bbf-software-management" in library


def test_rsa_client_keys_authenticate_with_sha2_signatures(sim_fleet, tmp_path):
    client_key = load_or_create_key(tmp_path / "rsa_client_key", "rsa")
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(public_line(client_key) + " test\n")
    fleet = sim_fleet(1, transport="netconf", host_key_type="ed25519", extra_args=["--authorized-keys", str(authorized)])
    params = fleet.netconf_params("olt-001")
    transport = _transport(params)
    try:
        transport.auth_publickey(params["username"], client_key)  # paramiko signs with rsa-sha2-*
        assert transport.is_authenticated()
    finally:
        transport.close()
    # what the server says it accepts for client signatures (RFC 8308 server-sig-algs): no SHA-1 ssh-rsa
    transport = _transport(params)
    try:
        try:  # EXT_INFO follows NEWKEYS; an auth request round trip makes sure it has been read
            transport.auth_none(params["username"])
        except paramiko.BadAuthenticationType:
            pass
        accepted = transport.server_extensions["server-sig-algs"].decode().split(",")
        assert {"rsa-sha2-512", "rsa-sha2-256"} <= set(accepted) and "ssh-rsa" not in accepted
    finally:
        transport.close()
