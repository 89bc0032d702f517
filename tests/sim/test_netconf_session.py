"""NETCONF simulator: SSH session, hello/capabilities, framing, get/get-config and subtree
filters, authentication and host keys, refused connections. Real ncclient/paramiko clients
over loopback SSH against a ``swim-sim fleet --transport netconf`` process."""
from __future__ import annotations

import socket

import paramiko
import pytest
from lxml import etree
from ncclient.operations import RPCError
from ncclient.transport.errors import AuthenticationError, SSHError

from swim_sim.netconf_framing import FrameReader, frame
from swim_sim.testing import HW_NS, SWM_NS

BBF_CAP = ("urn:bbf:yang:bbf-software-management?module=bbf-software-management&revision=2025-07-02"
           "&features=software-management-actions,download-target-selection-by-system")
FAULTS = {"devices": {
    "olt-001": {"alarms": {"fan-2": "major"}},
    "olt-002": {"netconf_framing": "1.0"},
    "olt-003": {"faults": ["no_swm_model"]},
    "olt-004": {"faults": ["unreachable"]},
    "olt-005": {"legacy_hello": True, "alarms": {"fan-2": "major"}},
}}


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    return sim_fleet_module(5, transport="netconf", faults=FAULTS)


def test_inventory_and_known_hosts(fleet):
    text = fleet.inventory.read_text()
    assert "ansible_connection: escalator.swim.netconf" in text
    import yaml

    hosts = yaml.safe_load(text)["all"]["children"]["swim_fleet"]["hosts"]
    info = fleet.fleet_json["netconf"]
    for device in fleet.devices:
        host = hosts[device["name"]]
        assert host["ansible_port"] == device["port"]
        assert host["ansible_user"] == "swim" and host["ansible_password"] == info["password"]
        assert host["swim_known_hosts_file"] == info["known_hosts_file"]
    lines = open(info["known_hosts_file"]).read().splitlines()
    # each device's own key; key types rsa, ecdsa, ed25519 in turn
    assert sorted(lines) == sorted(f"[127.0.0.1]:{d['port']} {d['host_key']}" for d in fleet.devices)
    assert [d["host_key_type"] for d in fleet.devices] == ["rsa", "ecdsa", "ed25519", "rsa", "ecdsa"]
    assert [d["host_key"].split()[0] for d in fleet.devices[:3]] == ["ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519"]
    assert info["host_key"] == fleet.devices[0]["host_key"]
    assert info["host_keys"] == {d["host_key_type"]: d["host_key"] for d in fleet.devices}


def test_hello_capabilities(fleet):
    with fleet.netconf("olt-001") as client:
        caps = client.capabilities
        for cap in ("urn:ietf:params:netconf:base:1.0", "urn:ietf:params:netconf:base:1.1",
                    "urn:ietf:params:netconf:capability:notification:1.0",
                    "urn:ietf:params:netconf:capability:interleave:1.0"):
            assert cap in caps
        # RFC 7950 §5.6.4: YANG 1.1 modules are only in the YANG library
        assert not any("bbf-software-management" in c or "ietf-hardware" in c for c in caps), caps
        assert any(c.startswith("urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04"
                                "&content-id=") for c in caps)
        assert client.m.session_id.isdigit()
    with fleet.netconf("olt-005") as client:  # legacy_hello: the old simulator's module list
        caps = client.capabilities
        assert BBF_CAP in caps, caps  # exactly the contract's string
        assert any(c.startswith(HW_NS + "?module=ietf-hardware") for c in caps)
        assert not any("yang-library" in c for c in caps)


def _raw_session(params, client_caps):
    """A hand-made NETCONF client on paramiko: returns (channel, server hello element, reader)."""
    ssh = paramiko.SSHClient()
    ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
    ssh.load_host_keys(params["known_hosts_file"])
    ssh.connect(params["host"], port=params["port"], username=params["username"], password=params["password"],
                look_for_keys=False, allow_agent=False, timeout=10)
    channel = ssh.get_transport().open_session()
    channel.settimeout(10)
    channel.invoke_subsystem("netconf")
    reader = FrameReader()

    def read_message():
        for _ in range(1000):
            messages = reader.feed(b"")
            if messages:
                return messages[0]
            data = channel.recv(65536)
            assert data, "session closed"
            messages = reader.feed(data)
            if messages:
                return messages[0]
        raise AssertionError("no complete message")

    hello = etree.fromstring(read_message())
    caps = "".join(f"<capability>{c}</capability>" for c in client_caps)
    channel.sendall(frame(f'<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>{caps}'
                          '</capabilities></hello>'.encode(), chunked=False))
    return ssh, channel, hello, reader, read_message


@pytest.mark.parametrize("device, client_caps, chunked", [
    ("olt-001", ["urn:ietf:params:netconf:base:1.0", "urn:ietf:params:netconf:base:1.1"], True),
    ("olt-001", ["urn:ietf:params:netconf:base:1.0"], False),
    ("olt-002", ["urn:ietf:params:netconf:base:1.0", "urn:ietf:params:netconf:base:1.1"], False),
])
def test_framing_negotiation_on_the_wire(fleet, device, client_caps, chunked):
    ssh, channel, hello, reader, read_message = _raw_session(fleet.netconf_params(device), client_caps)
    try:
        caps = [c.text for c in hello.iter("{urn:ietf:params:xml:ns:netconf:base:1.0}capability")]
        assert ("urn:ietf:params:netconf:base:1.1" in caps) is (device != "olt-002")
        if chunked:
            reader.switch_to_chunked()
        rpc = (b'<rpc message-id="7" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get><filter type="subtree">'
               b'<hardware xmlns="urn:ietf:params:xml:ns:yang:ietf-hardware"><component><name/></component>'
               b'</hardware></filter></get></rpc>')
        # a chunked message may be split into several chunks; the server must join them
        channel.sendall(frame(rpc, chunked, chunk_size=50) if chunked else frame(rpc, False))
        reply = read_message()
        if chunked:
            assert b"]]>]]>" not in reply
        root = etree.fromstring(reply)
        assert root.get("message-id") == "7"
        names = [n.text for n in root.iter(f"{{{HW_NS}}}name")]
        assert names[0] == "olt-board" and "nni-3-transceiver" in names
    finally:
        ssh.close()


def test_framing_1_0_device_works_with_ncclient(fleet):
    with fleet.netconf("olt-002") as client:
        assert "urn:ietf:params:netconf:base:1.1" not in client.capabilities
        revisions = client.revisions()
        assert revisions[0]["version"] == "1.0.0" and revisions[0]["is-active"] is True


def test_get_with_subtree_filters(fleet):
    with fleet.netconf("olt-001") as client:
        revisions = client.revisions()
        assert set(revisions) == {0, 1}
        assert revisions[0] | {"last-changed": None} == {
            "id": "0", "state": "in-use", "last-changed": None, "version": "1.0.0", "product-code": "swim-olt",
            "is-valid": True, "is-active": True, "is-committed": True}
        assert revisions[1]["state"] == "available" and revisions[1]["version"] == "0.9.0"
        assert revisions[1]["is-active"] is False and revisions[1]["is-committed"] is False

        # content match on the software name + selection of the version leaves only
        flt = (f'<hardware xmlns="{HW_NS}"><component><name>olt-board</name><software xmlns="{SWM_NS}"><software>'
               '<name>application-software</name><revisions><revision><id/><version/></revision></revisions>'
               '</software></software></component></hardware>')
        data = client.get(flt).data_ele
        versions = [v.text for v in data.iter(f"{{{SWM_NS}}}version")]
        assert versions == ["1.0.0", "0.9.0"]
        assert not list(data.iter(f"{{{SWM_NS}}}state"))
        assert not list(data.iter(f"{{{HW_NS}}}class"))
        # capability leaf-list
        caps = [c.text for c in client.get(
            f'<hardware xmlns="{HW_NS}"><component><software xmlns="{SWM_NS}"><software><capability/></software>'
            '</software></component></hardware>').data_ele.iter(f"{{{SWM_NS}}}capability")]
        for cap in ("bbf-swm:download-target-selection-by-system", "bbf-swm:validate", "bbf-swm:activate",
                    "bbf-swm:commit"):
            assert cap in caps
        # no such component / software: empty data
        for flt in (f'<hardware xmlns="{HW_NS}"><component><name>nope</name></component></hardware>',
                    f'<hardware xmlns="{HW_NS}"><component><software xmlns="{SWM_NS}"><software><name>nope</name>'
                    '</software></software></component></hardware>'):
            assert len(client.get(flt).data_ele) == 0
        # no filter: everything, including the hardware component (NMDA: its class only in operational)
        everything = client.get(None).data_ele
        assert everything.find(f".//{{{HW_NS}}}component/{{{HW_NS}}}name").text == "olt-board"
        assert everything.find(f".//{{{HW_NS}}}class") is None
        assert client.get_data(None).find(f".//{{{HW_NS}}}class").text == "ianahw:chassis"
    with fleet.netconf("olt-005") as client:  # legacy (non-NMDA): <get> has the class
        assert client.get(None).data_ele.find(f".//{{{HW_NS}}}class").text == "ianahw:chassis"


def test_hardware_inventory_matches_the_dmi_view(fleet):
    """ietf-hardware lists the same component tree as the DMI physical inventory (hardware.py),
    with alarms from the device spec and the temperature sensor."""
    from swim_sim.hardware import build_inventory

    for name, read in (("olt-001", lambda client, flt: client.get_data(flt)),  # NMDA: operational
                       ("olt-005", lambda client, flt: client.get(flt).data_ele)):  # legacy: <get>
        device = fleet.device(name)
        expected = [c.name for c in build_inventory(name, device["uuid"], "1.0.0").walk()]
        with fleet.netconf(name) as client:
            _check_hardware(read(client, f'<hardware xmlns="{HW_NS}"/>').find(f"{{{HW_NS}}}hardware"), expected)


def _check_hardware(hardware, expected):
    components = {c.findtext(f"{{{HW_NS}}}name"): c for c in hardware.findall(f"{{{HW_NS}}}component")}
    assert list(components) == ["olt-board", *expected[1:]]  # the chassis carries the software
    assert components["olt-board"].findtext(f"{{{HW_NS}}}software-rev") == "1.0.0"
    assert components["fan-2"].findtext(f"{{{HW_NS}}}state/{{{HW_NS}}}alarm-state") == "major"
    assert components["fan-1"].findtext(f"{{{HW_NS}}}state/{{{HW_NS}}}alarm-state") == ""
    assert components["nni-0-transceiver"].findtext(f"{{{HW_NS}}}parent") == "nni-0"
    assert components["nni-0-transceiver"].findtext(f"{{{HW_NS}}}class") == "ianahw:module"
    sensor = components["temperature-1"].find(f"{{{HW_NS}}}sensor-data")
    assert 40 <= int(sensor.findtext(f"{{{HW_NS}}}value")) <= 50
    assert sensor.findtext(f"{{{HW_NS}}}value-type") == "celsius"


def test_get_config_running(fleet):
    with fleet.netconf("olt-001") as client:  # NMDA: the components are system-learned, not configured
        assert len(client.m.get_config(source="running").data_ele) == 0
        assert len(client.get_data(None, datastore="running")) == 0
    with fleet.netconf("olt-005") as client:
        data = client.m.get_config(source="running").data_ele
        names = [n.text for n in data.iter(f"{{{HW_NS}}}name")]
        assert names[:3] == ["olt-board", "cpu", "fan-1"]
        assert not list(data.iter(f"{{{HW_NS}}}oper-state"))  # state data is not configuration
        assert not list(data.iter(f"{{{SWM_NS}}}software"))  # config false: not in get-config
        with pytest.raises(RPCError) as err:
            client.m.get_config(source="candidate")
        assert err.value.tag == "invalid-value"


def test_unknown_operation_and_kill_session(fleet):
    with fleet.netconf("olt-001") as first, fleet.netconf("olt-001") as second:
        with pytest.raises(RPCError) as err:
            first.m.lock(target="running")
        assert err.value.tag == "operation-not-supported"
        first.m.kill_session(second.m.session_id)
        with pytest.raises(Exception):
            for _ in range(20):  # bounded: the killed session fails at the next RPC
                second.revisions()
        assert first.revisions()[0]["version"] == "1.0.0"


def test_wrong_password_is_refused(fleet):
    with pytest.raises(AuthenticationError):
        fleet.netconf("olt-001", password="wrong-password")


def test_public_key_authentication(fleet):
    params = fleet.netconf_params("olt-001")
    with fleet.netconf("olt-001", key_filename=params["client_key_file"]) as client:
        assert client.revisions()[0]["is-active"] is True
    # a key the device does not know is refused
    other = fleet.workdir / "stranger_key"
    from swim_sim.ssh_keys import load_or_create_ed25519

    load_or_create_ed25519(other)
    with pytest.raises(AuthenticationError):
        fleet.netconf("olt-001", key_filename=str(other))


def test_wrong_host_key_is_refused(fleet, tmp_path):
    params = fleet.netconf_params("olt-001")
    from swim_sim.ssh_keys import load_or_create_ed25519, public_line

    rogue = load_or_create_ed25519(tmp_path / "rogue")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{params['port']} {public_line(rogue)}\n")
    with pytest.raises(SSHError):
        fleet.netconf("olt-001", known_hosts_file=str(known))
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(SSHError):
        fleet.netconf("olt-001", known_hosts_file=str(empty))


def test_device_without_the_swm_model(fleet):
    with fleet.netconf("olt-003") as client:
        assert not any("bbf-software-management" in c for c in client.capabilities)
        assert client.revisions() == {}
        with pytest.raises(RPCError) as err:
            client.activate(1)
        assert err.value.tag == "unknown-element"


def test_unreachable_device_refuses_connections(fleet):
    port = fleet.device("olt-004")["port"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
