# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Dialect: O-RAN WG4 M-plane ``o-ran-software-management`` (urn:o-ran:software-management:1.0).

PRIVATE to the collection. Software slots in ``/software-inventory/software-slot`` (``name``, ``status``
VALID/INVALID/EMPTY, ``active`` = boots next, ``running``, ``access``, ``build-name``, ``build-version``).
The operations are RPCs: ``software-download`` (file into the O-RU), then ``software-install`` into the
standby slot, ``software-activate`` (the slot boots next) and ``o-ran-operations:reset`` (the restart).
Progress comes as ``download-event``, ``install-event`` and ``activation-event`` with a ``status``.

Mapped onto the neutral view: revision = slot; active revision = the *running* slot; committed = ``active``
(boot next); the standby is a READ_WRITE slot that does not run (read-only factory slots are left out).
There is no commit and no hash: the O-RU checks integrity itself (``INTEGRITY_ERROR``).
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from .base import Dialect, Notice, Revision, Software, boolean, etree, qn, sub, text

NS = "urn:o-ran:software-management:1.0"
MODULE = "o-ran-software-management"
OPS_NS = "urn:o-ran:operations:1.0"
NOTIFICATION_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
# event -> (phase when COMPLETED, phase otherwise)
_EVENTS = {"download-event": ("downloaded", "download-failed"), "install-event": ("installed", "download-failed"),
           "activation-event": ("activated", "activate-failed")}


def split_credentials(url: str) -> tuple[str, str]:
    """``sftp://user:pw@host/f`` -> (``sftp://user@host/f``, ``pw``): O-RAN carries the password apart."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, ""
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _sep, password = userinfo.partition(":")
    return parts._replace(netloc=f"{user}@{host}").geturl(), unquote(password)


class ORanSoftwareManagement(Dialect):
    module = MODULE
    namespace = NS
    hardware_root = "hardware"
    NOTICE_PHASES = {}  # every O-RAN event carries its outcome in status: Notice.phase

    def __init__(self, module=None):
        super().__init__(module)
        self._file = ""  # the file the running download fetches (software-install names it)

    # -- reading -----------------------------------------------------------------------------
    def state_filter(self, component: str | None = None) -> str:
        return f'<software-inventory xmlns="{NS}"/>'

    def parse_state(self, data) -> list[Software]:
        inventory = data.find(qn(NS, "software-inventory")) if data is not None else None
        if inventory is None:
            return []
        slots = [self._slot(s) for s in inventory.findall(qn(NS, "software-slot"))]
        return [Software(component="", name="software-inventory",
                         capabilities=frozenset({"activate", "validate"}),
                         revisions=tuple(r for r, read_only in slots if r.active or not read_only))]

    @staticmethod
    def _slot(element) -> tuple[Revision, bool]:
        status = text(element, NS, "status") or ""
        revision = Revision(
            key=text(element, NS, "name") or "",
            state={"VALID": "available", "INVALID": "not-available", "EMPTY": "not-available"}.get(status, ""),
            version=text(element, NS, "build-version") or "",
            product_code=text(element, NS, "build-name") or text(element, NS, "vendor-code") or "",
            valid=status == "VALID",
            active=boolean(text(element, NS, "running")),
            committed=boolean(text(element, NS, "active")),
        )
        return revision, text(element, NS, "access") == "READ_ONLY"

    # -- actions -----------------------------------------------------------------------------
    def download_key(self, software: Software, url: str, replace: Revision | None) -> str | None:
        return replace.key if replace is not None else None

    def download_action(self, software: Software, url: str, replace: Revision | None):
        path, password = split_credentials(url)
        self._file = posixpath.basename(unquote(urlsplit(url).path))
        rpc = etree.Element(qn(NS, "software-download"), nsmap={None: NS})
        sub(rpc, NS, "remote-file-path", path)
        if password:
            sub(sub(rpc, NS, "password"), NS, "password", password)
        return rpc

    def install_action(self, software: Software, key: str | None):
        rpc = etree.Element(qn(NS, "software-install"), nsmap={None: NS})
        sub(rpc, NS, "slot-name", key or "")
        sub(rpc, NS, "file-names", self._file)
        return rpc

    def restart_action(self, software: Software, key: str):
        return etree.Element(qn(OPS_NS, "reset"), nsmap={None: OPS_NS})

    def revision_action(self, software: Software, key: str, verb: str):
        if verb != "activate":
            return None  # no commit (active already means boot next), no abort of a download
        rpc = etree.Element(qn(NS, "software-activate"), nsmap={None: NS})
        sub(rpc, NS, "slot-name", str(key))
        return rpc

    def refused(self, reply) -> tuple[str, str] | None:
        status = text(reply, NS, "status")
        if status is None or status in ("STARTED", "COMPLETED"):
            return None
        return f"{MODULE}:{status}", text(reply, NS, "error-message") or ""

    # -- notifications -------------------------------------------------------------------------
    def parse_notification(self, notification) -> Notice | None:
        if notification is None or notification.tag != qn(NOTIFICATION_NS, "notification"):
            return None
        for event in notification:
            name = etree.QName(event).localname if isinstance(event.tag, str) else ""
            if event.tag != qn(NS, name) or name not in _EVENTS:
                continue
            status = text(event, NS, "status") or ""
            done, failed = _EVENTS[name]
            return Notice(kind=name, key=text(event, NS, "slot-name") or "",
                          phase=done if status == "COMPLETED" else failed,
                          error_tag="" if status == "COMPLETED" else f"{MODULE}:{status}",
                          message=text(event, NS, "error-message") or "",
                          event_time=text(notification, NOTIFICATION_NS, "eventTime") or "")
        return None


DIALECT = ORanSoftwareManagement
