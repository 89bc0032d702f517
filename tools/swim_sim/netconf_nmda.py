"""The parameters of NETCONF reads: RFC 8526 ``<get-data>`` (NMDA) and the RFC 6243 ``<with-defaults>`` of
``<get>``/``<get-config>``/``<get-data>``. Pure XML work; rendering happens in netconf_swm."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .netconf_hardware import ALL, CONFIG, STATE
from .netconf_library import DS_NS, NMDA_NS, WITH_DEFAULTS_MODES, WITH_DEFAULTS_NS, NetconfProfile
from .netconf_xml import RpcError, q

# get-data input nodes of features the simulator does not announce (ietf-netconf-nmda "origin", ietf-netconf
# "xpath"): not in its schema, so an unknown element (RFC 6241 Appendix A).
_UNSUPPORTED = {"xpath-filter": "ietf-netconf feature xpath", "origin-filter": "ietf-netconf-nmda feature origin",
                "negated-origin-filter": "ietf-netconf-nmda feature origin",
                "with-origin": "ietf-netconf-nmda feature origin"}


@dataclass
class GetDataRequest:
    datastore: str  # running | operational
    filter: etree._Element | None  # the <subtree-filter> element (its children are the filter nodes)
    view: str  # all | config | state (config-filter)


def check_with_defaults(op: etree._Element, namespace: str) -> None:
    """Refuse a with-defaults mode that the with-defaults capability does not announce."""
    elem = op.find(q(namespace, "with-defaults"))
    if elem is None and namespace != WITH_DEFAULTS_NS:
        elem = op.find(q(WITH_DEFAULTS_NS, "with-defaults"))
    if elem is not None and (elem.text or "").strip() not in WITH_DEFAULTS_MODES:
        raise RpcError("invalid-value", f"with-defaults mode {(elem.text or '').strip()!r} is not supported "
                       f"(supported: {', '.join(WITH_DEFAULTS_MODES)})", "protocol", bad_element="with-defaults")


def parse_get_data(op: etree._Element, profile: NetconfProfile) -> GetDataRequest:
    """Validate a ``<get-data>`` element against what the device announces."""
    for child in op:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name in _UNSUPPORTED:
            raise RpcError("unknown-element", f"<{name}> needs {_UNSUPPORTED[name]}, which this device does not "
                           "announce", "protocol", bad_element=name)
    ds_elem = op.find(q(NMDA_NS, "datastore"))
    if ds_elem is None:
        raise RpcError("missing-element", "get-data needs <datastore>", "protocol", bad_element="datastore")
    datastore = _datastore(ds_elem, profile)
    max_depth = (op.findtext(q(NMDA_NS, "max-depth")) or "unbounded").strip()
    if max_depth != "unbounded":
        raise RpcError("invalid-value", "max-depth other than 'unbounded' is not supported by this simulated device",
                       "protocol", bad_element="max-depth")
    config = (op.findtext(q(NMDA_NS, "config-filter")) or "").strip()
    if config not in ("", "true", "false"):
        raise RpcError("invalid-value", f"config-filter must be true or false, got {config!r}", "protocol",
                       bad_element="config-filter")
    check_with_defaults(op, NMDA_NS)
    return GetDataRequest(datastore=datastore, filter=op.find(q(NMDA_NS, "subtree-filter")),
                          view={"": ALL, "true": CONFIG, "false": STATE}[config])


def _datastore(elem: etree._Element, profile: NetconfProfile) -> str:
    """The datastore identity (``ds:operational``, prefix resolved on the element, RFC 7950 §9.10.3)."""
    text = (elem.text or "").strip()
    prefix, _, name = text.rpartition(":")
    namespace = elem.nsmap.get(prefix or None)
    if namespace != DS_NS:
        raise RpcError("invalid-value", f"datastore {text!r} is not an ietf-datastores identity (expected e.g. "
                       f"ds:operational with xmlns:ds=\"{DS_NS}\")", "protocol", bad_element="datastore")
    if name not in profile.datastores():
        raise RpcError("invalid-value", f"datastore {name} is not supported (supported: "
                       f"{', '.join(profile.datastores())})", "protocol", bad_element="datastore")
    return name
