"""Pre-standard dialect bbf-software-image-management-one-dot-one on canned XML (no server)."""

from __future__ import annotations

import pytest

from ansible_collections.escalator.swim.plugins.module_utils import netconf
from ansible_collections.escalator.swim.plugins.module_utils.device import Budget, DeviceError, ImageSpec
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects import select
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.base import parse, qn
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.bbf_software_image_management_one_dot_one import (  # noqa: E501
    BbfSoftwareImageManagementOneDotOne, image_name,
)

import netconf_xml as X
from test_netconf_device import ScriptedDevice, drop, fast  # noqa: F401 -- fixture

NS = "urn:bbf:yang:bbf-software-image-management-one-dot-one"
CAPABILITIES = X.CAPABILITIES[:-1] + [f"{NS}?module=bbf-software-image-management-one-dot-one&revision=2020-11-05"]
DIALECT = BbfSoftwareImageManagementOneDotOne()
IMAGE = ImageSpec(name="L6GQAG", version="2209.421", url="sftp://u:pw@127.0.0.1/images/L6GQAG2209.421",
                  sha256="e" * 64)


def rev(name, version, valid=True, active=False, committed=False, stamp="2026-01-01T00:00:00Z"):
    return (f"<revision><name>{name}</name><download-timestamp>{stamp}</download-timestamp>"
            f"<version>{version}</version><is-valid>{str(valid).lower()}</is-valid>"
            f"<is-active>{str(active).lower()}</is-active><is-committed>{str(committed).lower()}</is-committed>"
            "</revision>")


def state(*revisions, current="idle", last="successful", last_name="L6GQAG2209.420", failure="",
          stamp="2099-01-01T00:00:00Z"):
    fail = (f'<failure><failure-reason xmlns:sim="{NS}">sim:{failure}</failure-reason>'
            f"<failure-string>could not fetch</failure-string></failure>") if failure else ""
    return (f'<rpc-reply message-id="1" xmlns="{X.NC}"><data>'
            f'<hardware-state xmlns="{X.HW}"><component><name>Chassis</name>'
            f'<software xmlns="{NS}"><software><name>application_software</name>'
            f"<download><current-state><state>{current}</state></current-state>"
            f"<last-download-state><state>{last}</state>{fail}<timestamp>{stamp}</timestamp>"
            f"<software-name>{last_name}</software-name></last-download-state></download>"
            f'<revisions>{"".join(revisions)}</revisions></software></software></component></hardware-state>'
            "</data></rpc-reply>")


OLD = rev("L6GQAG2209.420", "2209.420", active=True, committed=True)
STANDBY = rev("L6GQAG2209.419", "2209.419")
NEW = rev("L6GQAG2209.421", "2209.421", stamp="2099-01-01T00:00:00Z")
BEFORE = state(OLD, STANDBY)
RUNNING = state(OLD, STANDBY, current="in-progress")
DONE = state(OLD, NEW, last_name="L6GQAG2209.421")
FAILED = state(OLD, STANDBY, last="failed", last_name="L6GQAG2209.421", failure="file-not-found")
SWITCHED = state(rev("L6GQAG2209.420", "2209.420", committed=True),
                 rev("L6GQAG2209.421", "2209.421", active=True, stamp="2099-01-01T00:00:00Z"),
                 last_name="L6GQAG2209.421")
COMMITTED = state(rev("L6GQAG2209.420", "2209.420"),
                  rev("L6GQAG2209.421", "2209.421", active=True, committed=True, stamp="2099-01-01T00:00:00Z"),
                  last_name="L6GQAG2209.421")


def notification(body):
    return ('<notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">'
            f'<eventTime>2099-01-01T00:00:01Z</eventTime><hardware-state xmlns="{X.HW}"><component><name>Chassis</name>'
            f'<software xmlns="{NS}"><software><name>application_software</name>{body}</software></software>'
            "</component></hardware-state></notification>")


DOWNLOADED = notification("<download><software-downloaded><name>L6GQAG2209.421</name></software-downloaded></download>")
ACTIVATED = notification("<revisions><revision><name>L6GQAG2209.421</name><activate-revision><revision-activated/>"
                         "</activate-revision></revision></revisions>")


def software(reply):
    (found,) = DIALECT.parse_state(parse(reply).find(qn(X.NC, "data")))
    return found


def test_selected_by_its_capability_after_the_standard():
    assert isinstance(select(CAPABILITIES), BbfSoftwareImageManagementOneDotOne)
    both = X.CAPABILITIES + CAPABILITIES[-1:]
    assert select(both).module == "bbf-software-management"


@pytest.mark.parametrize("revision_name, version, expected", [
    ("L6GQAG2209.420", "2209.420", "L6GQAG"),
    ("swim-olt-2.0.0.img", "2.0.0", "swim-olt"),
    ("firmware.bin", "7", "firmware"),
    ("2.0.0", "2.0.0", "2.0.0"),
])
def test_image_name_from_the_revision_name(revision_name, version, expected):
    assert image_name(revision_name, version) == expected


def test_parse_state_and_versions():
    sw = software(BEFORE)
    assert (sw.component, sw.name, sw.busy) == ("Chassis", "application_software", False)
    assert [r.key for r in sw.revisions] == ["L6GQAG2209.420", "L6GQAG2209.419"]
    assert sw.last_download.result == "successful"
    versions = netconf.split_versions(sw, DIALECT)
    assert versions.active_image.name == "L6GQAG" and versions.active_image.version == "2209.420"
    assert versions.standby_image.version == "2209.419"
    assert software(RUNNING).busy
    failed = software(FAILED).last_download
    assert (failed.key, failed.result, failed.error_tag, failed.message) == (
        "L6GQAG2209.421", "failed", "bbf-software-image-management-one-dot-one:file-not-found", "could not fetch")


def test_actions():
    sw = software(BEFORE)
    ns = {"s": NS, "hw": X.HW}
    download = DIALECT.download_action(sw, IMAGE.url, None)
    assert download.xpath("hw:hardware-state/hw:component/hw:name/text()", namespaces=ns) == ["Chassis"]
    assert download.xpath("//s:download/s:download-software/s:url/text()", namespaces=ns) == [IMAGE.url]
    assert download.xpath("//s:download/s:download-software/s:name/text()", namespaces=ns) == ["L6GQAG2209.421"]
    activate = DIALECT.revision_action(sw, "L6GQAG2209.421", "activate")
    assert activate.xpath("//s:revision[s:name='L6GQAG2209.421']/s:activate-revision/s:activate", namespaces=ns)
    commit = DIALECT.revision_action(sw, "L6GQAG2209.421", "commit")
    assert commit.xpath("//s:revision/s:commit-revision/s:commit", namespaces=ns)
    abort = DIALECT.revision_action(sw, "L6GQAG2209.421", "abort-download")
    assert abort.xpath("//s:download/s:abort-download/s:name/text()", namespaces=ns) == ["L6GQAG2209.421"]
    refused = parse(f'<rpc-reply xmlns="{X.NC}"><failure-reason xmlns="{NS}" xmlns:x="{NS}">x:general-error'
                    f'</failure-reason><failure-string xmlns="{NS}">disk full</failure-string></rpc-reply>')
    assert DIALECT.refused(refused) == ("bbf-software-image-management-one-dot-one:general-error",
                                                 "disk full")
    assert DIALECT.refused(parse(X.OK)) is None


def test_notifications():
    done = DIALECT.parse_notification(parse(DOWNLOADED))
    assert (done.kind, done.key, done.component) == ("software-downloaded", "L6GQAG2209.421", "Chassis")
    activated = DIALECT.parse_notification(parse(ACTIVATED))
    assert (activated.kind, activated.key) == ("revision-activated", "L6GQAG2209.421")
    failed = DIALECT.parse_notification(parse(notification(
        f'<download><download-software-failed><name>x.img</name><failure-reason xmlns:p="{NS}">p:general-error'
        "</failure-reason><failure-string>boom</failure-string></download-software-failed></download>")))
    assert (failed.kind, failed.key, failed.message) == ("download-software-failed", "x.img", "boom")
    assert failed.error_tag == "bbf-software-image-management-one-dot-one:general-error"
    assert DIALECT.parse_notification(parse(X.notification(1, "revision-downloaded"))) is None


def test_download_without_revision_state_waits_for_the_end():
    manager = X.ScriptedManager([BEFORE, BEFORE, RUNNING, RUNNING, DONE], capabilities=CAPABILITIES,
                                notifications=[DOWNLOADED])
    device = ScriptedDevice([manager])
    history = device.download(IMAGE, Budget(5), lambda e: None)
    assert history[-1].state == "UPGRADE_COMPLETE" and "no hash" in history[-1].description
    assert any("software-downloaded" in e.description for e in history)
    assert device.versions().standby_image.version == "2209.421"


def test_download_failure_recorded_per_software():
    manager = X.ScriptedManager([BEFORE, RUNNING, FAILED], capabilities=CAPABILITIES)
    device = ScriptedDevice([manager])
    with pytest.raises(DeviceError) as info:
        device.download(IMAGE, Budget(5), lambda e: None)
    assert info.value.reason == "bbf-software-image-management-one-dot-one:file-not-found"
    assert "could not fetch" in info.value.msg


def test_activate_and_commit_by_revision_name():
    ready = state(OLD, NEW, last_name="L6GQAG2209.421")
    before = X.ScriptedManager([ready], capabilities=CAPABILITIES, on_action={"activate": drop})
    after = X.ScriptedManager([SWITCHED, SWITCHED, COMMITTED], capabilities=CAPABILITIES, notifications=[ACTIVATED])
    device = ScriptedDevice([before, after])
    history = device.activate(Budget(10), lambda e: None)
    assert history[-1].state == "ACTIVATION_COMPLETE"
    commit = [xml for verb, xml in after.sent if verb == "commit"]
    assert len(commit) == 1 and "<name>L6GQAG2209.421</name>" in commit[0] and "commit-revision" in commit[0]
