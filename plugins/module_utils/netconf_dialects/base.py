# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What every NETCONF software-management dialect shares: the neutral view it parses into, and XML helpers.

PRIVATE to the collection. A dialect (one file per YANG model in this package) turns the device's
XML into :class:`Software` / :class:`Revision` / :class:`Notice` and builds the action elements; the
transport (``netconf.py``) only ever sees this neutral view, so it maps every dialect onto the same
active/standby semantics.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

try:
    from lxml import etree
except ImportError:  # the NETCONF transport reports the missing library when it is used
    etree = None

NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NOTIFICATION_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
YANG_ACTION_NS = "urn:ietf:params:xml:ns:yang:1"
HW_NS = "urn:ietf:params:xml:ns:yang:ietf-hardware"


def qn(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def local(tag: t.Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def sub(parent, namespace: str, name: str, text: str | None = None):
    element = etree.SubElement(parent, qn(namespace, name))
    if text is not None:
        element.text = text
    return element


def child(element, namespace: str, *path: str):
    """The first element at *path* (local names in *namespace*) below *element*, or None."""
    for name in path:
        if element is None:
            return None
        element = element.find(qn(namespace, name))
    return element


def text(element, namespace: str, *path: str) -> str | None:
    found = child(element, namespace, *path)
    if found is None or found.text is None:
        return None if found is None else ""
    return found.text.strip()


def boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() == "true"


def identity(element, module_of: dict[str, str] | None = None) -> str:
    """An identityref value as ``module:identity`` (the prefix resolved through the element's namespaces).

    ``bbf-swm:component-busy`` with ``xmlns:bbf-swm="urn:bbf:yang:bbf-software-management"`` becomes
    ``bbf-software-management:component-busy``; an unknown prefix is kept as it is.
    """
    if element is None or not (element.text or "").strip():
        return ""
    value = element.text.strip()
    if ":" not in value:
        return value
    prefix, name = value.split(":", 1)
    namespace = element.nsmap.get(prefix)
    module = (module_of or {}).get(namespace or "")
    return f"{module}:{name}" if module else value


def escape(value: str) -> str:
    """*value* as XML character data (for names put into a subtree filter)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse(xml: str | bytes):
    """Parse an XML document from the device (no entity expansion, no network)."""
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False)
    return etree.fromstring(xml, parser)


@dataclass(frozen=True)
class RpcError:
    """One ``<rpc-error>`` of a reply."""
    tag: str = ""
    app_tag: str = ""
    message: str = ""
    path: str = ""
    type: str = ""
    severity: str = "error"

    @property
    def reason(self) -> str:
        """The most specific name: the app tag (``bbf-software-management:component-busy``), else the tag."""
        return self.app_tag or self.tag or "rpc-error"

    @property
    def detail(self) -> str:
        parts = [self.message]
        if self.app_tag and self.tag:
            parts.append(f"error-tag {self.tag}")
        if self.path:
            parts.append(f"path {self.path}")
        return "; ".join(p for p in parts if p)


def rpc_errors(reply) -> list[RpcError]:
    """Every ``rpc-error`` (severity error) in an ``rpc-reply`` element."""
    errors = []
    for error in reply.iter(qn(NC_NS, "rpc-error")):
        item = RpcError(**{key: text(error, NC_NS, f"error-{name}") or "" for key, name in
                           (("tag", "tag"), ("app_tag", "app-tag"), ("message", "message"),
                            ("path", "path"), ("type", "type"), ("severity", "severity"))})
        if item.severity != "warning":
            errors.append(item)
    return errors


@dataclass(frozen=True)
class Revision:
    """One software revision (a partition), whatever the dialect calls it."""
    key: str  # the list key: id (bbf-software-management) or name (pre-standard dialects)
    state: str = ""  # downloading | not-available | available | in-use ("" when the dialect has none)
    version: str = ""
    product_code: str = ""
    hash: str = ""
    url: str = ""
    valid: bool | None = None
    active: bool | None = None
    committed: bool | None = None
    last_changed: str = ""
    download_completed: str = ""
    last_activated: str = ""
    last_committed: str = ""

    @property
    def downloading(self) -> bool:
        return self.state == "downloading"


@dataclass(frozen=True)
class LastDownload:
    """How the last download ended, for dialects that keep it per software rather than per revision."""
    key: str
    result: str  # successful | failed | aborted
    error_tag: str = ""
    message: str = ""
    time: str = ""


@dataclass(frozen=True)
class Software:
    """One software (e.g. the OLT application software) of one hardware component."""
    component: str
    name: str
    capabilities: frozenset = frozenset()  # identity local names, e.g. {"activate", "commit"}
    max_revisions: int | None = None
    revisions: tuple = ()
    busy: bool = False  # a download runs (dialects without a per-revision state say so here)
    # dialects without a per-revision state: how the last download ended
    last_download: LastDownload | None = None

    def revision(self, key: str) -> Revision | None:
        for revision in self.revisions:
            if revision.key == str(key):
                return revision
        return None

    @property
    def label(self) -> str:
        return f"{self.component}/{self.name}"


@dataclass(frozen=True)
class Notice:
    """One software-management notification, neutral. ``kind`` is the notification's YANG name."""
    kind: str
    component: str = ""
    software: str = ""
    key: str = ""  # "" when the notification names no revision (the operation's one is meant)
    error_tag: str = ""
    message: str = ""
    event_time: str = ""
    phase: str = ""  # set by dialects whose one notification reports success or failure (O-RAN status)

    @property
    def failed(self) -> bool:
        return self.kind.endswith("-failed")

    @property
    def identity(self) -> tuple:
        return (self.kind, self.component, self.software, self.key, self.event_time, self.error_tag)


@dataclass
class HardwareComponent:
    name: str
    data: dict = field(default_factory=dict)


class Dialect:
    """Base of a software-management dialect. Subclasses set the class attributes and the methods.

    ``module``/``namespace``: the YANG module it implements, found among the server's modules (hello or YANG
    library, :meth:`find`). ``hardware_root``: ``hardware`` (NMDA) or ``hardware-state``.
    """

    module = ""
    namespace = ""
    hardware_root = "hardware"
    # notification kind -> phase: "downloaded", "installed", "download-failed", "activated", "activate-failed",
    # "committed", "commit-failed", "aborted"
    NOTICE_PHASES: dict[str, str] = {}

    # features the module must announce for this dialect to drive it (its actions are if-feature gated)
    required_features: tuple[str, ...] = ()

    def __init__(self, module=None):
        """*module*: the server's :class:`netconf_discovery.Module` entry for this model (None: not known)."""
        self.revision = getattr(module, "revision", "") or ""
        self.features = getattr(module, "features", None)  # None: the server did not say

    @classmethod
    def find(cls, library):
        """This model's implemented module in *library* (a :class:`netconf_discovery.Library`), or None."""
        return library.module(cls.module, cls.namespace)

    @classmethod
    def unusable(cls, module) -> str:
        """Why the server's *module* cannot be driven ("" when it can): a required feature it lacks."""
        if module.features is None:
            return ""
        missing = [f for f in cls.required_features if f not in module.features]
        return f"{module.describe()} lacks feature {', '.join(missing)}" if missing else ""

    def has_feature(self, name: str) -> bool | None:
        """Whether the server announced feature *name* for this module (None: it did not say)."""
        return None if self.features is None else name in self.features

    @property
    def module_of(self) -> dict[str, str]:
        return {self.namespace: self.module}

    # -- reading -----------------------------------------------------------------------------
    def state_filter(self, component: str | None = None) -> str:
        """Subtree filter of the software of one component (or of every component)."""
        name = f"<name>{escape(component)}</name>" if component else "<name/>"
        return (f'<{self.hardware_root} xmlns="{HW_NS}"><component>{name}'
                f'<software xmlns="{self.namespace}"/></component></{self.hardware_root}>')

    def software_entries(self, data):
        """``(component name, software element)`` of every software in a ``<data>`` reply."""
        hardware = data.find(qn(HW_NS, self.hardware_root)) if data is not None else None
        for comp in hardware.findall(qn(HW_NS, "component")) if hardware is not None else []:
            container = comp.find(qn(self.namespace, "software"))
            for software in container.findall(qn(self.namespace, "software")) if container is not None else []:
                yield text(comp, HW_NS, "name") or "", software

    def notification_software(self, notification):
        """``(Notice fields, software element)`` of a notification about a software of this model, or None."""
        if notification is None or notification.tag != qn(NOTIFICATION_NS, "notification"):
            return None
        hardware = notification.find(qn(HW_NS, self.hardware_root))
        comp = hardware.find(qn(HW_NS, "component")) if hardware is not None else None
        software = child(comp, self.namespace, "software", "software") if comp is not None else None
        if software is None:
            return None
        return ({"component": text(comp, HW_NS, "name") or "", "software": text(software, self.namespace, "name") or "",
                 "event_time": text(notification, NOTIFICATION_NS, "eventTime") or ""}, software)

    def parse_state(self, data) -> list[Software]:
        raise NotImplementedError

    def active_revision(self, software: Software) -> Revision | None:
        for revision in software.revisions:
            if revision.active:
                return revision
        return None

    # -- actions -----------------------------------------------------------------------------
    def download_action(self, software: Software, url: str, replace: Revision | None):
        raise NotImplementedError

    def download_key(self, software: Software, url: str, replace: Revision | None) -> str | None:
        """Key of the revision :meth:`download_action` will write when the client chooses it (None: the device does)."""
        return None

    def download_reply(self, reply, software: Software) -> str | None:
        """Key of the revision the download writes, from the action output (None: not told)."""
        return None

    def refused(self, reply) -> tuple[str, str] | None:
        """``(error tag, message)`` when an action's output itself reports a failure (None: accepted)."""
        return None

    def phase(self, notice: Notice) -> str:
        """What a notification means for the operation (see NOTICE_PHASES)."""
        return notice.phase or self.NOTICE_PHASES.get(notice.kind, "")

    def install_action(self, software: Software, key: str | None):
        """A second step after the transfer (O-RAN ``software-install``), or None when ``download`` installs too.
        When there is one, the download ends with the dialect's ``installed`` notification phase."""
        return None

    def restart_action(self, software: Software, key: str):
        """What restarts the device into an activated revision when ``activate`` itself does not (O-RAN
        ``reset``), or None."""
        return None

    def revision_action(self, software: Software, key: str, verb: str):
        """The action element of *verb* (``activate``, ``commit``, ``abort-download``) on one revision
        (None: the model has no such action)."""
        raise NotImplementedError

    def parse_notification(self, notification) -> Notice | None:
        raise NotImplementedError

    # -- shared ietf-hardware helpers ----------------------------------------------------------
    def hardware_filter(self) -> str:
        return f'<{self.hardware_root} xmlns="{HW_NS}"/>'

    def software_element(self, software: Software):
        """``<action><hardware><component><name/><software><software><name/>`` -> (action, inner software)."""
        action = etree.Element(qn(YANG_ACTION_NS, "action"), nsmap={None: YANG_ACTION_NS})
        hardware = etree.SubElement(action, qn(HW_NS, self.hardware_root), nsmap={None: HW_NS})
        comp = sub(hardware, HW_NS, "component")
        sub(comp, HW_NS, "name", software.component)
        container = etree.SubElement(comp, qn(self.namespace, "software"), nsmap={None: self.namespace})
        entry = sub(container, self.namespace, "software")
        sub(entry, self.namespace, "name", software.name)
        return action, entry

    def hardware_components(self, data) -> list[HardwareComponent]:
        """ietf-hardware components (both the NMDA and the -state tree) as plain dicts."""
        root = data.find(qn(HW_NS, self.hardware_root)) if data is not None else None
        if root is None and data is not None and data.tag == qn(HW_NS, self.hardware_root):
            root = data
        components = []
        for comp in root.findall(qn(HW_NS, "component")) if root is not None else []:
            alarm = child(comp, HW_NS, "state", "alarm-state")
            sensor = child(comp, HW_NS, "sensor-data")
            components.append(HardwareComponent(name=text(comp, HW_NS, "name") or "", data={
                "class": (text(comp, HW_NS, "class") or "").split(":")[-1],
                "parent": text(comp, HW_NS, "parent") or "",
                "description": text(comp, HW_NS, "description") or "",
                "serial_num": text(comp, HW_NS, "serial-num") or "",
                "model_name": text(comp, HW_NS, "model-name") or "",
                "mfg_name": text(comp, HW_NS, "mfg-name") or "",
                "hardware_rev": text(comp, HW_NS, "hardware-rev") or "",
                "firmware_rev": text(comp, HW_NS, "firmware-rev") or "",
                "software_rev": text(comp, HW_NS, "software-rev") or "",
                "uuid": text(comp, HW_NS, "uuid") or "",
                "is_fru": bool(boolean(text(comp, HW_NS, "is-fru"))),
                "oper_state": text(comp, HW_NS, "state", "oper-state") or "",
                "alarm_state": sorted(flag for flag in (alarm.text or "").split() if flag) if alarm is not None else [],
                "sensor": None if sensor is None else {
                    "value": text(sensor, HW_NS, "value"),
                    "value_type": text(sensor, HW_NS, "value-type") or "",
                    "scale": text(sensor, HW_NS, "value-scale") or "",
                    "precision": text(sensor, HW_NS, "value-precision"),
                    "oper_status": text(sensor, HW_NS, "oper-status") or "",
                    "units": text(sensor, HW_NS, "units-display") or "",
                },
            }))
        return components
