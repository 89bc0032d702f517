"""NETCONF simulator: what a device says it implements, per mode -- <hello> (RFC 7950 §5.6.4), the YANG library
(RFC 8525 /yang-library, RFC 7895 /modules-state), NMDA <get-data> (RFC 8526), Netopeer2-style values -- and the
compatibility options legacy_hello, yang_library "1.0", nmda false. Real ncclient sessions over loopback SSH."""
from __future__ import annotations

import pytest
from lxml import etree
from ncclient.operations import RPCError
from ncclient.xml_ import to_ele

from swim_sim.testing import DS_NS, HW_NS, NMDA_NS, SWM_NS, YANGLIB_NS

YL11 = "urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04&content-id="
YL10 = "urn:ietf:params:netconf:capability:yang-library:1.0?revision=2016-06-21&module-set-id="
LIBRARY = f'<yang-library xmlns="{YANGLIB_NS}"/>'
MODULES_STATE = f'<modules-state xmlns="{YANGLIB_NS}"/>'
FAULTS = {"devices": {
    "olt-002": {"legacy_hello": True},
    "olt-003": {"yang_library": "1.0"},
    "olt-004": {"nmda": False},
    "olt-005": {"faults": [{"no_swm_model": {"import_only": True}}]},
    "olt-006": {"download_target_selection": ["by-user", "by-system"]},
}}


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    return sim_fleet_module(6, transport="netconf", faults=FAULTS)


def _modules(library, tag="module"):
    """{name: (revision, [features])} of the module-set (or modules-state) entries named ``tag``."""
    return {m.findtext(f"{{{YANGLIB_NS}}}name"): (m.findtext(f"{{{YANGLIB_NS}}}revision"),
                                                  [f.text for f in m.findall(f"{{{YANGLIB_NS}}}feature")])
            for m in library.iter(f"{{{YANGLIB_NS}}}{tag}") if m.find(f"{{{YANGLIB_NS}}}name") is not None}


def _capability_id(caps, prefix):
    found = [c[len(prefix):] for c in caps if c.startswith(prefix)]
    assert len(found) == 1, caps
    return found[0]


def test_standard_hello_lists_only_yang_1_0_modules(fleet):
    with fleet.netconf("olt-001") as client:
        caps = client.capabilities
        content_id = _capability_id(caps, YL11)
        modules = sorted(c.split("?module=")[1].split("&")[0] for c in caps if "?module=" in c)
        assert modules == ["ietf-netconf", "ietf-netconf-with-defaults", "nc-notifications", "notifications"]
        assert "urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=report-all" \
            in caps
        assert not any(c.startswith(YL10) for c in caps)
        library = client.get(LIBRARY).data_ele.find(f"{{{YANGLIB_NS}}}yang-library")
        assert library.findtext(f"{{{YANGLIB_NS}}}content-id") == content_id
        state = client.get(MODULES_STATE).data_ele.find(f"{{{YANGLIB_NS}}}modules-state")
        assert state.findtext(f"{{{YANGLIB_NS}}}module-set-id") == content_id


def test_yang_library_lists_modules_features_and_import_only_modules(fleet):
    with fleet.netconf("olt-001") as client:
        for data in (client.get(LIBRARY).data_ele, client.get_data(LIBRARY)):
            library = data.find(f"{{{YANGLIB_NS}}}yang-library")
            module_set = library.find(f"{{{YANGLIB_NS}}}module-set")
            assert module_set.findtext(f"{{{YANGLIB_NS}}}name") == "complete"
            implemented = _modules(module_set)
            assert implemented["bbf-software-management"] == (
                "2025-07-02", ["software-management-actions", "download-target-selection-by-system"])
            assert implemented["ietf-hardware"] == ("2018-03-13", ["hardware-sensor"])
            assert implemented["ietf-yang-library"][0] == "2019-01-04"
            assert "ietf-netconf-nmda" in implemented and "ietf-datastores" in implemented
            imported = _modules(module_set, "import-only-module")
            assert {"bbf-yang-types", "ietf-inet-types", "ietf-yang-types"} <= set(imported)
            assert not set(imported) & set(implemented)
            swm = [m for m in module_set.findall(f"{{{YANGLIB_NS}}}module")
                   if m.findtext(f"{{{YANGLIB_NS}}}name") == "bbf-software-management"][0]
            assert swm.findtext(f"{{{YANGLIB_NS}}}namespace") == SWM_NS
            stores = library.findall(f"{{{YANGLIB_NS}}}datastore/{{{YANGLIB_NS}}}name")
            assert [s.text for s in stores] == ["ds:running", "ds:operational"]
            assert all(s.nsmap["ds"] == DS_NS for s in stores)
            assert library.findtext(f"{{{YANGLIB_NS}}}schema/{{{YANGLIB_NS}}}module-set") == "complete"
        state = client.get(MODULES_STATE).data_ele.find(f"{{{YANGLIB_NS}}}modules-state")
        conformance = {m.findtext(f"{{{YANGLIB_NS}}}name"): m.findtext(f"{{{YANGLIB_NS}}}conformance-type")
                       for m in state.findall(f"{{{YANGLIB_NS}}}module")}
        assert conformance["bbf-software-management"] == "implement"
        assert conformance["bbf-yang-types"] == "import" and conformance["ietf-inet-types"] == "import"
        assert _modules(state)["bbf-software-management"][1] == [
            "software-management-actions", "download-target-selection-by-system"]


def test_content_id_follows_the_module_set(fleet):
    ids = {}
    for name in ("olt-001", "olt-006"):
        with fleet.netconf(name) as client:
            ids[name] = _capability_id(client.capabilities, YL11)
            features = _modules(client.get(LIBRARY).data_ele)["bbf-software-management"][1]
            ids[name + " features"] = features
    assert ids["olt-001"] != ids["olt-006"]
    assert ids["olt-006 features"] == ["software-management-actions", "download-target-selection-by-system",
                                       "download-target-selection-by-user"]
    with fleet.netconf("olt-001") as client:  # stable for an unchanged set
        assert _capability_id(client.capabilities, YL11) == ids["olt-001"]


def test_nmda_get_hides_system_set_config_and_get_data_shows_it(fleet):
    flt = f'<hardware xmlns="{HW_NS}"><component><name>fan-2</name></component></hardware>'
    with fleet.netconf("olt-001") as client:
        comp = client.get(flt).data_ele.find(f"{{{HW_NS}}}hardware/{{{HW_NS}}}component")
        assert comp.findtext(f"{{{HW_NS}}}name") == "fan-2"
        for leaf in ("class", "parent", "parent-rel-pos", "state/admin-state"):
            assert comp.find("/".join(f"{{{HW_NS}}}{p}" for p in leaf.split("/"))) is None, leaf
        assert comp.findtext(f"{{{HW_NS}}}serial-num") and comp.findtext(f"{{{HW_NS}}}state/{{{HW_NS}}}oper-state")
        # software is config false: in <get>
        assert client.revisions()[0]["is-active"] is True
        oper = client.get_data(flt)
        assert etree.QName(oper).namespace == NMDA_NS
        comp = oper.find(f"{{{HW_NS}}}hardware/{{{HW_NS}}}component")
        assert comp.findtext(f"{{{HW_NS}}}class") == "ianahw:fan"
        assert comp.findtext(f"{{{HW_NS}}}parent") == "olt-board"
        assert comp.findtext(f"{{{HW_NS}}}state/{{{HW_NS}}}admin-state") == "unlocked"
        # config-filter: config true nodes only / config false nodes only
        config = client.get_data(flt, extra="<config-filter>true</config-filter>").find(f".//{{{HW_NS}}}component")
        assert config.findtext(f"{{{HW_NS}}}class") == "ianahw:fan" and config.find(f"{{{HW_NS}}}serial-num") is None
        state = client.get_data(flt, extra="<config-filter>false</config-filter>").find(f".//{{{HW_NS}}}component")
        assert state.find(f"{{{HW_NS}}}class") is None and state.findtext(f"{{{HW_NS}}}serial-num")
        assert len(client.get_data(None, "running")) == 0  # nothing is configured
        versions = [v.text for v in client.get_data().iter(f"{{{SWM_NS}}}version")]
        assert versions and versions == [r["version"] for r in client.revisions().values()]


@pytest.mark.parametrize("extra, datastore, tag", [
    ("", "candidate", "invalid-value"),
    ("", "intended", "invalid-value"),
    ("<xpath-filter>/hardware</xpath-filter>", "operational", "unknown-element"),
    ("<with-origin/>", "operational", "unknown-element"),
    ("<max-depth>2</max-depth>", "operational", "invalid-value"),
    ("<config-filter>maybe</config-filter>", "operational", "invalid-value"),
    ("<with-defaults>trim</with-defaults>", "operational", "invalid-value"),
])
def test_get_data_refuses_what_the_device_does_not_announce(fleet, extra, datastore, tag):
    with fleet.netconf("olt-001") as client:
        with pytest.raises(RPCError) as err:
            client.get_data(None, datastore, extra)
        assert err.value.tag == tag


@pytest.mark.parametrize("datastore", ["operational", "foo:operational", "nmda:operational"])
def test_get_data_datastore_must_be_an_ietf_datastores_identity(fleet, datastore):
    with fleet.netconf("olt-001") as client:
        with pytest.raises(RPCError) as err:
            client.m.dispatch(to_ele(f'<get-data xmlns="{NMDA_NS}" xmlns:foo="urn:example:foo" '
                                     f'xmlns:nmda="{NMDA_NS}"><datastore>{datastore}</datastore></get-data>'))
        assert err.value.tag == "invalid-value"


def test_values_are_printed_like_netopeer2(fleet):
    """date-and-time with +00:00; identityref prefixes declared on the element carrying the value."""
    with fleet.netconf("olt-001") as client:
        raw = client.get().xml
        assert 'Z<' not in raw and "+00:00</last-changed>" in raw
        root = etree.fromstring(raw.encode())
        for cap in root.iter(f"{{{SWM_NS}}}capability"):
            assert cap.text.startswith("bbf-swm:") and "bbf-swm" in cap.nsmap
            assert cap.getparent().nsmap.get("bbf-swm") is None  # declared on the leaf itself
        assert '<capability xmlns:bbf-swm="urn:bbf:yang:bbf-software-management">bbf-swm:activate</capability>' in raw
        oper = client.m.dispatch(to_ele(
            f'<get-data xmlns="{NMDA_NS}" xmlns:ds="{DS_NS}"><datastore>ds:operational</datastore><subtree-filter>'
            f'<hardware xmlns="{HW_NS}"><component><name>cpu</name></component></hardware></subtree-filter>'
            '</get-data>')).xml
        assert '<class xmlns:ianahw="urn:ietf:params:xml:ns:yang:iana-hardware">ianahw:cpu</class>' in oper
    with fleet.netconf("olt-002") as client:  # legacy: the old simulator's Z and ancestor declarations
        raw = client.get().xml
        assert "Z</last-changed>" in raw and "+00:00" not in raw


def test_notifications_use_canonical_values(fleet, image_server):
    with fleet.netconf("olt-006") as client:
        client.subscribe()
        client.download(image_server.url_for("missing.img"))
        for _ in range(20):  # bounded: the failure comes after download starts
            note = client.m.take_notification(block=True, timeout=10)
            assert note is not None, "no notification"
            if "download-revision-failed" in note.notification_xml:
                break
        xml = note.notification_xml
        assert '<tag xmlns:bbf-swm="urn:bbf:yang:bbf-software-management">bbf-swm:file-not-found</tag>' in xml
        assert "+00:00</eventTime>" in xml


def test_legacy_hello_is_the_old_simulator(fleet):
    with fleet.netconf("olt-002") as client:
        caps = client.capabilities
        assert not any("yang-library" in c for c in caps)
        assert any(c.startswith(f"{SWM_NS}?module=bbf-software-management&revision=2025-07-02") for c in caps)
        assert len(client.get(LIBRARY).data_ele) == 0 and len(client.get(MODULES_STATE).data_ele) == 0
        with pytest.raises(RPCError) as err:
            client.get_data()
        assert err.value.tag == "operation-not-supported"
        assert client.get(None).data_ele.find(f".//{{{HW_NS}}}class").text == "ianahw:chassis"
        # non-NMDA: running holds the configured component list
        assert client.m.get_config(source="running").data_ele.find(f".//{{{HW_NS}}}class") is not None


def test_yang_library_1_0_serves_modules_state_only(fleet):
    with fleet.netconf("olt-003") as client:
        caps = client.capabilities
        set_id = _capability_id(caps, YL10)
        assert not any(c.startswith(YL11) for c in caps)
        # ietf-yang-library 2016-06-21 is a YANG 1.0 module: announced in <hello> as well
        assert "urn:ietf:params:xml:ns:yang:ietf-yang-library?module=ietf-yang-library&revision=2016-06-21" in caps
        assert len(client.get(LIBRARY).data_ele) == 0
        state = client.get(MODULES_STATE).data_ele.find(f"{{{YANGLIB_NS}}}modules-state")
        assert state.findtext(f"{{{YANGLIB_NS}}}module-set-id") == set_id
        modules = _modules(state)
        assert modules["ietf-yang-library"][0] == "2016-06-21"
        assert "bbf-software-management" in modules and "ietf-netconf-nmda" not in modules
        with pytest.raises(RPCError) as err:
            client.get_data()
        assert err.value.tag == "operation-not-supported"
        assert client.get(None).data_ele.find(f".//{{{HW_NS}}}class").text == "ianahw:chassis"


def test_without_nmda(fleet):
    with fleet.netconf("olt-004") as client:
        _capability_id(client.capabilities, YL11)
        library = client.get(LIBRARY).data_ele.find(f"{{{YANGLIB_NS}}}yang-library")
        assert "ietf-netconf-nmda" not in _modules(library)
        assert [n.text for n in library.findall(f"{{{YANGLIB_NS}}}datastore/{{{YANGLIB_NS}}}name")] == ["ds:running"]
        with pytest.raises(RPCError) as err:
            client.get_data()
        assert err.value.tag == "operation-not-supported"
        comp = client.get(f'<hardware xmlns="{HW_NS}"><component><name>fan-1</name></component></hardware>') \
            .data_ele.find(f".//{{{HW_NS}}}component")
        assert comp.findtext(f"{{{HW_NS}}}class") == "ianahw:fan" and comp.findtext(f"{{{HW_NS}}}parent") == "olt-board"


def test_import_only_swm_module_has_no_data_and_no_actions(fleet):
    with fleet.netconf("olt-005") as client:
        module_set = client.get(LIBRARY).data_ele
        assert "bbf-software-management" not in _modules(module_set)
        assert "bbf-software-management" in _modules(module_set, "import-only-module")
        state = client.get(MODULES_STATE).data_ele
        conformance = {m.findtext(f"{{{YANGLIB_NS}}}name"): m.findtext(f"{{{YANGLIB_NS}}}conformance-type")
                       for m in state.iter(f"{{{YANGLIB_NS}}}module")}
        assert conformance["bbf-software-management"] == "import"
        assert client.revisions() == {}
        with pytest.raises(RPCError) as err:
            client.activate(1)
        assert err.value.tag == "unknown-element"
