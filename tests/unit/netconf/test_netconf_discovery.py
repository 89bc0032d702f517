"""Module discovery: hello (RFC 7950 5.6.4), YANG library (RFC 8525 /yang-library, RFC 7895 /modules-state),
dialect selection from names, conformance and features, and the per-content-id cache."""

from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.escalator.swim.plugins.module_utils import netconf_discovery as D
from ansible_collections.escalator.swim.plugins.module_utils.device import Budget, DeviceError
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects import choose
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.base import parse
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.bbf_software_image_management_one_dot_one import (  # noqa: E501
    BbfSoftwareImageManagementOneDotOne,
)
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.bbf_software_management import (
    BbfSoftwareManagement,
)

import netconf_xml as X
from test_netconf_device import IMAGE, ScriptedDevice, fast  # noqa: F401 -- fixture

ONE_DOT_ONE = "urn:bbf:yang:bbf-software-image-management-one-dot-one"
STANDARD_CAPS = X.BASE_CAPABILITIES + [X.library_capability("c-1")]


def data(xml: str):
    return D.reply_data(parse(xml))


def test_library_capability_both_forms_and_hello_modules():
    assert D.library_capability(STANDARD_CAPS) == D.LibraryCapability("1.1", "c-1")
    assert D.library_capability([X.library_capability("m-7", "1.0")]) == D.LibraryCapability("1.0", "m-7")
    both = [X.library_capability("m-7", "1.0"), X.library_capability("c-2")]
    assert D.library_capability(both).version == "1.1"
    assert D.library_capability(X.CAPABILITIES) is None
    modules = {m.name: m for m in D.hello_modules(X.CAPABILITIES)}
    assert modules["bbf-software-management"].features == {"software-management-actions",
                                                           "download-target-selection-by-system"}
    assert modules["ietf-hardware"].features is None, "no features parameter: the server did not say"
    assert modules["ietf-hardware"].revision == "2018-03-13" and modules["ietf-hardware"].namespace == X.HW


def test_yang_library_1_1_uses_the_operational_schema_and_keeps_import_only_apart():
    operational = (X.ylib_module("ietf-hardware", "2018-03-13", X.HW)
                   + X.ylib_module("bbf-software-management", "2025-07-02", X.SWM,
                                   ("software-management-actions", "download-target-selection-by-user"))
                   + X.ylib_module("ietf-yang-types", "2013-07-15", tag="import-only-module"))
    other = X.ylib_module("example-config-only", "2020-01-01")
    datastores = ("<schema><name>state</name><module-set>ops</module-set></schema>"
                  "<schema><name>cfg</name><module-set>config</module-set></schema>"
                  "<datastore><name>ds:running</name><schema>cfg</schema></datastore>"
                  "<datastore><name>ds:operational</name><schema>state</schema></datastore>")
    modules, content_id = D.parse_yang_library(data(X.yang_library(("config", other), ("ops", operational),
                                                                   content_id="abc", datastores=datastores)))
    assert content_id == "abc"
    by_name = {m.name: m for m in modules}
    assert set(by_name) == {"ietf-hardware", "bbf-software-management", "ietf-yang-types"}
    assert by_name["bbf-software-management"].features == {"software-management-actions",
                                                           "download-target-selection-by-user"}
    assert by_name["ietf-yang-types"].implemented is False and by_name["ietf-hardware"].implemented is True


def test_yang_library_without_datastores_merges_every_module_set():
    reply = X.yang_library(("a", X.ylib_module("ietf-hardware", "2018-03-13", X.HW)),
                           ("b", X.ylib_module("bbf-software-management", "2025-07-02", X.SWM)))
    modules, _ = D.parse_yang_library(data(reply))
    assert {m.name for m in modules} == {"ietf-hardware", "bbf-software-management"}
    assert D.parse_yang_library(data(X.modules_state())) is None, "another tree: not a /yang-library reply"


def test_modules_state_1_0_conformance_and_features():
    reply = X.modules_state(("bbf-software-management", "2022-03-01", X.SWM, ("software-management-actions",),
                             "implement"),
                            (ONE_DOT_ONE.rsplit(":", 1)[1], "2020-11-05", ONE_DOT_ONE, (), "import"),
                            set_id="m-9")
    modules, set_id = D.parse_modules_state(data(reply))
    assert set_id == "m-9"
    swm, one = modules
    assert (swm.revision, swm.features, swm.implemented) == ("2022-03-01", {"software-management-actions"}, True)
    assert one.implemented is False


def library(*modules, sources=("hello", "YANG library /yang-library")):
    return D.Library(modules=tuple(modules), sources=sources)


def test_choose_by_name_conformance_and_features():
    actions = frozenset({"software-management-actions", "download-target-selection-by-user"})
    dialect, problems = choose(library(D.Module("bbf-software-management", "2025-07-02", X.SWM, actions)))
    assert isinstance(dialect, BbfSoftwareManagement) and dialect.revision == "2025-07-02"
    assert dialect.has_feature("download-target-selection-by-user") and not problems

    imported = D.Module("bbf-software-management", "2025-07-02", X.SWM, implemented=False)
    dialect, problems = choose(library(imported))
    assert dialect is None and problems == ["bbf-software-management@2025-07-02 (import-only) is not implemented"]

    no_actions = D.Module("bbf-software-management", "2025-07-02", X.SWM, frozenset({"download-target-selection-by-user"}))
    one_dot_one = D.Module("bbf-software-image-management-one-dot-one", "2020-11-05", ONE_DOT_ONE)
    dialect, problems = choose(library(no_actions, one_dot_one))
    assert isinstance(dialect, BbfSoftwareImageManagementOneDotOne), "the next supported model is used"
    assert "lacks feature software-management-actions" in problems[0]


def test_target_selection_follows_the_announced_features():
    user_only = D.Module("bbf-software-management", "2025-07-02", X.SWM,
                         frozenset({"software-management-actions", "download-target-selection-by-user"}))
    dialect, _ = choose(library(user_only))
    software = ScriptedDevice([X.ScriptedManager([X.BEFORE])])._software("GetSoftwareVersion")
    # the software's capability identities list both cases; the schema (features) has only by-user
    xml = etree.tostring(dialect.download_action(software, "http://127.0.0.1/i.img",
                                                 software.revision("1"))).decode()
    assert "selected-by-user" in xml and "<operation>replace</operation>" in xml
    assert dialect.download_key(software, "u", software.revision("1")) == "1"
    system = choose(library(D.Module("bbf-software-management", "2025-07-02", X.SWM,
                                     frozenset({"software-management-actions",
                                                "download-target-selection-by-system"}))))[0]
    assert "selected-by-system" in etree.tostring(system.download_action(software, "u", None)).decode()


def standard(gets, content_id="c-1", library=None, **kwargs):
    caps = X.BASE_CAPABILITIES + [X.library_capability(content_id)]
    return X.ScriptedManager(gets, capabilities=caps,
                             library={("get-data", "yang-library"): X.STANDARD_LIBRARY} if library is None else library,
                             **kwargs)


def test_standard_server_modules_only_in_the_yang_library_reads_state_with_get_data():
    manager = standard([X.BEFORE])
    device = ScriptedDevice([manager])
    assert device.versions().active_image.version == "1.0.0"
    assert device.library.nmda and "YANG library /yang-library" in device.library.sources
    verbs = [verb for verb, _ in manager.sent]
    assert verbs == ["get-data yang-library", "get-data"], verbs
    state = manager.sent[-1][1]
    assert "ds:operational" in state and "subtree-filter" in state


def test_library_read_falls_back_to_get_and_to_modules_state():
    old = X.modules_state(("bbf-software-management", "2022-03-01", X.SWM, X.SWM_FEATURES, "implement"),
                          ("ietf-hardware", "2018-03-13", X.HW, (), "implement"))
    manager = standard([X.BEFORE], library={("get", "modules-state"): old})
    device = ScriptedDevice([manager])
    device.versions()
    assert [v for v, _ in manager.sent] == ["get-data yang-library", "get yang-library", "get modules-state", "get"]
    assert not device.library.nmda, "no ietf-netconf-nmda: state is read with <get>"

    v10 = X.ScriptedManager([X.BEFORE], capabilities=X.BASE_CAPABILITIES + [X.library_capability("m", "1.0")],
                            library={("get", "modules-state"): old})
    ScriptedDevice([v10]).versions()
    assert [v for v, _ in v10.sent] == ["get modules-state", "get"], "1.0: /modules-state first, with <get>"


def test_library_is_read_again_only_when_the_content_id_changes():
    first = standard([X.BEFORE])
    same = standard([X.BEFORE])
    changed = standard([X.BEFORE], content_id="c-2")
    device = ScriptedDevice([first, same, changed])
    device.versions()
    dialect = device.dialect
    for _reconnect in (same, changed):
        device.session.drop()
        device.versions()
    assert [v for v, _ in same.sent] == ["get-data"], "same content-id: the cached library"
    assert device.dialect is not dialect
    assert [v for v, _ in changed.sent] == ["get-data yang-library", "get-data"]


def test_model_not_supported_names_where_it_looked_and_what_it_found():
    without = X.yang_library(("complete", X.ylib_module("ietf-hardware", "2018-03-13", X.HW)
                              + X.ylib_module("bbf-software-management", "2025-07-02", X.SWM,
                                              tag="import-only-module")))
    device = ScriptedDevice([standard([X.BEFORE], library={("get-data", "yang-library"): without})])
    with pytest.raises(DeviceError) as info:
        device.versions()
    msg = info.value.msg
    assert info.value.reason == "MODEL_NOT_SUPPORTED" and not info.value.retryable
    assert "looked in hello and YANG library /yang-library" in msg
    assert "ietf-hardware@2018-03-13" in msg and "(import-only) is not implemented" in msg

    unreadable = ScriptedDevice([standard([X.BEFORE], library={})])
    with pytest.raises(DeviceError) as info:
        unreadable.versions()
    assert "YANG library 1.1 (unreadable: get-data /yang-library: operation-not-supported" in info.value.msg


def test_legacy_hello_server_keeps_working_without_a_library_read():
    manager = X.ScriptedManager([X.BEFORE])
    device = ScriptedDevice([manager])
    device.versions()
    assert device.library.sources == ("hello",) and [v for v, _ in manager.sent] == ["get"]


def test_download_over_a_standard_server():
    manager = standard([X.BEFORE, X.DOWNLOADED], actions={"download": X.DOWNLOAD_OUTPUT})
    history = ScriptedDevice([manager]).download(IMAGE, Budget(5), lambda e: None)
    assert history[-1].state == "UPGRADE_COMPLETE"
    download = next(xml for verb, xml in manager.sent if verb == "download")
    assert "selected-by-system" in download
