"""NetconfDevice flows and error mapping over a scripted manager (canned XML, no server)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.escalator.swim.plugins.module_utils import netconf
from ansible_collections.escalator.swim.plugins.module_utils.device import Budget, DeviceError, ImageSpec

import netconf_xml as X

IMAGE = ImageSpec(name="swim-olt", version="2.0.0", url="http://user:s3cret@127.0.0.1/swim-olt-2.0.0.img",
                  sha256=X.SHA_NEW)


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(netconf.netconf_followers, "POLL_INTERVAL", 0.01)
    monkeypatch.setattr(netconf.netconf_followers, "SETTLE_TIME", 0.1)


class ScriptedDevice(netconf.NetconfDevice):
    """Each connection takes the next entry of ``sessions``: a ScriptedManager or a DeviceError to raise."""

    def __init__(self, sessions, **params):
        super().__init__({"device_name": "olt-001", "host": "127.0.0.1", "port": 830, "connect_timeout": 0.3,
                          **params})
        self.sessions = list(sessions)
        self.opened = []

    def _open_manager(self, operation):
        entry = self.sessions.pop(0) if len(self.sessions) > 1 else self.sessions[0]
        if isinstance(entry, DeviceError):
            raise entry
        entry.connected = True
        self.opened.append(entry)
        return entry


def refused():
    return DeviceError("olt-001", "x", "CONNECTION_REFUSED", "refused", transport="netconf", retryable=True)


def collect():
    events = []
    return events, events.append


def test_versions_and_model_check():
    device = ScriptedDevice([X.ScriptedManager([X.BEFORE])])
    versions = device.versions()
    assert versions.active_image.version == "1.0.0" and versions.standby_image.version == "0.9.0"
    assert device.framing == "1.1"
    bare = ScriptedDevice([X.ScriptedManager([X.BEFORE], capabilities=X.NO_MODEL_CAPABILITIES)])
    with pytest.raises(DeviceError) as info:
        bare.versions()
    assert info.value.reason == "MODEL_NOT_SUPPORTED" and not info.value.retryable
    assert info.value.msg.startswith("olt-001: GetSoftwareVersion over netconf failed: MODEL_NOT_SUPPORTED")
    assert "bbf-software-management" in info.value.msg and "ietf-hardware" in info.value.msg


def test_framing_1_0_when_the_device_offers_only_base_1_0():
    caps = [c for c in X.CAPABILITIES if not c.endswith("base:1.1")]
    device = ScriptedDevice([X.ScriptedManager([X.BEFORE], capabilities=caps)])
    device.versions()
    assert device.framing == "1.0"


def test_versions_ride_out_a_short_unreachability_only_with_retry():
    device = ScriptedDevice([refused(), X.ScriptedManager([X.BEFORE])])
    assert device.versions().active_image.version == "1.0.0"
    once = ScriptedDevice([refused(), X.ScriptedManager([X.BEFORE])])
    with pytest.raises(DeviceError) as info:
        once.versions(retry=False)
    assert info.value.retryable and info.value.reason == "CONNECTION_REFUSED"


def test_rpc_error_becomes_device_error_with_the_bbf_reason():
    manager = X.ScriptedManager([X.BEFORE], actions={"download": X.BUSY})
    device = ScriptedDevice([manager])
    with pytest.raises(DeviceError) as info:
        device.download(IMAGE, Budget(5), lambda e: None)
    error = info.value
    assert error.reason == "bbf-software-management:component-busy"
    assert error.msg == ("olt-001: DownloadImage over netconf failed: bbf-software-management:component-busy "
                         "(download action refused: another operation runs on olt-board; error-tag operation-failed)")


def test_ambiguous_software_needs_the_override():
    extra = "<software><name>boot-loader</name><revisions/></software>"
    reply = X.state_reply(X.revision(0, "in-use", "1.0.0", active=True), extra_software=extra)
    device = ScriptedDevice([X.ScriptedManager([reply])])
    with pytest.raises(DeviceError) as info:
        device.versions()
    assert info.value.reason == "AMBIGUOUS_SOFTWARE" and "swim_netconf_software" in info.value.msg
    chosen = ScriptedDevice([X.ScriptedManager([reply])], netconf_software="application-software")
    assert chosen.versions().active_image.version == "1.0.0"
    missing = ScriptedDevice([X.ScriptedManager([reply])], netconf_software="nope")
    with pytest.raises(DeviceError, match="NO_SOFTWARE"):
        missing.versions()


def test_download_follows_notifications_and_state_then_checks_the_hash():
    manager = X.ScriptedManager([X.BEFORE, X.DOWNLOADING, X.DOWNLOADED], actions={"download": X.DOWNLOAD_OUTPUT},
                                notifications=[X.REPLAY_COMPLETE, X.notification(1, "revision-downloaded")])
    device = ScriptedDevice([manager])
    events, on_status = collect()
    history = device.download(IMAGE, Budget(5, stall_timeout=2), on_status)
    assert history == events
    states = [e.state for e in history]
    assert states[0] == "COPYING_IMAGE" and states[-1] == "UPGRADE_COMPLETE"
    assert any("revision-downloaded" in e.description for e in history)
    assert "hash matches" in history[-1].description
    assert all("s3cret" not in e.description for e in history)
    assert manager.subscriptions == [None]  # live subscription, no replay on the first session
    download = next(xml for verb, xml in manager.sent if verb == "download")
    assert "s3cret" in download  # the device needs the credentials; only results are redacted


def test_download_hash_mismatch_is_wrong_image_checksum():
    manager = X.ScriptedManager([X.BEFORE, X.DOWNLOADED], actions={"download": X.DOWNLOAD_OUTPUT})
    device = ScriptedDevice([manager])
    bad = ImageSpec(name="swim-olt", version="2.0.0", url="http://127.0.0.1/i.img", sha256="d" * 64)
    with pytest.raises(DeviceError) as info:
        device.download(bad, Budget(5), lambda e: None)
    assert info.value.reason == "WRONG_IMAGE_CHECKSUM" and "incorrect-hash" in info.value.msg
    assert info.value.history[-1].state == "UPGRADE_FAILED"


def test_download_failure_notification_gives_the_error_tag():
    failed = X.notification(1, "download-revision-failed", tag="connection-reset-by-peer", message="peer reset")
    manager = X.ScriptedManager([X.BEFORE, X.DOWNLOAD_FAILED], actions={"download": X.DOWNLOAD_OUTPUT},
                                notifications=[failed])
    device = ScriptedDevice([manager])
    with pytest.raises(DeviceError) as info:
        device.download(IMAGE, Budget(5), lambda e: None)
    assert info.value.reason == "bbf-software-management:connection-reset-by-peer"
    assert "peer reset" in info.value.msg
    assert any(e.state == "UPGRADE_FAILED" and not e.ok for e in info.value.history)


def test_download_timeout_sends_abort_download():
    manager = X.ScriptedManager([X.BEFORE, X.DOWNLOADING], actions={"download": X.DOWNLOAD_OUTPUT})
    device = ScriptedDevice([manager])
    with pytest.raises(DeviceError) as info:
        device.download(IMAGE, Budget(0.3), lambda e: None)
    assert info.value.reason == "TIMEOUT"
    assert [verb for verb, _ in manager.sent if verb != "get"] == ["download", "abort-download"]


def test_download_refused_while_a_revision_downloads():
    device = ScriptedDevice([X.ScriptedManager([X.DOWNLOADING])])
    with pytest.raises(DeviceError, match="OPERATION_ALREADY_IN_PROGRESS"):
        device.download(IMAGE, Budget(5), lambda e: None)


def drop(manager):
    manager.connected = False


def test_activate_rides_the_restart_replays_notifications_and_commits():
    before = X.ScriptedManager([X.BEFORE.replace("0.9.0", "2.0.0")], on_action={"activate": drop})
    after = X.ScriptedManager([X.ACTIVE_NOT_COMMITTED, X.ACTIVE_NOT_COMMITTED, X.ACTIVE_COMMITTED],
                              notifications=[X.notification(1, "revision-activated", "activate"),
                                             X.notification(1, "revision-committed", "commit")])
    device = ScriptedDevice([before, refused(), refused(), after])
    events, on_status = collect()
    history = device.activate(Budget(10), on_status)
    states = [e.state for e in history]
    assert states[0] == "REBOOTING_DEVICE" and states[-1] == "ACTIVATION_COMPLETE"
    assert "COMMITTING_IMAGE" in states
    assert any("session closed" in e.description for e in history)
    assert any("revision-activated" in e.description for e in history)
    assert after.subscriptions and after.subscriptions[0] is not None  # replay with startTime after reconnect
    assert [verb for verb, _ in after.sent if verb != "get"] == ["commit"]
    assert "active and committed" in history[-1].description


def test_activate_without_commit_option():
    before = X.ScriptedManager([X.BEFORE.replace("0.9.0", "2.0.0")], on_action={"activate": drop})
    after = X.ScriptedManager([X.ACTIVE_NOT_COMMITTED])
    device = ScriptedDevice([before, after], netconf_commit=False)
    history = device.activate(Budget(10), lambda e: None)
    assert "NOT committed" in history[-1].description
    assert [verb for verb, _ in after.sent if verb != "get"] == []


def test_activate_failed_notification_reports_the_fallback():
    before = X.ScriptedManager([X.BEFORE.replace("0.9.0", "2.0.0")], on_action={"activate": drop})
    after = X.ScriptedManager([X.FELL_BACK], notifications=[
        X.notification(1, "activate-failed", "activate", tag="unexpected-error", message="sanity checks failed")])
    device = ScriptedDevice([before, refused(), after])
    with pytest.raises(DeviceError) as info:
        device.activate(Budget(10), lambda e: None)
    assert info.value.reason == "bbf-software-management:unexpected-error"
    assert "sanity checks failed" in info.value.msg and "revision 0 (swim-olt 1.0.0) is active" in info.value.msg
    assert info.value.history[0].state == "REBOOTING_DEVICE"


def test_activate_that_never_comes_back_times_out():
    before = X.ScriptedManager([X.BEFORE.replace("0.9.0", "2.0.0")], on_action={"activate": drop})
    device = ScriptedDevice([before, refused()])
    with pytest.raises(DeviceError) as info:
        device.activate(Budget(0.5), lambda e: None)
    assert info.value.reason == "TIMEOUT" and info.value.history


def test_revert_refuses_an_image_that_was_never_committed():
    device = ScriptedDevice([X.ScriptedManager([X.BEFORE])])
    with pytest.raises(DeviceError) as info:
        device.revert(Budget(5), lambda e: None)
    assert info.value.reason == "NOT_KNOWN_GOOD" and "has not run since it was downloaded" in info.value.msg


def test_rpc_timeout_and_session_loss_are_retryable():
    from ncclient.operations.errors import TimeoutExpiredError
    from ncclient.transport.errors import TransportError
    for exc, reason in ((TimeoutExpiredError("late"), "RPC_TIMEOUT"), (TransportError("gone"), "SESSION_CLOSED")):
        device = ScriptedDevice([X.ScriptedManager([exc])])
        with pytest.raises(DeviceError) as info:
            device.versions(retry=False)
        assert info.value.reason == reason and info.value.retryable


def test_connection_refused_on_a_closed_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    device = netconf.NetconfDevice({"device_name": "olt-009", "host": "127.0.0.1", "port": port,
                                    "connect_timeout": 0.2, "host_key_checking": False})
    with pytest.raises(DeviceError) as info:
        device.versions()
    assert info.value.reason == "CONNECTION_REFUSED" and info.value.retryable
    assert info.value.unreachable, "never answered this Device: Ansible's unreachable"
    assert info.value.msg.startswith("olt-009: GetSoftwareVersion over netconf failed: CONNECTION_REFUSED")
    device.session.connections = 1  # it answered once (then restarted and never came back): a failure
    with pytest.raises(DeviceError) as info:
        device.versions(retry=False)
    assert info.value.reason == "CONNECTION_REFUSED" and not info.value.unreachable


def test_unreadable_known_hosts_file_is_a_clear_error(tmp_path):
    device = netconf.NetconfDevice({"device_name": "olt-001", "host": "127.0.0.1", "port": 1,
                                    "known_hosts_file": str(tmp_path / "missing")})
    with pytest.raises(DeviceError) as info:
        device.versions()
    assert info.value.reason == "ERROR_IN_REQUEST" and "known_hosts file" in info.value.msg


def test_replay_refused_falls_back_to_a_live_subscription():
    class NoReplay(X.ScriptedManager):
        def create_subscription(self, stream_name=None, start_time=None, **_):
            self.subscriptions.append(start_time)
            if start_time is not None:
                return X.Reply(X.BUSY.replace("bbf-software-management:component-busy", "no-replay"))
            return X.Reply(X.OK)

    before = X.ScriptedManager([X.BEFORE.replace("0.9.0", "2.0.0")], on_action={"activate": drop})
    after = NoReplay([X.ACTIVE_COMMITTED])
    device = ScriptedDevice([before, after])
    history = device.activate(Budget(10), lambda e: None)
    assert history[-1].state == "ACTIVATION_COMPLETE"
    assert after.subscriptions[0] is not None and after.subscriptions[1] is None


HARDWARE = (f'<rpc-reply xmlns="{X.NC}"><data><hardware xmlns="{X.HW}" '
            'xmlns:ianahw="urn:ietf:params:xml:ns:yang:iana-hardware">'
            '<component><name>olt-board</name><class>ianahw:chassis</class><serial-num>S1</serial-num>'
            '<state><oper-state>enabled</oper-state><alarm-state>major minor</alarm-state></state></component>'
            '<component><name>psu-1</name><class>ianahw:power-supply</class><parent>olt-board</parent>'
            '<is-fru>true</is-fru></component>'
            '<component><name>temperature-1</name><class>ianahw:sensor</class><parent>olt-board</parent>'
            '<sensor-data><value-type>celsius</value-type><value>455</value><value-precision>1</value-precision>'
            '<units-display>C</units-display></sensor-data></component></hardware></data></rpc-reply>')


def test_inventory_and_health_from_ietf_hardware():
    manager = X.ScriptedManager([X.BEFORE, HARDWARE])
    device = ScriptedDevice([manager])
    device.versions()
    inventory = device.inventory()["components"]
    assert [(c["name"], c["class"], c["parent"], c["is_fru"]) for c in inventory] == [
        ("olt-board", "CHASSIS", "", False), ("psu-1", "POWER_SUPPLY", "olt-board", True),
        ("temperature-1", "SENSOR", "olt-board", False)]
    health = device.health()
    assert health == {"reachable": True, "oper_state": "enabled",
                      "alarms": [{"component": "olt-board", "severity": "major"}],
                      "sensors": {"temperature-1": {"value": 45.5, "units": "C"}}}
    assert sum(1 for verb, _ in manager.sent if verb == "get") == 2, "inventory and health share one read"
    assert device.startup_config() == {"config_url": "", "version": "", "exposed": False}


def test_download_image_downloads_again_over_a_standby_with_another_digest():
    """A corrupted transfer leaves a valid-looking standby: its reported digest differs, so it is not 'installed'."""
    from ansible_collections.escalator.swim.plugins.module_utils.ops import download_image
    from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext, execute

    corrupted = X.state_reply(
        X.revision(0, "in-use", "1.0.0", hash_="a" * 64, active=True, committed=True),
        X.revision(1, "available", "2.0.0", hash_="f" * 64, changed="2026-01-02T00:00:01Z",
                   downloaded="2026-01-02T00:00:01Z"))
    params = {"device_name": "olt-001", "host": "127.0.0.1", "transport": "netconf",
              **{k: v.get("default") for k, v in download_image.ARGUMENT_SPEC.items()},
              "name": "swim-olt", "version": "2.0.0", "url": "http://127.0.0.1/i.img"}
    for digest, changed in (("f" * 64, False), (X.SHA_NEW, True)):
        manager = X.ScriptedManager([corrupted, X.DOWNLOADED], actions={"download": X.DOWNLOAD_OUTPUT})
        context = OperationContext({**params, "sha256": digest}, check_mode=True,
                                   device_factory=lambda _p, m=manager: ScriptedDevice([m]))
        result = execute(download_image, context)
        assert result["changed"] is changed, result
        if not changed:
            assert "already installed" in result["msg"]


def test_revert_check_mode_says_what_netconf_does():
    from ansible_collections.escalator.swim.plugins.module_utils.ops import revert_image
    from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext, execute

    ran = X.state_reply(
        X.revision(0, "in-use", "1.0.0", active=True, committed=True, last_committed="2026-01-01T00:00:00Z"),
        X.revision(1, "available", "0.9.0", changed="2025-12-01T00:00:00Z", downloaded="2025-12-01T00:00:00Z",
                   last_activated="2025-12-02T00:00:00Z"))
    params = {"device_name": "olt-001", "host": "127.0.0.1", "transport": "netconf",
              **{k: v.get("default") for k, v in revert_image.ARGUMENT_SPEC.items()}}
    for commit, words in ((True, "then commit it"), (False, "without a commit (netconf_commit is false)")):
        manager = X.ScriptedManager([ran])
        context = OperationContext(params, check_mode=True,
                                   device_factory=lambda _p, m=manager: ScriptedDevice([m], netconf_commit=commit))
        result = execute(revert_image, context)
        assert result["changed"] is True and "would revert to" in result["msg"], result
        assert f"(activate the standby revision{' ' if not commit else ', '}{words}" in result["msg"], result["msg"]
        assert "no sanity checks" not in result["msg"]
        assert [verb for verb, _ in manager.sent if verb != "get"] == [], "check mode sends no action"


def test_activate_honours_stall_timeout_while_the_session_is_open():
    """A device that keeps its session but answers nothing (every read times out) is STALLED after
    stall_timeout; the restart itself (session closed by the device, connections refused) is excused."""
    from ncclient.operations.errors import TimeoutExpiredError
    standby_new = X.BEFORE.replace("0.9.0", "2.0.0")
    hung = X.ScriptedManager([standby_new, TimeoutExpiredError("late")])
    device = ScriptedDevice([hung, X.ScriptedManager([TimeoutExpiredError("late")])])
    with pytest.raises(DeviceError) as info:
        device.activate(Budget(5, stall_timeout=0.3), lambda e: None)
    assert info.value.reason == "STALLED" and "while its session was open" in info.value.msg

    restarting = X.ScriptedManager([standby_new], on_action={"activate": drop})
    device = ScriptedDevice([restarting, refused()])
    with pytest.raises(DeviceError) as info:
        device.activate(Budget(0.8, stall_timeout=0.2), lambda e: None)
    assert info.value.reason == "TIMEOUT", "no progress can come while the device restarts: timeout alone"
