# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Dialect: BBF pre-standard ``bbf-software-image-management-one-dot-one`` (as deployed on OLTs).

PRIVATE to the collection. Shape of the 2017 draft ``bbf-software-image-management`` (TR-355 era) in the
``-one-dot-one`` namespace: software under ``/hw:hardware-state/hw:component``; revisions keyed by *name*
(the image file name) with ``version``, ``is-valid``, ``is-active``, ``is-committed``; no per-revision
state: the download state is per software (``download/current-state``, ``download/last-download-state``);
actions ``download/download-software`` (``url``, ``name``), ``download/abort-download`` (``name``),
``revision/activate-revision/activate``, ``revision/commit-revision/commit``.

Written from the draft and public device traffic (no YANG file of -one-dot-one is published): leaves this
file does not know are ignored. The image name is the ``product-code`` leaf where a device has it, else
the revision name without its file extension and version (``L6GQAG2209.420`` version ``2209.420`` ->
``L6GQAG``).
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

from .base import Dialect, LastDownload, Notice, Revision, Software, boolean, child, identity, local, qn, sub, text

NS = "urn:bbf:yang:bbf-software-image-management-one-dot-one"
MODULE = "bbf-software-image-management-one-dot-one"
_EXTENSIONS = re.compile(r"\.(img|bin|tar|tgz|tar\.gz|zip|swu|pkg)$", re.IGNORECASE)


def image_name(revision_name: str, version: str) -> str:
    """The image name a revision stands for when the device reports no product code."""
    name = _EXTENSIONS.sub("", revision_name)
    if version and name.endswith(version) and len(name) > len(version):
        name = name[: -len(version)].rstrip("-_.")
    return name


class BbfSoftwareImageManagementOneDotOne(Dialect):
    module = MODULE
    namespace = NS
    hardware_root = "hardware-state"
    NOTICE_PHASES = {
        "software-downloaded": "downloaded",
        "download-software-failed": "download-failed",
        "download-software-aborted": "aborted",
        "revision-activated": "activated",
        "activate-failed": "activate-failed",
        "revision-committed": "committed",
        "commit-failed": "commit-failed",
    }
    # the action container of each verb below revision[name] (abort-download lives under software/download)
    _VERBS = {"activate": ("activate-revision", "activate"), "commit": ("commit-revision", "commit")}

    # -- reading -----------------------------------------------------------------------------
    def parse_state(self, data) -> list[Software]:
        found = []
        for component, software in self.software_entries(data):
            revisions = child(software, NS, "revisions")
            download = child(software, NS, "download")
            found.append(Software(
                component=component,
                name=text(software, NS, "name") or "",
                capabilities=frozenset({"activate", "commit", "validate"}),
                revisions=tuple(self._revision(r) for r in
                                (revisions.findall(qn(NS, "revision")) if revisions is not None else [])),
                busy=text(download, NS, "current-state", "state") == "in-progress",
                last_download=self._last_download(download),
            ))
        return found

    def _last_download(self, download) -> LastDownload | None:
        last = child(download, NS, "last-download-state") if download is not None else None
        result = text(last, NS, "state") if last is not None else None
        if result not in ("successful", "failed", "aborted"):
            return None
        failure = child(last, NS, "failure")
        return LastDownload(
            key=text(last, NS, "software-name") or "", result=result,
            error_tag=identity(child(failure, NS, "failure-reason"), self.module_of) if failure is not None else "",
            message=(text(failure, NS, "failure-string") or "") if failure is not None else "",
            time=text(last, NS, "timestamp") or "")

    @staticmethod
    def _revision(element) -> Revision:
        name = text(element, NS, "name") or ""
        version = text(element, NS, "version") or ""
        return Revision(
            key=name,
            version=version,
            product_code=text(element, NS, "product-code") or image_name(name, version),
            hash=text(element, NS, "hash") or "",
            url=text(element, NS, "source", "url") or "",
            valid=boolean(text(element, NS, "is-valid")),
            active=boolean(text(element, NS, "is-active")),
            committed=boolean(text(element, NS, "is-committed")),
            download_completed=text(element, NS, "download-timestamp") or "",
        )

    # -- actions -----------------------------------------------------------------------------
    def download_key(self, software: Software, url: str, replace: Revision | None) -> str | None:
        """The revision name: the image file name of the URL (the device chooses the slot itself)."""
        return posixpath.basename(unquote(urlsplit(url).path)) or "image"

    def download_action(self, software: Software, url: str, replace: Revision | None):
        action, entry = self.software_element(software)
        download = sub(sub(entry, NS, "download"), NS, "download-software")
        sub(download, NS, "url", url)
        sub(download, NS, "name", self.download_key(software, url, replace))
        return action

    def refused(self, reply) -> tuple[str, str] | None:
        reason = reply.find(qn(NS, "failure-reason"))
        tag = identity(reason, self.module_of) if reason is not None else ""
        if not tag or tag.endswith(":no-failure") or tag == "no-failure":
            return None
        return tag, text(reply, NS, "failure-string") or ""

    def revision_action(self, software: Software, key: str, verb: str):
        action, entry = self.software_element(software)
        if verb == "abort-download":
            sub(sub(sub(entry, NS, "download"), NS, "abort-download"), NS, "name", str(key))
            return action
        container, name = self._VERBS[verb]
        revision = sub(sub(entry, NS, "revisions"), NS, "revision")
        sub(revision, NS, "name", str(key))
        sub(sub(revision, NS, container), NS, name)
        return action

    # -- notifications -------------------------------------------------------------------------
    def parse_notification(self, notification) -> Notice | None:
        found = self.notification_software(notification)
        if found is None:
            return None
        base, software = found
        download = child(software, NS, "download")
        for node in download if download is not None else []:
            kind = local(node.tag)
            if kind in self.NOTICE_PHASES and node.tag == qn(NS, kind):
                return Notice(kind=kind, key=text(node, NS, "name") or "", **base, **self._failure(node))
        revisions = child(software, NS, "revisions")
        for revision in revisions.findall(qn(NS, "revision")) if revisions is not None else []:
            for node in revision.iter():
                kind = local(node.tag)
                if kind in self.NOTICE_PHASES and node.tag == qn(NS, kind):
                    return Notice(kind=kind, key=text(revision, NS, "name") or "", **base, **self._failure(node))
        return None

    def _failure(self, node) -> dict:
        holder = child(node, NS, "failure")
        holder = node if holder is None else holder
        reason = child(holder, NS, "failure-reason")
        return {"error_tag": identity(reason, self.module_of) if reason is not None else "",
                "message": text(holder, NS, "failure-string") or ""}


DIALECT = BbfSoftwareImageManagementOneDotOne
