# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Dialect: BBF TR-383 ``bbf-software-management`` (urn:bbf:yang:bbf-software-management).

PRIVATE to the collection. Revisions keyed by ``id`` under ``/hw:hardware/hw:component/bbf-swm:software``;
YANG 1.1 actions ``download``, ``activate``, ``commit``, ``abort-download`` and nested notifications.
"""

from __future__ import annotations

from .base import Dialect, Notice, Revision, Software, boolean, child, identity, local, qn, sub, text

NS = "urn:bbf:yang:bbf-software-management"
MODULE = "bbf-software-management"
BY_SYSTEM = "download-target-selection-by-system"
BY_USER = "download-target-selection-by-user"


class BbfSoftwareManagement(Dialect):
    module = MODULE
    namespace = NS
    hardware_root = "hardware"
    required_features = ("software-management-actions",)  # every action is if-feature gated by it
    NOTICE_PHASES = {
        "revision-downloaded": "downloaded",
        "download-revision-failed": "download-failed",
        "download-revision-aborted": "aborted",
        "revision-activated": "activated",
        "activate-failed": "activate-failed",
        "revision-committed": "committed",
        "commit-failed": "commit-failed",
    }

    # -- reading -----------------------------------------------------------------------------
    def parse_state(self, data) -> list[Software]:
        found = []
        for component, software in self.software_entries(data):
            revisions = child(software, NS, "revisions")
            maximum = text(revisions, NS, "maximum-number-of-revisions") if revisions is not None else None
            found.append(Software(
                component=component,
                name=text(software, NS, "name") or "",
                capabilities=frozenset(identity(c).split(":")[-1] for c in software.findall(qn(NS, "capability"))),
                max_revisions=int(maximum) if maximum and maximum.isdigit() else None,
                revisions=tuple(self._revision(r) for r in
                                (revisions.findall(qn(NS, "revision")) if revisions is not None else [])),
            ))
        return found

    @staticmethod
    def _revision(element) -> Revision:
        return Revision(
            key=text(element, NS, "id") or "",
            state=text(element, NS, "state") or "",
            version=text(element, NS, "version") or "",
            product_code=text(element, NS, "product-code") or "",
            hash=text(element, NS, "hash") or "",
            url=text(element, NS, "source", "url") or "",
            valid=boolean(text(element, NS, "is-valid")),
            active=boolean(text(element, NS, "is-active")),
            committed=boolean(text(element, NS, "is-committed")),
            last_changed=text(element, NS, "last-changed") or "",
            download_completed=text(element, NS, "download-completed") or "",
            last_activated=text(element, NS, "activate", "last-activated") or "",
            last_committed=text(element, NS, "commit", "last-committed") or "",
        )

    def active_revision(self, software: Software) -> Revision | None:
        active = super().active_revision(software)
        if active is None and "activate" not in software.capabilities:
            # Without the activate capability there is no is-active leaf: the revision in use runs.
            in_use = [r for r in software.revisions if r.state == "in-use"]
            return in_use[0] if len(in_use) == 1 else None
        return active

    # -- actions -----------------------------------------------------------------------------
    def _revisions_element(self, software: Software):
        action, entry = self.software_element(software)
        return action, sub(entry, NS, "revisions")

    def selected_by_system(self, software: Software) -> bool:
        """Which ``target`` case the download uses. The module's features say which cases exist in the
        device's schema (``download-target-selection-by-system``/``-by-user``); the software's
        ``capability`` identities say which this software supports. By the system when it is offered (the
        device picks a non-active, non-committed entry), else by the user."""
        offered = {BY_SYSTEM, BY_USER}
        if self.features is not None and self.features & offered:
            offered &= self.features
        if software.capabilities & offered:
            offered &= software.capabilities
        return BY_SYSTEM in offered

    def download_action(self, software: Software, url: str, replace: Revision | None):
        """``download``: by the system (replace-or-create, any non-active entry) when the device offers it,
        else by the user (replace the standby entry, or create one while there is room)."""
        action, revisions = self._revisions_element(software)
        download = sub(sub(revisions, NS, "download"), NS, "download")
        sub(sub(download, NS, "source"), NS, "url", url)
        target = sub(download, NS, "target")
        if self.selected_by_system(software):
            selected = sub(target, NS, "selected-by-system")
            sub(selected, NS, "operation", "replace-or-create")
            sub(sub(selected, NS, "replace"), NS, "not-available-only", "false")
        else:
            selected = sub(target, NS, "selected-by-user")
            if replace is not None:
                sub(selected, NS, "operation", "replace")
                sub(sub(selected, NS, "replace"), NS, "id", replace.key)
            else:
                sub(selected, NS, "operation", "create")
        return action

    def download_key(self, software: Software, url: str, replace: Revision | None) -> str | None:
        return replace.key if not self.selected_by_system(software) and replace is not None else None

    def download_reply(self, reply, software: Software) -> str | None:
        target = reply.find(qn(NS, "target"))
        if target is None:
            target = next(reply.iter(qn(NS, "target")), None)
        key = text(target, NS, "id") if target is not None else None
        return key or None

    def revision_action(self, software: Software, key: str, verb: str):
        action, revisions = self._revisions_element(software)
        revision = sub(revisions, NS, "revision")
        sub(revision, NS, "id", str(key))
        sub(sub(revision, NS, verb), NS, verb)
        return action

    # -- notifications -------------------------------------------------------------------------
    def parse_notification(self, notification) -> Notice | None:
        """A nested bbf-swm notification (``<notification><eventTime/><hardware>...``), or None."""
        found = self.notification_software(notification)
        revisions = child(found[1], NS, "revisions") if found is not None else None
        if revisions is None:
            return None
        base = found[0]
        for element in revisions:
            if local(element.tag) == "revision-deleted":
                return Notice(kind="revision-deleted", key=text(element, NS, "id") or "", **base)
            if local(element.tag) != "revision":
                continue
            key = text(element, NS, "id") or ""
            for node in element.iter():
                kind = local(node.tag)
                if kind in self.NOTICE_PHASES and node.tag == qn(NS, kind):
                    error = child(node, NS, "error")
                    if error is None:
                        return Notice(kind=kind, key=key, **base)
                    return Notice(kind=kind, key=key, error_tag=identity(child(error, NS, "tag"), self.module_of),
                                  message=text(error, NS, "message") or "", **base)
        return None


DIALECT = BbfSoftwareManagement
