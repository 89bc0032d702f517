"""NETCONF simulator building blocks without sockets: RFC 6242 framing, RFC 6241 subtree
filtering and the parsing of bbf-software-management <action> requests."""
from __future__ import annotations

import pytest
from lxml import etree

from swim_sim.netconf_framing import EOM, FrameReader, FramingError, frame
from swim_sim.netconf_swm import (ActionError, parse_action, parse_date_time, revision_notification,
                                  subtree_filter)
from swim_sim.testing import HW_NS, SWM_NS, download_action, revision_action


def test_eom_framing_hands_back_one_message_at_a_time():
    reader = FrameReader()
    data = frame(b"<hello/>", chunked=False) + frame(b"<rpc/>", chunked=False)
    assert data.count(EOM) == 2
    assert reader.feed(data[:5]) == []
    assert reader.feed(data[5:]) == [b"<hello/>"]
    reader.switch_to_chunked()  # what follows the hello may be chunked: here it is not, so it errors
    with pytest.raises(FramingError):
        reader.feed(b"")


def test_chunked_framing_reassembles_split_chunks():
    message = b"<rpc>" + b"x" * 1000 + b"</rpc>"
    data = frame(message, chunked=True, chunk_size=100) + frame(b"<rpc/>", chunked=True)
    assert data.count(b"\n#") == 11 + 1 + 2  # 11 chunks, 1 chunk, two end markers
    reader = FrameReader()
    reader.switch_to_chunked()
    got = []
    for i in range(0, len(data), 7):  # byte soup: every boundary falls somewhere
        got += reader.feed(data[i:i + 7])
    assert got == [message, b"<rpc/>"]


@pytest.mark.parametrize("bad", [b"\n#0\nx\n##\n", b"\n#abc\nxyz", b"garbage!", b"\n#99999999999\n"])
def test_chunked_framing_rejects_bad_headers(bad):
    reader = FrameReader()
    reader.switch_to_chunked()
    with pytest.raises(FramingError):
        reader.feed(bad)


DATA = f"""<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
<hardware xmlns="{HW_NS}"><component><name>olt-board</name><class>chassis</class>
 <software xmlns="{SWM_NS}"><software><name>application-software</name>
  <revisions><revision><id>0</id><version>1.0.0</version></revision>
             <revision><id>1</id><version>0.9.0</version></revision></revisions>
 </software></software></component>
 <component><name>fan-1</name><class>fan</class></component></hardware>
<other xmlns="urn:example"><x>1</x></other></data>"""


def _filtered(flt: str) -> etree._Element:
    data = etree.fromstring(DATA)
    return subtree_filter(data, etree.fromstring(f'<filter xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">{flt}'
                                                 "</filter>"))


def test_subtree_filter_selection_containment_and_content_match():
    result = _filtered(f'<hardware xmlns="{HW_NS}"><component><name>fan-1</name></component></hardware>')
    assert [n.text for n in result.iter(f"{{{HW_NS}}}name")] == ["fan-1"]
    assert result.find(f".//{{{HW_NS}}}class").text == "fan"  # only content match nodes: whole entry
    result = _filtered(f'<hardware xmlns="{HW_NS}"><component><name/><class/></component></hardware>')
    assert [n.text for n in result.iter(f"{{{HW_NS}}}name")] == ["olt-board", "fan-1"]
    assert not list(result.iter(f"{{{SWM_NS}}}software"))
    result = _filtered(f'<hardware xmlns="{HW_NS}"><component><software xmlns="{SWM_NS}"><software><revisions>'
                       '<revision><id>1</id></revision></revisions></software></software></component></hardware>')
    assert [v.text for v in result.iter(f"{{{SWM_NS}}}version")] == ["0.9.0"]
    assert not list(result.iter("{urn:example}other"))


def test_subtree_filter_namespace_rules():
    # a filter node without a namespace matches any namespace; a wrong namespace matches nothing
    assert len(_filtered('<other xmlns=""/>')) == 1
    assert len(_filtered('<hardware xmlns="urn:wrong"/>')) == 0
    assert len(_filtered("")) == 0  # an empty filter selects nothing
    assert len(subtree_filter(etree.fromstring(DATA), None)) == 2  # no filter: everything


def test_action_parsing():
    download = parse_action(etree.fromstring(download_action("http://127.0.0.1/x.img")))
    assert (download.name, download.url, download.not_available_only, download.user_replace_id) == (
        "download", "http://127.0.0.1/x.img", False, None)
    by_user = parse_action(etree.fromstring(download_action("http://127.0.0.1/x.img", user_replace_id=1)))
    assert by_user.user_replace_id == 1
    for verb in ("activate", "commit", "abort-download"):
        request = parse_action(etree.fromstring(revision_action(1, verb)))
        assert (request.name, request.revision) == (verb, 1)


@pytest.mark.parametrize("xml, tag", [
    (revision_action(1, "activate").replace("olt-board", "other-board"), "data-missing"),
    (revision_action(1, "activate").replace("application-software", "x"), "data-missing"),
    (revision_action(1, "reboot"), "unknown-element"),
    (revision_action(1, "activate").replace("<id>1</id>", "<id>300</id>"), "invalid-value"),
    (download_action("http://127.0.0.1/x").replace("<source><url>http://127.0.0.1/x</url></source>", ""),
     "missing-element"),
    (download_action("http://127.0.0.1/x").replace("replace-or-create", "sideways"), "invalid-value"),
])
def test_bad_actions_are_rejected(xml, tag):
    with pytest.raises(ActionError) as err:
        parse_action(etree.fromstring(xml))
    assert err.value.error_tag == tag


def test_nested_notification_and_times():
    body = revision_notification(1, "download-revision-failed", "file-not-found", "HTTP 404")
    text = etree.tostring(body).decode()
    assert "<revision><id>1</id><download-revision-failed><error>" in text
    assert "<tag>bbf-swm:file-not-found</tag>" in text and 'xmlns:bbf-swm="urn:bbf:yang:bbf-software-management"' in text
    assert "<activate><revision-activated/></activate>" in etree.tostring(
        revision_notification(0, "revision-activated")).decode()
    assert parse_date_time("2026-01-02T03:04:05Z") == parse_date_time("2026-01-02T04:04:05+01:00")
    with pytest.raises(ValueError):
        parse_date_time("2026-01-02T03:04:05")  # no time zone


# ---------------------------------------------------------------------------- NETCONF options of a device
OLD_HELLO = [  # the simulator's <hello> before the YANG library (legacy_hello keeps it byte for byte)
    "urn:ietf:params:netconf:base:1.0", "urn:ietf:params:netconf:base:1.1",
    "urn:ietf:params:netconf:capability:notification:1.0", "urn:ietf:params:netconf:capability:interleave:1.0",
    "urn:ietf:params:xml:ns:yang:ietf-hardware?module=ietf-hardware&revision=2018-03-13",
    "urn:ietf:params:xml:ns:yang:iana-hardware?module=iana-hardware&revision=2018-03-13",
    "urn:ietf:params:xml:ns:netconf:notification:1.0?module=notifications&revision=2008-07-14",
    "urn:ietf:params:xml:ns:netmod:notification?module=nc-notifications&revision=2008-07-14",
    "urn:bbf:yang:bbf-software-management?module=bbf-software-management&revision=2025-07-02"
    "&features=software-management-actions,download-target-selection-by-system",
]


def _profile(raw):
    from swim_sim.netconf_library import NetconfProfile
    from swim_sim.spec import FleetSpec, Timings

    return NetconfProfile.of(FleetSpec(Timings(), {"defaults": raw}).for_device("olt-001"))


def test_legacy_hello_is_the_old_hello():
    assert _profile({"legacy_hello": True}).capabilities() == OLD_HELLO
    assert _profile({"legacy_hello": True, "netconf_framing": "1.0"}).capabilities() == \
        [c for c in OLD_HELLO if not c.endswith("base:1.1")]
    assert _profile({"legacy_hello": True, "faults": ["no_swm_model"]}).capabilities() == OLD_HELLO[:-1]


def test_profiles_of_the_options():
    standard = _profile({})
    assert (standard.yang_library, standard.nmda, standard.swm, standard.canonical) == ("1.1", True, "implement", True)
    legacy = _profile({"legacy_hello": True})
    assert (legacy.yang_library, legacy.nmda, legacy.canonical) == ("", False, False)
    old = _profile({"yang_library": "1.0"})
    assert (old.yang_library, old.nmda, old.datastores()) == ("1.0", False, ("running",))
    assert _profile({"nmda": False}).datastores() == ("running",)
    assert _profile({"faults": [{"no_swm_model": {"import_only": True}}]}).swm == "import"
    by_user = _profile({"download_target_selection": "by-user"})
    assert by_user.swm_features == ("software-management-actions", "download-target-selection-by-user")
    assert by_user.content_id() != standard.content_id() and standard.content_id() == _profile({}).content_id()
    # only YANG 1.0 modules in <hello>; every implemented module in the library
    in_hello = {c.split("module=")[1].split("&")[0] for c in standard.capabilities() if "module=" in c}
    assert in_hello == {m.name for m in standard.modules() if m.implemented and m.yang_version == "1"}
    assert {"ietf-hardware", "bbf-software-management"} <= {m.name for m in standard.modules() if m.implemented}


@pytest.mark.parametrize("raw, message", [
    ({"host_key_type": "dsa"}, "host_key_type must be one of rsa, ecdsa, ed25519"),
    ({"legacy_hello": "yes"}, "legacy_hello must be true or false"),
    ({"yang_library": "2.0"}, "yang_library must be"),
    ({"nmda": "sometimes"}, "nmda must be true or false"),
    ({"download_target_selection": ["by-magic"]}, "download_target_selection must be"),
    ({"download_target_selection": []}, "download_target_selection must be"),
    ({"legacy_hello": True, "nmda": True}, "nmda: true needs the RFC 8525 YANG library"),
    ({"yang_library": "1.0", "nmda": True}, "nmda: true needs the RFC 8525 YANG library"),
])
def test_bad_netconf_options_are_refused(raw, message):
    from swim_sim.spec import SpecError

    with pytest.raises(SpecError, match=message):
        _profile(raw)


def test_sim_fleet_passes_the_netconf_options(tmp_path):
    from swim_sim.testing import SimFleet

    joined = " ".join(SimFleet(tmp_path, 3, transport="netconf", host_key_type="rsa", yang_library="1.0",
                               nmda=False, legacy_hello=True).command())
    assert "--host-key-type rsa" in joined and "--yang-library 1.0" in joined
    assert "--no-nmda" in joined and "--legacy-hello" in joined
    plain = SimFleet(tmp_path, 1, transport="netconf").command()
    assert not {"--legacy-hello", "--host-key-type", "--yang-library", "--no-nmda"} & set(plain)
