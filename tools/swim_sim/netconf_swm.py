"""The BBF TR-383 ``bbf-software-management`` view of a simulated device (XML), subtree filtering
(RFC 6241 §6) and the parsing of RFC 7950 ``<action>`` requests.

Everything here runs in the asyncio loop thread of the device model (``render_data`` reads the
model) or is pure XML work; no sockets.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from .device import Device
from .hardware import build_inventory

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NOTIF_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
NETMOD_NOTIF_NS = "urn:ietf:params:xml:ns:netmod:notification"
YANG_NS = "urn:ietf:params:xml:ns:yang:1"
HW_NS = "urn:ietf:params:xml:ns:yang:ietf-hardware"
IANA_HW_NS = "urn:ietf:params:xml:ns:yang:iana-hardware"
SWM_NS = "urn:bbf:yang:bbf-software-management"
SWM_MODULE = "bbf-software-management"
SWM_REVISION = "2025-07-02"

COMPONENT = "olt-board"
SOFTWARE = "application-software"
MAX_REVISIONS = 2
# The capability leaf-list (the contract's four; selected-by-user targets are accepted as well)
SWM_CAPABILITIES = ("download-target-selection-by-system", "validate", "activate", "commit")

BASE_10 = "urn:ietf:params:netconf:base:1.0"
BASE_11 = "urn:ietf:params:netconf:base:1.1"


def capabilities(framing: str = "1.1", swm_model: bool = True) -> list[str]:
    caps = [BASE_10]
    if framing == "1.1":
        caps.append(BASE_11)
    caps += [
        "urn:ietf:params:netconf:capability:notification:1.0",
        "urn:ietf:params:netconf:capability:interleave:1.0",
        f"{HW_NS}?module=ietf-hardware&revision=2018-03-13",
        f"{IANA_HW_NS}?module=iana-hardware&revision=2018-03-13",
        f"{NOTIF_NS}?module=notifications&revision=2008-07-14",
        f"{NETMOD_NOTIF_NS}?module=nc-notifications&revision=2008-07-14",
    ]
    if swm_model:
        caps.append(f"{SWM_NS}?module={SWM_MODULE}&revision={SWM_REVISION}"
                    "&features=software-management-actions,download-target-selection-by-system")
    return caps


def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def date_time(stamp: float) -> str:
    """yang:date-and-time in UTC with milliseconds."""
    moment = datetime.fromtimestamp(stamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_date_time(text: str) -> float:
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date-and-time: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"date-and-time without a time zone: {text!r}")
    return moment.timestamp()


def _leaf(parent, ns: str, name: str, text) -> etree._Element:
    elem = etree.SubElement(parent, q(ns, name))
    elem.text = text if isinstance(text, str) else str(text).lower() if isinstance(text, bool) else str(text)
    return elem


def _path_to_revisions(parent) -> etree._Element:
    """hardware/component[olt-board]/software/software[application-software]/revisions under ``parent``."""
    hardware = etree.SubElement(parent, q(HW_NS, "hardware"), nsmap={None: HW_NS})
    component = etree.SubElement(hardware, q(HW_NS, "component"))
    _leaf(component, HW_NS, "name", COMPONENT)
    outer = etree.SubElement(component, q(SWM_NS, "software"), nsmap={None: SWM_NS, "bbf-swm": SWM_NS})
    software = etree.SubElement(outer, q(SWM_NS, "software"))
    _leaf(software, SWM_NS, "name", SOFTWARE)
    return etree.SubElement(software, q(SWM_NS, "revisions"))


def revision_state(device: Device, slot: int) -> str:
    part = device.slot_partition(slot)
    if device.downloading_slot == slot:
        return "downloading"
    if not part.valid:
        return "not-available"
    if slot in (device.active_slot, device.running_slot):
        return "in-use"
    return "available"


# hardware.py component classes -> iana-hardware identities
_IANA_CLASS = {"chassis": "chassis", "cpu": "cpu", "fan": "fan", "power-supply": "power-supply", "port": "port",
               "transceiver": "module", "sensor": "sensor", "storage": "storage"}


def hardware_tree(device: Device):
    """The device's component tree (hardware.py, shared with the DMI view); the root chassis is the
    component named ``olt-board`` that carries the software."""
    running = device.slot_partition(device.running_slot)
    root = build_inventory(device.name, device.uuid, running.version)
    root.name = COMPONENT
    alarms = device.alarms(running.version)
    for comp in root.walk():
        severity = alarms.get(comp.name) or (alarms.get(device.name) if comp is root else None)
        if severity:
            comp.alarm_state = severity
    return root


def _components(root):
    """(component, parent name) in document order (ietf-hardware's component list is flat)."""
    def walk(comp, parent):
        yield comp, parent
        for child in comp.children:
            yield from walk(child, comp.name)

    return walk(root, "")


def _render_component(hardware, comp, parent: str, stamp: float) -> etree._Element:
    elem = etree.SubElement(hardware, q(HW_NS, "component"))
    _leaf(elem, HW_NS, "name", comp.name)
    _leaf(elem, HW_NS, "class", f"ianahw:{_IANA_CLASS.get(comp.cls, 'unknown')}")
    if comp.description:
        _leaf(elem, HW_NS, "description", comp.description)
    if parent:
        _leaf(elem, HW_NS, "parent", parent)
        _leaf(elem, HW_NS, "parent-rel-pos", comp.rel_pos)
    for child in comp.children:
        _leaf(elem, HW_NS, "contains-child", child.name)
    for name, value in (("hardware-rev", comp.hardware_rev), ("firmware-rev", comp.firmware_rev),
                        ("software-rev", comp.software_rev), ("serial-num", comp.serial_num),
                        ("mfg-name", comp.mfg_name), ("model-name", comp.model_name)):
        if value:
            _leaf(elem, HW_NS, name, value)
    _leaf(elem, HW_NS, "is-fru", bool(comp.is_fru))
    if comp.uuid:
        _leaf(elem, HW_NS, "uuid", comp.uuid)
    state = etree.SubElement(elem, q(HW_NS, "state"))
    _leaf(state, HW_NS, "state-last-changed", date_time(stamp))
    _leaf(state, HW_NS, "admin-state", "unlocked")
    _leaf(state, HW_NS, "oper-state", comp.oper_state)
    _leaf(state, HW_NS, "usage-state", "active")
    _leaf(state, HW_NS, "alarm-state", "" if comp.alarm_state in ("", "none") else comp.alarm_state)
    if comp.sensor is not None:
        sensor = etree.SubElement(elem, q(HW_NS, "sensor-data"))
        _leaf(sensor, HW_NS, "value", int(comp.sensor["value"]))
        _leaf(sensor, HW_NS, "value-type", comp.sensor.get("type", "celsius"))
        _leaf(sensor, HW_NS, "value-scale", "units")
        _leaf(sensor, HW_NS, "value-precision", 0)
        _leaf(sensor, HW_NS, "oper-status", "ok")
        _leaf(sensor, HW_NS, "units-display", comp.sensor.get("units", "C"))
        _leaf(sensor, HW_NS, "value-timestamp", date_time(time.time()))
        _leaf(sensor, HW_NS, "value-update-rate", 10)
    return elem


def render_data(device: Device, swm_model: bool = True) -> etree._Element:
    """The whole operational datastore of the device as a NETCONF ``<data>`` element: ietf-hardware
    (the same component tree as the DMI physical inventory) with bbf-software-management on ``olt-board``."""
    data = etree.Element(q(BASE_NS, "data"), nsmap={None: BASE_NS})
    hardware = etree.SubElement(data, q(HW_NS, "hardware"), nsmap={None: HW_NS, "ianahw": IANA_HW_NS})
    _leaf(hardware, HW_NS, "last-change", date_time(device.last_booted))
    component = None
    for comp, parent in _components(hardware_tree(device)):
        elem = _render_component(hardware, comp, parent, device.last_booted)
        if comp.name == COMPONENT:
            component = elem
    if not swm_model:
        return data
    outer = etree.SubElement(component, q(SWM_NS, "software"), nsmap={None: SWM_NS, "bbf-swm": SWM_NS})
    software = etree.SubElement(outer, q(SWM_NS, "software"))
    _leaf(software, SWM_NS, "name", SOFTWARE)
    for cap in SWM_CAPABILITIES:
        _leaf(software, SWM_NS, "capability", f"bbf-swm:{cap}")
    revisions = etree.SubElement(software, q(SWM_NS, "revisions"))
    _leaf(revisions, SWM_NS, "maximum-number-of-revisions", MAX_REVISIONS)
    for slot in (0, 1):
        part = device.slot_partition(slot)
        info = device.slot_info[slot]
        state = revision_state(device, slot)
        rev = etree.SubElement(revisions, q(SWM_NS, "revision"))
        _leaf(rev, SWM_NS, "id", slot)
        _leaf(rev, SWM_NS, "state", state)
        _leaf(rev, SWM_NS, "last-changed", date_time(info.changed_at or time.time()))
        if state != "downloading" and info.downloaded_at:
            _leaf(rev, SWM_NS, "download-completed", date_time(info.downloaded_at))
        if part.version and state != "downloading":
            _leaf(rev, SWM_NS, "version", part.version)
        if part.image_name and state != "downloading":
            _leaf(rev, SWM_NS, "product-code", part.image_name)
        if part.sha256 and part.valid:
            _leaf(rev, SWM_NS, "hash", part.sha256)
        if info.url:
            source = etree.SubElement(rev, q(SWM_NS, "source"))
            _leaf(source, SWM_NS, "url", info.url)
        _leaf(rev, SWM_NS, "is-valid", bool(part.valid and state != "downloading"))
        _leaf(rev, SWM_NS, "is-active", slot == device.running_slot)
        _leaf(rev, SWM_NS, "is-committed", slot == device.active_slot)
        if state in ("available", "in-use"):  # the when-conditions of the activate/commit containers
            if info.activated_at:
                activate = etree.SubElement(rev, q(SWM_NS, "activate"))
                _leaf(activate, SWM_NS, "last-activated", date_time(info.activated_at))
            if info.committed_at:
                commit = etree.SubElement(rev, q(SWM_NS, "commit"))
                _leaf(commit, SWM_NS, "last-committed", date_time(info.committed_at))
    return data


def render_config(device: Device) -> etree._Element:
    """``<get-config>`` of running: the configurable part of ietf-hardware (name, class, parent, rel. position,
    admin-state of every component)."""
    data = etree.Element(q(BASE_NS, "data"), nsmap={None: BASE_NS})
    hardware = etree.SubElement(data, q(HW_NS, "hardware"), nsmap={None: HW_NS, "ianahw": IANA_HW_NS})
    for comp, parent in _components(hardware_tree(device)):
        elem = etree.SubElement(hardware, q(HW_NS, "component"))
        _leaf(elem, HW_NS, "name", comp.name)
        _leaf(elem, HW_NS, "class", f"ianahw:{_IANA_CLASS.get(comp.cls, 'unknown')}")
        if parent:
            _leaf(elem, HW_NS, "parent", parent)
            _leaf(elem, HW_NS, "parent-rel-pos", comp.rel_pos)
        _leaf(etree.SubElement(elem, q(HW_NS, "state")), HW_NS, "admin-state", "unlocked")
    return data


# ------------------------------------------------------------------ notifications
def revision_notification(slot: int, kind: str, tag: str = "", message: str = "") -> etree._Element:
    """The body of a nested bbf-swm notification about revision ``slot``.

    ``kind``: revision-downloaded, download-revision-failed, download-revision-aborted,
    revision-activated, activate-failed, revision-committed.
    """
    root = etree.Element("wrapper")
    revisions = _path_to_revisions(root)
    rev = etree.SubElement(revisions, q(SWM_NS, "revision"))
    _leaf(rev, SWM_NS, "id", slot)
    container = {"download-revision-aborted": "abort-download", "revision-activated": "activate",
                 "activate-failed": "activate", "revision-committed": "commit"}.get(kind)
    parent = etree.SubElement(rev, q(SWM_NS, container)) if container else rev
    body = etree.SubElement(parent, q(SWM_NS, kind))
    if tag:
        error = etree.SubElement(body, q(SWM_NS, "error"))
        _leaf(error, SWM_NS, "tag", f"bbf-swm:{tag}")  # prefix declared on the outer software container
        if message:
            _leaf(error, SWM_NS, "message", message)
    return root[0]


def notification(body: etree._Element, stamp: float) -> bytes:
    envelope = etree.Element(q(NOTIF_NS, "notification"), nsmap={None: NOTIF_NS})
    _leaf(envelope, NOTIF_NS, "eventTime", date_time(stamp))
    envelope.append(body)
    return etree.tostring(envelope)


def netmod_notification(name: str, stamp: float) -> bytes:
    """replayComplete / notificationComplete (RFC 5277 §2.1, 3.6)."""
    envelope = etree.Element(q(NOTIF_NS, "notification"), nsmap={None: NOTIF_NS})
    _leaf(envelope, NOTIF_NS, "eventTime", date_time(stamp))
    etree.SubElement(envelope, q(NETMOD_NOTIF_NS, name), nsmap={None: NETMOD_NOTIF_NS})
    return etree.tostring(envelope)


# ------------------------------------------------------------------ subtree filtering (RFC 6241 §6)
def _matches(data: etree._Element, flt: etree._Element) -> bool:
    if not isinstance(data.tag, str) or not isinstance(flt.tag, str):
        return False
    dq, fq = etree.QName(data), etree.QName(flt)
    if dq.localname != fq.localname:
        return False
    return fq.namespace is None or fq.namespace == dq.namespace


def _text(elem) -> str:
    return (elem.text or "").strip()


def _is_content_match(flt: etree._Element) -> bool:
    return len(flt) == 0 and bool(_text(flt))


def _value_matches(data: etree._Element, flt: etree._Element) -> bool:
    want, have = _text(flt), _text(data)
    if want == have:
        return True
    # identityref values: compare without the prefix
    return want.rpartition(":")[2] == have.rpartition(":")[2] and (":" in want or ":" in have)


def _filter_node(data: etree._Element, flt: etree._Element) -> etree._Element | None:
    """Apply filter node ``flt`` (already matched by name) to ``data``; None = not selected."""
    children = [c for c in flt if isinstance(c.tag, str)]
    if not children:
        if _text(flt):  # content match node at this level
            return etree.fromstring(etree.tostring(data)) if _value_matches(data, flt) else None
        return etree.fromstring(etree.tostring(data))  # selection node: whole subtree
    content = [c for c in children if _is_content_match(c)]
    others = [c for c in children if not _is_content_match(c)]
    for match in content:
        if not any(_matches(d, match) and _value_matches(d, match) for d in data):
            return None
    if not others:
        return etree.fromstring(etree.tostring(data))
    result = etree.Element(data.tag, nsmap=data.nsmap)
    selected = False
    for child in data:
        if not isinstance(child.tag, str):
            continue
        if any(_matches(child, m) for m in content):
            result.append(etree.fromstring(etree.tostring(child)))
            continue
        for sub in others:
            if _matches(child, sub):
                picked = _filter_node(child, sub)
                if picked is not None:
                    result.append(picked)
                    selected = True
                break
    if not selected:
        return None
    return result


def subtree_filter(data: etree._Element, flt: etree._Element | None) -> etree._Element:
    """Return a copy of ``data`` (a <data> or wrapper element) keeping what filter ``flt`` selects.
    ``flt`` is the <filter> element (its children are the top-level filter nodes); None = everything.
    An empty filter selects nothing (RFC 6241 §6.4.2)."""
    if flt is None:
        return data
    result = etree.Element(data.tag, nsmap=data.nsmap)
    filters = [f for f in flt if isinstance(f.tag, str)]
    for child in data:
        for sub in filters:
            if _matches(child, sub):
                picked = _filter_node(child, sub)
                if picked is not None:
                    result.append(picked)
                break
    return result


# ------------------------------------------------------------------ actions (RFC 7950 §7.15)
class ActionError(Exception):
    """A malformed/unknown action: NETCONF error-tag (``unknown-element``, ``data-missing``,
    ``missing-element``, ``bad-element``, ``invalid-value``) and message."""

    def __init__(self, error_tag: str, message: str, bad_element: str = ""):
        super().__init__(message)
        self.error_tag = error_tag
        self.message = message
        self.bad_element = bad_element


@dataclass
class ActionRequest:
    name: str  # download | activate | commit | abort-download | delete
    revision: int | None = None
    url: str = ""
    user_replace_id: int | None = None
    not_available_only: bool = True


def _only_child(elem: etree._Element, what: str) -> etree._Element:
    kids = [c for c in elem if isinstance(c.tag, str)]
    if len(kids) != 1:
        raise ActionError("bad-element" if kids else "missing-element", f"{what} must have exactly one child element",
                          etree.QName(elem).localname)
    return kids[0]


def _child(elem: etree._Element, ns: str, name: str) -> etree._Element | None:
    return elem.find(q(ns, name))


def _required(parent: etree._Element, ns: str, name: str, what: str,
              error_tag: str = "missing-element") -> etree._Element:
    elem = _child(parent, ns, name)
    if elem is None:
        raise ActionError(error_tag, f"action path lacks {what}", name)
    return elem


def _key(elem: etree._Element, ns: str, name: str, expected: str, what: str) -> None:
    key = _child(elem, ns, name)
    if key is None:
        raise ActionError("missing-element", f"{what} list entry without its key '{name}'", name)
    if _text(key) != expected:
        raise ActionError("data-missing", f"no {what} named {_text(key)!r} (this device has {expected!r})")


def _bool(text: str, what: str) -> bool:
    if text in ("true", "false"):
        return text == "true"
    raise ActionError("invalid-value", f"{what} must be true or false, got {text!r}", what)


def _uint8(text: str, what: str) -> int:
    if not text.isdigit() or int(text) > 255:
        raise ActionError("invalid-value", f"{what} must be a uint8, got {text!r}", what)
    return int(text)


def parse_action(action: etree._Element) -> ActionRequest:
    """Walk hardware/component/software/software/revisions/... of an <action> element."""
    hardware = _only_child(action, "action")
    if etree.QName(hardware).namespace != HW_NS or etree.QName(hardware).localname != "hardware":
        raise ActionError("unknown-element", f"no action under {etree.QName(hardware).text}",
                          etree.QName(hardware).localname)
    component = _required(hardware, HW_NS, "component", "hardware/component")
    _key(component, HW_NS, "name", COMPONENT, "component")
    outer = _required(component, SWM_NS, "software", "bbf-software-management:software", "unknown-element")
    software = _required(outer, SWM_NS, "software", "software/software")
    _key(software, SWM_NS, "name", SOFTWARE, "software")
    revisions = _required(software, SWM_NS, "revisions", "software/revisions")
    node = _only_child(revisions, "revisions")
    name = etree.QName(node).localname
    if etree.QName(node).namespace != SWM_NS:
        raise ActionError("unknown-element", f"unknown element {etree.QName(node).text}", name)
    if name == "download":
        inner = _child(node, SWM_NS, "download")
        if inner is None:
            raise ActionError("missing-element", "download/download missing", "download")
        return _parse_download(inner)
    if name != "revision":
        raise ActionError("unknown-element", f"no action {name} under revisions", name)
    id_elem = _child(node, SWM_NS, "id")
    if id_elem is None:
        raise ActionError("missing-element", "revision list entry without its key 'id'", "id")
    revision = _uint8(_text(id_elem), "id")
    verbs = [c for c in node if isinstance(c.tag, str) and c is not id_elem]
    if len(verbs) != 1:
        raise ActionError("bad-element", "exactly one action must be named under revision", "revision")
    verb = etree.QName(verbs[0]).localname
    if verb not in ("activate", "commit", "abort-download", "delete") or _child(verbs[0], SWM_NS, verb) is None:
        raise ActionError("unknown-element", f"no action {verb}/{verb} under revision", verb)
    return ActionRequest(name=verb, revision=revision)


def _parse_download(inner: etree._Element) -> ActionRequest:
    source = _child(inner, SWM_NS, "source")
    url_elem = _child(source, SWM_NS, "url") if source is not None else _child(inner, SWM_NS, "url")
    if url_elem is None or not _text(url_elem):
        raise ActionError("missing-element", "download needs source/url", "url")
    target = _child(inner, SWM_NS, "target")
    if target is None:
        raise ActionError("missing-element", "download needs a target (selected-by-system or selected-by-user)",
                          "target")
    request = ActionRequest(name="download", url=_text(url_elem))
    by_system = _child(target, SWM_NS, "selected-by-system")
    by_user = _child(target, SWM_NS, "selected-by-user")
    if (by_system is None) == (by_user is None):
        raise ActionError("bad-element", "target must be exactly one of selected-by-system, selected-by-user",
                          "target")
    if by_system is not None:
        op = _child(by_system, SWM_NS, "operation")
        if op is None:
            raise ActionError("missing-element", "selected-by-system needs an operation", "operation")
        if _text(op) not in ("create-or-replace", "replace-or-create", "replace"):
            raise ActionError("invalid-value", f"unknown selected-by-system operation {_text(op)!r}", "operation")
        replace = _child(by_system, SWM_NS, "replace")
        nao = _child(replace, SWM_NS, "not-available-only") if replace is not None else None
        request.not_available_only = _bool(_text(nao), "not-available-only") if nao is not None else True
        return request
    op = _child(by_user, SWM_NS, "operation")
    if op is None or _text(op) not in ("create", "replace"):
        raise ActionError("invalid-value", "selected-by-user operation must be create or replace", "operation")
    if _text(op) == "create":
        request.user_replace_id = -1  # every revision entry exists: a create cannot be honoured
        return request
    replace = _child(by_user, SWM_NS, "replace")
    id_elem = _child(replace, SWM_NS, "id") if replace is not None else None
    if id_elem is None:
        raise ActionError("missing-element", "selected-by-user replace needs replace/id", "id")
    request.user_replace_id = _uint8(_text(id_elem), "id")
    request.not_available_only = False
    return request


def download_output(slot: int, old) -> etree._Element:
    """``<target><id>N</id><replaces>..</replaces></target>`` (the action output)."""
    target = etree.Element(q(SWM_NS, "target"), nsmap={None: SWM_NS})
    _leaf(target, SWM_NS, "id", slot)
    if old.version or old.image_name:
        replaces = etree.SubElement(target, q(SWM_NS, "replaces"))
        if old.version:
            _leaf(replaces, SWM_NS, "version", old.version)
        if old.image_name:
            _leaf(replaces, SWM_NS, "product-code", old.image_name)
        if old.sha256:
            _leaf(replaces, SWM_NS, "hash", old.sha256)
    return target
