"""NETCONF simulator: bbf-software-management download / activate / commit / abort over real
ncclient sessions, nested notifications (live and replayed), and every fault of the spec."""
from __future__ import annotations

import socket
import time
from datetime import datetime, timezone

import pytest
from ncclient.operations import RPCError

from swim_sim.testing import HW_NS, SWM_NS

SIZE = 256 * 1024
APP = "bbf-software-management:"
FAULTS = {"devices": {
    "olt-002": {"faults": ["download_drop"]},
    "olt-003": {"faults": ["invalid_image"]},
    "olt-004": {"faults": ["checksum_corruption"]},
    "olt-005": {"faults": ["activation_sanity_failure"]},
    "olt-006": {"faults": ["busy"]},
    "olt-007": {"faults": ["never_returns"]},
    "olt-008": {"download_target_selection": ["by-system", "by-user"]},
    "olt-009": {"timings": {"download_rate": 32 * 1024}},
    "olt-010": {"faults": [{"flapping": {"flaps": 1, "up_time": 0.6, "down_time": 0.6}}]},
}}


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    return sim_fleet_module(10, transport="netconf", faults=FAULTS)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def becomes_refused(port: int, timeout: float = 2.0) -> bool:
    """The port refuses connections within ``timeout`` (the listener closes just after the sessions drop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if refused(port):
            return True
        time.sleep(0.01)
    return False


def test_download_activate_commit(fleet, auth_image_server):
    image = auth_image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    assert "swim:s3cret@" in image.url
    since = now_iso()
    with fleet.netconf("olt-001") as client:
        client.subscribe()
        target = client.download(image.url)
        assert target == 1
        notes = client.notifications(until="revision-downloaded")
        assert notes[-1] == ("revision-downloaded", 1, None, None)
        rev = client.revisions()[1]
        assert rev["state"] == "available" and rev["is-valid"] is True
        assert (rev["version"], rev["product-code"], rev["hash"]) == ("2.0.0", "swim-olt", image.sha256)
        assert rev["url"] == auth_image_server.url_for(image.filename, credentials=False)  # userinfo stripped
        assert rev["download-completed"]

        # the device reboots: the session drops and the port refuses connections for a while
        client.activate_and_wait_drop(1)
    assert becomes_refused(fleet.device("olt-001")["port"])

    with fleet.netconf_when_up("olt-001") as client:
        client.subscribe(start_time=since)  # replay what happened while we were away
        names = [n[0] for n in client.notifications(until="replayComplete", timeout=10)]
        assert names == ["revision-downloaded", "revision-activated", "replayComplete"]
        revs = client.revisions()
        assert revs[1]["is-active"] is True and revs[1]["is-committed"] is False and revs[1]["state"] == "in-use"
        assert revs[0]["is-active"] is False and revs[0]["is-committed"] is True and revs[0]["state"] == "in-use"
        assert revs[1]["last-activated"]
        # nothing can be downloaded while both revisions are in use
        with pytest.raises(RPCError) as err:
            client.download(image.url)
        assert err.value.to_dict()["app_tag"] == APP + "cannot-overwrite-revision"

        client.commit(1)
        assert client.notifications(until="revision-committed", timeout=10)[-1] == ("revision-committed", 1, None, None)
        revs = client.revisions()
        assert revs[1]["is-committed"] is True and revs[0]["is-committed"] is False
        assert revs[0]["state"] == "available" and revs[0]["version"] == "1.0.0"
    state = fleet.state("olt-001")
    assert state["partitions"]["active"]["version"] == "2.0.0" and state["slots"]["active_slot"] == 1
    kinds = [r["kind"] for r in fleet.reboots() if r["device"] == "olt-001"]
    assert kinds == ["activate"]


@pytest.mark.parametrize("name, tag", [("olt-002", "connection-reset-by-peer"), ("olt-003", "unsupported-format")])
def test_download_faults_report_bbf_tags(fleet, image_server, name, tag):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with fleet.netconf(name) as client:
        client.subscribe()
        assert client.download(image.url) == 1
        note = client.notifications(until="download-revision-failed")[-1]
        assert note[:3] == ("download-revision-failed", 1, f"bbf-swm:{tag}")
        assert note[3]
        rev = client.revisions()[1]
        assert rev["state"] == "not-available" and rev["is-valid"] is False


def test_checksum_corruption_shows_a_different_hash(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with fleet.netconf("olt-004") as client:
        client.subscribe()
        client.download(image.url)
        assert client.notifications(until="revision-downloaded")[-1][0] == "revision-downloaded"
        rev = client.revisions()[1]
        assert rev["version"] == "2.0.0" and len(rev["hash"]) == 64 and rev["hash"] != image.sha256


def test_download_errors_of_the_request(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    (image_server.dir / "junk.img").write_bytes(b"this is not an image\n" * 100)
    with fleet.netconf("olt-008") as client:
        client.subscribe()
        # 404 and a file without an image header
        client.download(image_server.url_for("missing.img"))
        assert client.notifications(until="download-revision-failed")[-1][2] == "bbf-swm:file-not-found"
        client.download(image_server.url_for("junk.img"))
        assert client.notifications(until="download-revision-failed")[-1][2] == "bbf-swm:revision-corrupt"
        # unsupported scheme: refused synchronously, nothing changes
        with pytest.raises(RPCError) as err:
            client.download("ftp://127.0.0.1/x.img")
        assert err.value.to_dict()["app_tag"] == APP + "protocol-not-supported-by-peer"
        # the committed/active revision cannot be the target
        with pytest.raises(RPCError) as err:
            client.download(image.url, user_replace_id=0)
        assert err.value.to_dict()["app_tag"] == APP + "cannot-overwrite-revision"
        client.download(image.url, user_replace_id=1)
        assert client.notifications(until="revision-downloaded")[-1][:2] == ("revision-downloaded", 1)
        # not-available-only=true does not overwrite an available revision
        with pytest.raises(RPCError) as err:
            client.download(image.url, not_available_only=True)
        assert err.value.to_dict()["app_tag"] == APP + "cannot-overwrite-revision"
        # a second download while one runs is refused (component-busy)
        slow = image_server.make_image("swim-olt", "2.1.0", size=4 * 1024 * 1024)
        client.download(slow.url)
        assert client.revisions()[1]["state"] == "downloading"
        with pytest.raises(RPCError) as err:
            client.download(image.url)
        assert err.value.to_dict()["app_tag"] == APP + "component-busy"
        assert client.notifications(until="revision-downloaded")[-1][:2] == ("revision-downloaded", 1)
        # activate on a missing revision id
        with pytest.raises(RPCError) as err:
            client.activate(7)
        assert err.value.tag == "data-missing"


def test_target_selection_follows_the_announced_features(fleet, image_server):
    """selected-by-user is if-feature download-target-selection-by-user: a device announcing only by-system
    (the default) has no such case in its schema; one announcing both accepts it."""
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with fleet.netconf("olt-001") as client:
        caps = client.get(f'<hardware xmlns="{HW_NS}"><component><software xmlns="{SWM_NS}"><software>'
                          '<capability/></software></software></component></hardware>').data_ele
        values = [c.text for c in caps.iter(f"{{{SWM_NS}}}capability")]
        assert "bbf-swm:download-target-selection-by-system" in values
        assert "bbf-swm:download-target-selection-by-user" not in values
        before = client.revisions()
        with pytest.raises(RPCError) as err:
            client.download(image.url, user_replace_id=1)
        assert err.value.tag == "unknown-element" and "download-target-selection-by-user" in err.value.message
        assert client.revisions() == before  # nothing changed
    with fleet.netconf("olt-008") as client:
        caps = client.get(f'<hardware xmlns="{HW_NS}"><component><software xmlns="{SWM_NS}"><software>'
                          '<capability/></software></software></component></hardware>').data_ele
        values = [c.text for c in caps.iter(f"{{{SWM_NS}}}capability")]
        assert values[:2] == ["bbf-swm:download-target-selection-by-system",
                              "bbf-swm:download-target-selection-by-user"]


def test_abort_download(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with fleet.netconf("olt-009") as client:
        client.subscribe()
        client.download(image.url)
        assert client.revisions()[1]["state"] == "downloading"
        client.abort_download(1)
        assert client.notifications(until="download-revision-aborted")[-1][:2] == ("download-revision-aborted", 1)
        rev = client.revisions()[1]
        assert rev["state"] == "not-available" and rev["is-valid"] is False
        with pytest.raises(RPCError) as err:
            client.abort_download(1)
        assert err.value.tag == "data-missing"


def test_activation_sanity_failure_falls_back(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    since = now_iso()
    with fleet.netconf("olt-005") as client:
        client.subscribe()
        client.download(image.url)
        client.notifications(until="revision-downloaded")
        client.activate_and_wait_drop(1)
    with fleet.netconf_when_up("olt-005") as client:
        client.subscribe(start_time=since)
        notes = client.notifications(until="replayComplete", timeout=10)
        failed = [n for n in notes if n[0] == "activate-failed"]
        assert failed and failed[0][:3] == ("activate-failed", 1, "bbf-swm:unexpected-error")
        assert "sanity checks failed" in failed[0][3]
        revs = client.revisions()
        assert revs[0]["is-active"] is True and revs[0]["is-committed"] is True and revs[0]["version"] == "1.0.0"
        assert revs[1]["is-valid"] is False and revs[1]["state"] == "not-available" and revs[1]["is-active"] is False
    kinds = [r["kind"] for r in fleet.reboots() if r["device"] == "olt-005"]
    assert kinds == ["activate", "fallback"]


def test_busy_device_refuses_actions(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with fleet.netconf("olt-006") as client:
        for call in (lambda: client.download(image.url), lambda: client.activate(1), lambda: client.commit(1)):
            with pytest.raises(RPCError) as err:
                call()
            error = err.value.to_dict()
            assert error["app_tag"] == APP + "component-busy" and error["tag"] == "operation-failed"
            assert "in progress" in error["message"]
        assert client.revisions()[1]["version"] == "0.9.0"  # nothing changed


def test_never_returns_after_activate(fleet):
    port = fleet.device("olt-007")["port"]
    with fleet.netconf("olt-007") as client:
        client.activate_and_wait_drop(1)  # the preset standby 0.9.0 is valid
    assert becomes_refused(port)
    deadline = time.monotonic() + 1.5
    checks = 0
    while time.monotonic() < deadline:
        assert refused(port)
        checks += 1
        time.sleep(0.1)
    assert checks >= 5


def test_flapping_device_comes_back(fleet):
    """During the reboot the port opens for up_time and closes again (one flap), then stays open."""
    port = fleet.device("olt-010")["port"]
    with fleet.netconf("olt-010") as client:
        client.activate_and_wait_drop(1)
    assert becomes_refused(port)
    timeline = []
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        state = "refused" if refused(port) else "open"
        if not timeline or timeline[-1] != state:
            timeline.append(state)
        time.sleep(0.02)
    assert timeline[-1] == "open"
    assert timeline[:4] == ["refused", "open", "refused", "open"], timeline
    with fleet.netconf("olt-010") as client:
        revs = client.revisions()
        assert revs[1]["is-active"] is True and revs[1]["is-committed"] is False
