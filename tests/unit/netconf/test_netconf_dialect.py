"""bbf-software-management dialect: parsing replies/notifications and building actions, on canned XML."""

from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.escalator.swim.plugins.module_utils import netconf
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects import select, supported_modules
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.base import parse, qn, rpc_errors
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.bbf_software_management import (
    BbfSoftwareManagement,
)

import netconf_xml as X

DIALECT = BbfSoftwareManagement()


def software(reply):
    data = parse(reply).find(qn(X.NC, "data"))
    found = DIALECT.parse_state(data)
    assert len(found) == 1
    return found[0]


def test_select_by_hello_capability():
    assert isinstance(select(X.CAPABILITIES), BbfSoftwareManagement)
    assert select(X.NO_MODEL_CAPABILITIES) is None
    # a device that names the module only in the query part still matches
    assert select(["urn:example:swm?module=bbf-software-management&revision=2022-03-01"]) is not None
    assert "bbf-software-management" in supported_modules()


def test_parse_state_reads_every_leaf():
    sw = software(X.DOWNLOADED)
    assert (sw.component, sw.name, sw.max_revisions) == ("olt-board", "application-software", 2)
    assert sw.capabilities == {"download-target-selection-by-system", "validate", "activate", "commit"}
    rev0, rev1 = sw.revisions
    assert (rev0.key, rev0.state, rev0.version, rev0.product_code) == ("0", "in-use", "1.0.0", "swim-olt")
    assert (rev0.active, rev0.committed, rev0.valid, rev0.last_committed) == (True, True, True, "2026-01-01T00:00:00Z")
    assert (rev1.key, rev1.state, rev1.hash, rev1.url) == ("1", "available", X.SHA_NEW,
                                                           "http://127.0.0.1/images/swim-olt-2.0.0.img")
    assert (rev1.active, rev1.committed, rev1.last_committed) == (False, False, "")


def test_versions_map_onto_active_and_standby():
    versions = netconf.split_versions(software(X.BEFORE), DIALECT)
    assert versions.as_dict() == {
        "active": [{"name": "swim-olt", "version": "1.0.0", "committed": True, "valid": True, "sha256": "a" * 64}],
        # downloaded and never activated since: not a known good image
        "standby": [{"name": "swim-olt", "version": "0.9.0", "committed": False, "valid": True,
                     "sha256": "c" * 64}],
    }
    after = netconf.split_versions(software(X.ACTIVE_COMMITTED), DIALECT)
    assert after.active_image.version == "2.0.0" and after.active_image.committed is True
    # the previous image was committed before: known good, so revert_image may boot it
    assert after.standby_image.version == "1.0.0" and after.standby_image.committed is True


def test_empty_and_downloading_slots_are_not_standby_images():
    versions = netconf.split_versions(software(X.DOWNLOADING), DIALECT)
    assert versions.standby == ()
    failed = netconf.split_versions(software(X.FELL_BACK), DIALECT)
    assert failed.standby_image.valid is False


def test_known_good_is_unknown_when_the_device_reports_no_timestamps():
    reply = X.state_reply(X.revision(0, "in-use", "1.0.0", active=True, committed=True),
                          X.revision(1, "available", "0.9.0"))
    sw = software(reply)
    assert netconf.known_good(sw.revisions[1]) is None


@pytest.mark.parametrize("downloaded, activated, committed, expected", [
    ("2026-01-02T00:00:00Z", "", "", False),  # fresh download, never ran
    ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "", False),  # ran before the slot was written again
    ("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "", True),  # activated after its download
    ("2026-01-02T00:00:00Z", "", "2026-01-03T00:00:00Z", True),
    ("", "2026-01-01T00:00:00Z", "", True),  # factory image that has run
])
def test_known_good_standby(downloaded, activated, committed, expected):
    reply = X.state_reply(X.revision(0, "in-use", "1.0.0", active=True, committed=True),
                          X.revision(1, "available", "0.9.0", downloaded=downloaded, last_activated=activated,
                                     last_committed=committed))
    assert netconf.known_good(software(reply).revisions[1]) is expected


def test_active_revision_falls_back_to_in_use_without_activate_capability():
    reply = X.state_reply(X.revision(0, "in-use", "1.0.0"), X.revision(1, "available", "0.9.0"),
                          capabilities=("download-target-selection-by-system",))
    sw = software(reply)
    assert DIALECT.active_revision(sw).key == "0"


def test_download_action_selected_by_system():
    sw = software(X.BEFORE)
    element = DIALECT.download_action(sw, "http://u:p@127.0.0.1/i.img", sw.revisions[1])
    assert element.tag == "{urn:ietf:params:xml:ns:yang:1}action"
    ns = {"hw": X.HW, "s": X.SWM}
    assert element.xpath("hw:hardware/hw:component/hw:name/text()", namespaces=ns) == ["olt-board"]
    download = element.xpath("hw:hardware/hw:component/s:software/s:software/s:revisions/s:download/s:download",
                             namespaces=ns)[0]
    assert download.xpath("s:source/s:url/text()", namespaces=ns) == ["http://u:p@127.0.0.1/i.img"]
    system = download.xpath("s:target/s:selected-by-system", namespaces=ns)[0]
    assert system.xpath("s:operation/text()", namespaces=ns) == ["replace-or-create"]
    assert system.xpath("s:replace/s:not-available-only/text()", namespaces=ns) == ["false"]


def test_download_action_selected_by_user_replaces_the_standby():
    reply = X.state_reply(X.revision(0, "in-use", "1.0.0", active=True, committed=True),
                          X.revision(1, "available", "0.9.0"),
                          capabilities=("download-target-selection-by-user", "activate", "commit"))
    sw = software(reply)
    element = DIALECT.download_action(sw, "http://127.0.0.1/i.img", sw.revisions[1])
    ns = {"s": X.SWM}
    user = element.xpath("//s:selected-by-user", namespaces=ns)[0]
    assert user.xpath("s:operation/text()", namespaces=ns) == ["replace"]
    assert user.xpath("s:replace/s:id/text()", namespaces=ns) == ["1"]
    created = DIALECT.download_action(sw, "http://127.0.0.1/i.img", None)
    assert created.xpath("//s:selected-by-user/s:operation/text()", namespaces=ns) == ["create"]


@pytest.mark.parametrize("verb", ["activate", "commit", "abort-download"])
def test_revision_actions(verb):
    sw = software(X.BEFORE)
    element = DIALECT.revision_action(sw, "1", verb)
    ns = {"s": X.SWM}
    revision = element.xpath("//s:revisions/s:revision", namespaces=ns)[0]
    assert revision.xpath("s:id/text()", namespaces=ns) == ["1"]
    assert revision.xpath(f"s:{verb}/s:{verb}", namespaces=ns), etree.tostring(element)


def test_download_reply_gives_the_target_id():
    sw = software(X.BEFORE)
    assert DIALECT.download_reply(parse(X.DOWNLOAD_OUTPUT), sw) == "1"
    assert DIALECT.download_reply(parse(X.OK), sw) is None


def test_state_filter_selects_software_of_one_or_every_component():
    every = parse(f"<f>{DIALECT.state_filter()}</f>")
    assert every.find(f"{{{X.HW}}}hardware/{{{X.HW}}}component/{{{X.HW}}}name").text is None
    one = parse(f"<f>{DIALECT.state_filter('a<b')}</f>")
    assert one.find(f"{{{X.HW}}}hardware/{{{X.HW}}}component/{{{X.HW}}}name").text == "a<b"


@pytest.mark.parametrize("kind, container, tag, phase", [
    ("revision-downloaded", None, "", "downloaded"),
    ("download-revision-failed", None, "connection-reset-by-peer", "download-failed"),
    ("revision-activated", "activate", "", "activated"),
    ("activate-failed", "activate", "unexpected-error", "activate-failed"),
    ("revision-committed", "commit", "", "committed"),
    ("download-revision-aborted", "abort-download", "", "aborted"),
])
def test_notifications(kind, container, tag, phase):
    notice = DIALECT.parse_notification(parse(X.notification(1, kind, container, tag=tag, message="why")))
    assert (notice.kind, notice.key, notice.component, notice.software) == (kind, "1", "olt-board",
                                                                            "application-software")
    assert DIALECT.NOTICE_PHASES[notice.kind] == phase
    assert notice.event_time == "2099-01-01T00:00:00Z"
    if tag:
        # the identityref prefix is resolved through its namespace, whatever the device calls it
        assert notice.error_tag == f"bbf-software-management:{tag}" and notice.message == "why"
        assert notice.failed
    else:
        assert notice.error_tag == "" and not notice.failed


def test_error_tag_prefix_is_resolved_by_namespace():
    xml = X.notification(1, "download-revision-failed", tag="incorrect-hash", prefix="swm")
    assert DIALECT.parse_notification(parse(xml)).error_tag == "bbf-software-management:incorrect-hash"


def test_other_notifications_are_ignored():
    assert DIALECT.parse_notification(parse(X.REPLAY_COMPLETE)) is None
    assert DIALECT.parse_notification(parse(X.OK)) is None


def test_rpc_errors():
    (busy,) = rpc_errors(parse(X.BUSY))
    assert busy.reason == "bbf-software-management:component-busy"
    assert busy.detail == "another operation runs on olt-board; error-tag operation-failed"
    errors = rpc_errors(parse(X.TWO_ERRORS))  # the warning is not an error
    assert [e.reason for e in errors] == ["unknown-element", "operation-failed"]
    assert "path /hw:hardware/x" in errors[0].detail
    assert rpc_errors(parse(X.OK)) == []


def test_hardware_components_inventory_and_health_fields():
    reply = (f'<rpc-reply xmlns="{X.NC}"><data><hardware xmlns="{X.HW}" xmlns:ianahw="urn:ietf:params:xml:ns:yang:iana-hardware">'
             '<component><name>olt-board</name><class>ianahw:chassis</class><serial-num>S1</serial-num>'
             '<is-fru>false</is-fru><state><oper-state>enabled</oper-state><alarm-state>minor warning</alarm-state>'
             '</state></component>'
             '<component><name>temperature-1</name><class>ianahw:sensor</class><parent>olt-board</parent>'
             '<sensor-data><value-type>celsius</value-type><value>455</value><value-precision>1</value-precision>'
             '<units-display>C</units-display></sensor-data></component></hardware></data></rpc-reply>')
    data = parse(reply).find(qn(X.NC, "data"))
    board, sensor = DIALECT.hardware_components(data)
    assert board.name == "olt-board" and board.data["class"] == "chassis" and board.data["serial_num"] == "S1"
    assert board.data["alarm_state"] == ["minor", "warning"]
    assert sensor.data["parent"] == "olt-board" and sensor.data["sensor"]["value"] == "455"


def test_clean_hash():
    assert netconf.clean_hash(" SHA256:" + "A" * 64) == "a" * 64
    assert netconf.clean_hash("ab") == "ab"
    assert netconf.clean_hash("") == ""
