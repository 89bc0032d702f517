"""Small XML helpers of the NETCONF simulator: qualified names, leaves, identityref values and
yang:date-and-time (RFC 6991) values."""
from __future__ import annotations

from datetime import datetime, timezone

from lxml import etree

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"


def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def leaf(parent, ns: str, name: str, text) -> etree._Element:
    elem = etree.SubElement(parent, q(ns, name))
    elem.text = text if isinstance(text, str) else str(text).lower() if isinstance(text, bool) else str(text)
    return elem


_SLOT = "swim-sim-children"


def compose(parent: etree._Element, children) -> bytes:
    """Serialize ``parent`` with ``children`` as its last children, without moving them into its tree.

    lxml drops a namespace declaration that looks redundant when a node moves into another document (e.g.
    ``xmlns:bbf-swm`` on a leaf whose default namespace is the same URI), which would leave an identityref
    value's prefix undeclared; serializing each part as it is keeps every declaration."""
    parent.append(etree.Comment(_SLOT))
    try:
        text = etree.tostring(parent)
    finally:
        parent.remove(parent[-1])
    before, after = text.split(f"<!--{_SLOT}-->".encode())
    return before + b"".join(etree.tostring(child, with_tail=False) for child in children) + after


def identity_leaf(parent, ns: str, name: str, prefix: str, prefix_ns: str, identity: str,
                  declare_here: bool) -> etree._Element:
    """An identityref leaf ``prefix:identity``. ``declare_here``: declare the prefix on the leaf itself (as
    libyang prints it); otherwise an ancestor must declare it."""
    nsmap = {None: ns, prefix: prefix_ns} if declare_here else None
    elem = etree.SubElement(parent, q(ns, name), nsmap=nsmap)
    elem.text = f"{prefix}:{identity}"
    return elem


def date_time(stamp: float, canonical: bool = False) -> str:
    """yang:date-and-time in UTC with milliseconds. ``canonical``: the RFC 6991 canonical form of a known
    offset, ``+00:00`` (what libyang/Netopeer2 print), instead of ``Z``."""
    moment = datetime.fromtimestamp(stamp, tz=timezone.utc)
    zone = "+00:00" if canonical else "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}{zone}"


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


class RpcError(Exception):
    """An <rpc-error> to send (RFC 6241 Appendix A)."""

    def __init__(self, tag: str, message: str, error_type: str = "application", app_tag: str = "",
                 bad_element: str = ""):
        super().__init__(message)
        self.tag, self.message, self.error_type = tag, message, error_type
        self.app_tag, self.bad_element = app_tag, bad_element

    def element(self) -> etree._Element:
        err = etree.Element(q(BASE_NS, "rpc-error"), nsmap={None: BASE_NS})
        for name, text in (("error-type", self.error_type), ("error-tag", self.tag), ("error-severity", "error"),
                           ("error-app-tag", self.app_tag)):
            if text:
                etree.SubElement(err, q(BASE_NS, name)).text = text
        if self.bad_element:
            info = etree.SubElement(err, q(BASE_NS, "error-info"))
            etree.SubElement(info, q(BASE_NS, "bad-element")).text = self.bad_element
        msg = etree.SubElement(err, q(BASE_NS, "error-message"))
        msg.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        msg.text = self.message
        return err
