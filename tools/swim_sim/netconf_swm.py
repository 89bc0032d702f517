"""The BBF TR-383 ``bbf-software-management`` view of a simulated device (XML), subtree filtering
(RFC 6241 §6) and the parsing of RFC 7950 ``<action>`` requests.

Everything here runs in the asyncio loop thread of the device model (``render_data`` reads the
model) or is pure XML work; no sockets.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

from lxml import etree

from .device import Device
from .netconf_hardware import ALL, COMPONENT, CONFIG, render_hardware
from .netconf_library import (BASE_10, BASE_11, BASE_NS, HW_NS, IANA_HW_NS, NETMOD_NOTIF_NS,  # noqa: F401
                              NOTIF_NS, SWM_MODULE, SWM_NS, SWM_REVISION, NetconfProfile)
from .netconf_xml import compose, date_time, identity_leaf, parse_date_time, q  # noqa: F401 -- re-exported
from .netconf_xml import leaf as _leaf

YANG_NS = "urn:ietf:params:xml:ns:yang:1"
SOFTWARE = "application-software"
MAX_REVISIONS = 2
LEGACY = NetconfProfile(legacy_hello=True, yang_library="", nmda=False)


def _swm_container(parent, canonical: bool) -> etree._Element:
    """The bbf-swm ``software`` container; the legacy mode declares the identity prefix here."""
    nsmap = {None: SWM_NS} if canonical else {None: SWM_NS, "bbf-swm": SWM_NS}
    return etree.SubElement(parent, q(SWM_NS, "software"), nsmap=nsmap)


def _path_to_revisions(parent, canonical: bool = False) -> etree._Element:
    """hardware/component[olt-board]/software/software[application-software]/revisions under ``parent``."""
    hardware = etree.SubElement(parent, q(HW_NS, "hardware"), nsmap={None: HW_NS})
    component = etree.SubElement(hardware, q(HW_NS, "component"))
    _leaf(component, HW_NS, "name", COMPONENT)
    software = etree.SubElement(_swm_container(component, canonical), q(SWM_NS, "software"))
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


def render_data(device: Device, profile: NetconfProfile, view: str = "", root_ns: str = BASE_NS) -> etree._Element:
    """A NETCONF ``<data>`` element of the device: ietf-hardware (the same component tree as the DMI physical
    inventory) with bbf-software-management on ``olt-board``, and the YANG library.

    ``view``: ``all`` (operational), ``state`` (config false only) or ``config`` (config true only); by default
    what a classic ``<get>`` returns for the profile (``state`` for hardware on an NMDA device). ``root_ns``:
    the namespace of ``<data>`` (get-data's output is in ietf-netconf-nmda's)."""
    view = view or ("state" if profile.nmda else ALL)
    data = etree.Element(q(root_ns, "data"), nsmap={None: root_ns})
    canonical = profile.canonical
    _hardware, board = render_hardware(data, device, view, canonical)
    if view != CONFIG:
        if profile.swm_implemented:
            _render_software(board, device, profile, canonical)
        profile.library_data(data)
    return data


def _render_software(board, device: Device, profile: NetconfProfile, canonical: bool) -> None:
    """bbf-swm ``software`` (config false) on the ``olt-board`` component."""
    software = etree.SubElement(_swm_container(board, canonical), q(SWM_NS, "software"))
    _leaf(software, SWM_NS, "name", SOFTWARE)
    for cap in profile.swm_capabilities:
        identity_leaf(software, SWM_NS, "capability", "bbf-swm", SWM_NS, cap, canonical)
    revisions = etree.SubElement(software, q(SWM_NS, "revisions"))
    _leaf(revisions, SWM_NS, "maximum-number-of-revisions", MAX_REVISIONS)
    for slot in (0, 1):
        part = device.slot_partition(slot)
        info = device.slot_info[slot]
        state = revision_state(device, slot)
        rev = etree.SubElement(revisions, q(SWM_NS, "revision"))
        _leaf(rev, SWM_NS, "id", slot)
        _leaf(rev, SWM_NS, "state", state)
        _leaf(rev, SWM_NS, "last-changed", date_time(info.changed_at or time.time(), canonical))
        if state != "downloading" and info.downloaded_at:
            _leaf(rev, SWM_NS, "download-completed", date_time(info.downloaded_at, canonical))
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
                _leaf(activate, SWM_NS, "last-activated", date_time(info.activated_at, canonical))
            if info.committed_at:
                commit = etree.SubElement(rev, q(SWM_NS, "commit"))
                _leaf(commit, SWM_NS, "last-committed", date_time(info.committed_at, canonical))


def render_config(device: Device, profile: NetconfProfile = LEGACY, root_ns: str = BASE_NS) -> etree._Element:
    """``<get-config>`` of running. Non-NMDA: the configurable part of ietf-hardware (name, class, parent,
    rel. position, admin-state of every component); NMDA: nothing (the components are system-learned)."""
    if profile.nmda:
        return etree.Element(q(root_ns, "data"), nsmap={None: root_ns})
    return render_data(device, profile, CONFIG, root_ns)


# ------------------------------------------------------------------ notifications
def revision_notification(slot: int, kind: str, tag: str = "", message: str = "",
                          canonical: bool = False) -> etree._Element:
    """The body of a nested bbf-swm notification about revision ``slot``.

    ``kind``: revision-downloaded, download-revision-failed, download-revision-aborted,
    revision-activated, activate-failed, revision-committed.
    """
    root = etree.Element("wrapper")
    revisions = _path_to_revisions(root, canonical)
    rev = etree.SubElement(revisions, q(SWM_NS, "revision"))
    _leaf(rev, SWM_NS, "id", slot)
    container = {"download-revision-aborted": "abort-download", "revision-activated": "activate",
                 "activate-failed": "activate", "revision-committed": "commit"}.get(kind)
    parent = etree.SubElement(rev, q(SWM_NS, container)) if container else rev
    body = etree.SubElement(parent, q(SWM_NS, kind))
    if tag:
        error = etree.SubElement(body, q(SWM_NS, "error"))
        # the legacy mode declares the prefix on the outer software container
        identity_leaf(error, SWM_NS, "tag", "bbf-swm", SWM_NS, tag, canonical)
        if message:
            _leaf(error, SWM_NS, "message", message)
    return root[0]


def notification(body: etree._Element, stamp: float, canonical: bool = False) -> bytes:
    envelope = etree.Element(q(NOTIF_NS, "notification"), nsmap={None: NOTIF_NS})
    _leaf(envelope, NOTIF_NS, "eventTime", date_time(stamp, canonical))
    return compose(envelope, [body])


def netmod_notification(name: str, stamp: float, canonical: bool = False) -> bytes:
    """replayComplete / notificationComplete (RFC 5277 §2.1, 3.6)."""
    envelope = etree.Element(q(NOTIF_NS, "notification"), nsmap={None: NOTIF_NS})
    _leaf(envelope, NOTIF_NS, "eventTime", date_time(stamp, canonical))
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


def _prune(data: etree._Element, flt: etree._Element) -> bool:
    """Apply filter node ``flt`` (already matched by name) to ``data`` in place: remove what it does not
    select. False = ``data`` is not selected at all."""
    children = [c for c in flt if isinstance(c.tag, str)]
    if not children:
        return _value_matches(data, flt) if _text(flt) else True  # content match / selection node
    content = [c for c in children if _is_content_match(c)]
    others = [c for c in children if not _is_content_match(c)]
    for match in content:
        if not any(_matches(d, match) and _value_matches(d, match) for d in data):
            return False
    if not others:
        return True
    selected = False
    for child in list(data):
        if isinstance(child.tag, str) and any(_matches(child, m) for m in content):
            continue
        sub = next((s for s in others if _matches(child, s)), None) if isinstance(child.tag, str) else None
        if sub is not None and _prune(child, sub):
            selected = True
        else:
            data.remove(child)
    return selected


def subtree_filter(data: etree._Element, flt: etree._Element | None) -> etree._Element:
    """Return a copy of ``data`` (a <data> or wrapper element) keeping what filter ``flt`` selects.
    ``flt`` is the <filter> element (its children are the top-level filter nodes); None = everything.
    An empty filter selects nothing (RFC 6241 §6.4.2). The copy is pruned in place, never rebuilt, so every
    namespace declaration (identityref prefixes) stays where it was."""
    if flt is None:
        return data
    result = copy.deepcopy(data)
    filters = [f for f in flt if isinstance(f.tag, str)]
    for child in list(result):
        sub = next((f for f in filters if _matches(child, f)), None) if isinstance(child.tag, str) else None
        if sub is None or not _prune(child, sub):
            result.remove(child)
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
