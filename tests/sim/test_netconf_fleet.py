"""NETCONF simulator fleets: persistence across a simulator restart, mixed DMI/NETCONF fleets,
and a 200-device NETCONF fleet in one process."""
from __future__ import annotations

import re
import time
from pathlib import Path

import yaml
from sim_dmi_client import Dmi

SIZE = 128 * 1024


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def test_state_survives_a_simulator_restart(sim_fleet, image_server):
    from datetime import datetime, timezone

    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fleet = sim_fleet(2, transport="netconf")
    port = fleet.device("olt-001")["port"]
    host_key = fleet.fleet_json["netconf"]["host_key"]
    with fleet.netconf("olt-001") as client:
        client.subscribe()
        client.download(image.url)
        client.notifications(until="revision-downloaded")
    with fleet.netconf("olt-002") as client:
        client.subscribe()
        client.download(image.url)
        client.notifications(until="revision-downloaded")
        client.activate_and_wait_drop(1)  # activated, never committed
    with fleet.netconf_when_up("olt-002") as client:
        assert client.revisions()[1]["is-active"] is True

    fleet.restart()
    assert fleet.device("olt-001")["port"] == port  # same port, same host key: the inventory stays valid
    assert fleet.fleet_json["netconf"]["host_key"] == host_key
    with fleet.netconf("olt-001") as client:
        client.subscribe(start_time=since)  # the replay log is kept across the restart
        assert [n[:2] for n in client.notifications(until="replayComplete")] == [
            ("revision-downloaded", 1), ("replayComplete", None)]
        rev = client.revisions()[1]
        assert (rev["state"], rev["version"], rev["hash"]) == ("available", "2.0.0", image.sha256)
        assert rev["url"] == image.url and rev["download-completed"]
    with fleet.netconf("olt-002") as client:
        revs = client.revisions()
        # a restart while active != committed boots the committed revision
        assert revs[0]["is-active"] is True and revs[0]["is-committed"] is True and revs[0]["version"] == "1.0.0"
        assert revs[1]["is-active"] is False and revs[1]["state"] == "available" and revs[1]["version"] == "2.0.0"


def test_mixed_fleet_start_and_stop(sim_fleet):
    faults = {"devices": {"olt-001": {"transport": "netconf"}}}
    fleet = sim_fleet(5, transport="mixed", faults=faults, groups=["east", "west"])
    transports = {d["name"]: d["transport"] for d in fleet.devices}
    # mixed alternates dmi, netconf, ...; a device's transport key wins
    assert transports == {"olt-001": "netconf", "olt-002": "netconf", "olt-003": "dmi", "olt-004": "netconf",
                          "olt-005": "dmi"}
    assert "NETCONF/SSH port(s)" in fleet.ready_message and "device manager port(s)" in fleet.ready_message
    doc = yaml.safe_load(fleet.inventory.read_text())
    hosts = {name: hv for group in doc["all"]["children"]["swim_fleet"]["children"].values()
             for name, hv in group["hosts"].items()}
    assert set(hosts) == set(transports)
    for name, hv in hosts.items():
        assert hv["ansible_connection"] == f"escalator.swim.{transports[name]}" and hv["ansible_port"] == fleet.device(name)["port"]
        assert ("swim_known_hosts_file" in hv) is (transports[name] == "netconf")
    with Dmi(fleet.device("olt-003")) as dmi:
        assert dmi.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "0.9.0")])
    client = fleet.netconf("olt-004")
    assert client.revisions()[0]["version"] == "1.0.0"
    # stopping with a NETCONF session still open is clean and drops the session
    assert fleet.stop() == 0
    deadline = time.monotonic() + 10
    while client.m.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.m.connected


def test_netconf_fleet_of_200(sim_fleet):
    started = time.monotonic()
    fleet = sim_fleet(200, transport="netconf")
    wall = time.monotonic() - started
    ready = re.search(r"start ([\d.]+)s, rss (\d+) MB", fleet.ready_message)
    print(f"\n200-device NETCONF fleet: ready after {wall:.2f}s wall (in-process start {ready.group(1)}s, "
          f"RSS {ready.group(2)} MB)")
    assert wall < 60
    assert len({d["port"] for d in fleet.devices}) == 200
    assert len(Path(fleet.fleet_json["netconf"]["known_hosts_file"]).read_text().splitlines()) == 200
    # one accept thread for all listening sockets: few threads while idle
    idle_threads = _threads(fleet.pid)
    assert idle_threads < 20, idle_threads
    for name in ("olt-001", "olt-100", "olt-200"):
        with fleet.netconf(name) as client:
            assert client.revisions()[0]["version"] == "1.0.0"


def test_concurrent_upgrades_of_ten_devices(sim_fleet, image_server):
    """Ten clients upgrade ten devices of one process at the same time (download, activate, reconnect,
    replay, commit): sessions, notifications and reboots of different devices do not interfere."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime, timezone

    image = image_server.make_image("swim-olt", "3.0.0", size=SIZE)
    fleet = sim_fleet(10, transport="netconf")

    def upgrade(name):
        since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with fleet.netconf(name) as client:
            client.subscribe()
            target = client.download(image.url)
            assert client.notifications(until="revision-downloaded")[-1][:2] == ("revision-downloaded", target)
            client.activate_and_wait_drop(target)
        with fleet.netconf_when_up(name, timeout=30) as client:
            client.subscribe(start_time=since)
            names = [n[0] for n in client.notifications(until="replayComplete")]
            assert names == ["revision-downloaded", "revision-activated", "replayComplete"], names
            client.commit(target)
            client.notifications(until="revision-committed")
            revs = client.revisions()
            return revs[target]["version"], revs[target]["is-active"], revs[target]["is-committed"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(upgrade, [d["name"] for d in fleet.devices]))
    assert results == [("3.0.0", True, True)] * 10
    assert sorted(r["device"] for r in fleet.reboots()) == sorted(d["name"] for d in fleet.devices)
