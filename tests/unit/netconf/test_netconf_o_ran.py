"""O-RAN o-ran-software-management dialect on canned XML (no server): slots, two-step download, activate + reset."""

from __future__ import annotations

import pytest

from ansible_collections.escalator.swim.plugins.module_utils import netconf
from ansible_collections.escalator.swim.plugins.module_utils.device import Budget, DeviceError, ImageSpec
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects import select
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.base import parse, qn
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.o_ran_software_management import (
    ORanSoftwareManagement, split_credentials,
)

import netconf_xml as X
from test_netconf_device import ScriptedDevice, drop, fast  # noqa: F401 -- fixture

NS = "urn:o-ran:software-management:1.0"
CAPABILITIES = X.CAPABILITIES[:-1] + [f"{NS}?module=o-ran-software-management&revision=2024-04-15"]
DIALECT = ORanSoftwareManagement()
IMAGE = ImageSpec(name="VN-oru", version="1.1.0", url="sftp://swuser:s3cret@127.0.0.1:22/images/VN-oru-1.1.0.zip",
                  sha256="e" * 64)


def slot(name, version, status="VALID", active=False, running=False, access="READ_WRITE"):
    return (f"<software-slot><name>{name}</name><status>{status}</status><active>{str(active).lower()}</active>"
            f"<running>{str(running).lower()}</running><access>{access}</access><vendor-code>VN</vendor-code>"
            f"<build-name>VN-oru</build-name><build-version>{version}</build-version></software-slot>")


def inventory(*slots):
    return (f'<rpc-reply message-id="1" xmlns="{X.NC}"><data><software-inventory xmlns="{NS}">{"".join(slots)}'
            "</software-inventory></data></rpc-reply>")


RECOVERY = slot("swRecoverySlot", "0.1.0", access="READ_ONLY")
BEFORE = inventory(slot("swSlot1", "1.0.0", active=True, running=True), slot("swSlot2", "0.9.0"), RECOVERY)
INSTALLED = inventory(slot("swSlot1", "1.0.0", active=True, running=True), slot("swSlot2", "1.1.0"), RECOVERY)
BOOTS_NEXT = inventory(slot("swSlot1", "1.0.0", running=True), slot("swSlot2", "1.1.0", active=True), RECOVERY)
RUNNING = inventory(slot("swSlot1", "1.0.0"), slot("swSlot2", "1.1.0", active=True, running=True), RECOVERY)
STARTED = f'<rpc-reply message-id="2" xmlns="{X.NC}"><status xmlns="{NS}">STARTED</status></rpc-reply>'


def event(name, status, slot_name="", message=""):
    slot_leaf = f"<slot-name>{slot_name}</slot-name>" if slot_name else "<file-name>VN-oru-1.1.0.zip</file-name>"
    error = f"<error-message>{message}</error-message>" if message else ""
    return ('<notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">'
            f'<eventTime>2099-01-01T00:00:01Z</eventTime><{name} xmlns="{NS}">{slot_leaf}<status>{status}</status>'
            f"{error}</{name}></notification>")


def test_selected_by_capability_and_slots_mapped():
    assert isinstance(select(CAPABILITIES), ORanSoftwareManagement)
    (sw,) = DIALECT.parse_state(parse(BEFORE).find(qn(X.NC, "data")))
    assert [r.key for r in sw.revisions] == ["swSlot1", "swSlot2"], "the read-only recovery slot is not a standby"
    versions = netconf.split_versions(sw, DIALECT)
    assert versions.active_image.as_dict() == {"name": "VN-oru", "version": "1.0.0", "committed": True, "valid": True}
    assert versions.standby_image.version == "0.9.0"


def test_password_travels_apart_from_the_url():
    assert split_credentials(IMAGE.url) == ("sftp://swuser@127.0.0.1:22/images/VN-oru-1.1.0.zip", "s3cret")
    assert split_credentials("https://127.0.0.1/x.zip") == ("https://127.0.0.1/x.zip", "")
    (sw,) = DIALECT.parse_state(parse(BEFORE).find(qn(X.NC, "data")))
    rpc = DIALECT.download_action(sw, IMAGE.url, sw.revisions[1])
    ns = {"o": NS}
    assert rpc.xpath("/o:software-download/o:remote-file-path/text()", namespaces=ns) == [
        "sftp://swuser@127.0.0.1:22/images/VN-oru-1.1.0.zip"]
    assert rpc.xpath("/o:software-download/o:password/o:password/text()", namespaces=ns) == ["s3cret"]
    install = DIALECT.install_action(sw, "swSlot2")
    assert install.xpath("/o:software-install/o:slot-name/text()", namespaces=ns) == ["swSlot2"]
    assert install.xpath("/o:software-install/o:file-names/text()", namespaces=ns) == ["VN-oru-1.1.0.zip"]
    assert DIALECT.revision_action(sw, "swSlot2", "commit") is None


def test_events_carry_their_outcome():
    done = DIALECT.parse_notification(parse(event("download-event", "COMPLETED")))
    assert (done.kind, done.key, DIALECT.phase(done)) == ("download-event", "", "downloaded")
    failed = DIALECT.parse_notification(parse(event("install-event", "INTEGRITY_ERROR", "swSlot2", "bad signature")))
    assert (DIALECT.phase(failed), failed.error_tag, failed.message) == (
        "download-failed", "o-ran-software-management:INTEGRITY_ERROR", "bad signature")
    assert DIALECT.parse_notification(parse(X.notification(1, "revision-downloaded"))) is None
    refused = parse(f'<rpc-reply xmlns="{X.NC}"><status xmlns="{NS}">FAILED</status>'
                    f'<error-message xmlns="{NS}">no space</error-message></rpc-reply>')
    assert DIALECT.refused(refused) == ("o-ran-software-management:FAILED", "no space")
    assert DIALECT.refused(parse(STARTED)) is None


def test_download_then_install_into_the_standby_slot():
    manager = X.ScriptedManager([BEFORE, INSTALLED], capabilities=CAPABILITIES,
                                actions={"software-download": STARTED, "software-install": STARTED},
                                notifications=[event("download-event", "COMPLETED"),
                                               event("install-event", "COMPLETED", "swSlot2")])
    device = ScriptedDevice([manager])
    history = device.download(IMAGE, Budget(5), lambda e: None)
    assert [verb for verb, _ in manager.sent if verb != "get"] == ["software-download", "software-install"]
    assert history[-1].state == "UPGRADE_COMPLETE"
    assert all("s3cret" not in e.description for e in history)
    assert device.versions().standby_image.version == "1.1.0"


def test_install_failure_reports_the_o_ran_status():
    manager = X.ScriptedManager([BEFORE], capabilities=CAPABILITIES,
                                actions={"software-download": STARTED, "software-install": STARTED},
                                notifications=[event("download-event", "COMPLETED"),
                                               event("install-event", "INTEGRITY_ERROR", "swSlot2", "bad signature")])
    device = ScriptedDevice([manager])
    with pytest.raises(DeviceError) as info:
        device.download(IMAGE, Budget(3), lambda e: None)
    assert info.value.reason == "o-ran-software-management:INTEGRITY_ERROR" and "bad signature" in info.value.msg
    assert info.value.history[-1].state == "UPGRADE_FAILED"


def test_activate_then_reset_then_running():
    before = X.ScriptedManager([INSTALLED, BOOTS_NEXT], capabilities=CAPABILITIES,
                               actions={"software-activate": STARTED}, on_action={"reset": drop},
                               notifications=[event("activation-event", "COMPLETED", "swSlot2")])
    after = X.ScriptedManager([RUNNING], capabilities=CAPABILITIES)
    device = ScriptedDevice([before, after])
    history = device.activate(Budget(10), lambda e: None)
    assert [verb for verb, _ in before.sent if verb != "get"] == ["software-activate", "reset"]
    assert history[-1].state == "ACTIVATION_COMPLETE" and "NOT committed" not in history[-1].description
    assert [verb for verb, _ in after.sent if verb != "get"] == [], "O-RAN has no commit"
