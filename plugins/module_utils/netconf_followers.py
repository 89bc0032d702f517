# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Followers of the NETCONF image operations: each waits on notifications and on the polled revision state
until its operation ends, inside the task's ``timeout`` and ``stall_timeout`` (one ProgressWatch).

PRIVATE to the collection. :class:`DownloadFollower` follows a ``download`` (and an install step);
:class:`BootFollower` follows ``activate`` through the device's restart, then ``commit``.

Progress (what resets ``stall_timeout``): a notification about the operation, or an answer of the device
showing its state. While the device restarts (it closed the session and does not answer yet), the model
has nothing to report: that phase is bounded by ``timeout`` alone, as over DMI after REBOOTING_DEVICE.
"""

from __future__ import annotations

import time

from .device import ACTIVATION_FAILED, REBOOTING_DEVICE, UPGRADE_FAILED, DeviceError
from .netconf_dialects.base import Notice, Revision, Software
from .transport_base import ProgressWatch

POLL_INTERVAL = 1.0  # seconds between two reads of the revision state while an operation runs
SETTLE_TIME = 5.0  # after a restart, how long a target that is not active may still become active
COPYING_IMAGE = "COPYING_IMAGE"
INSTALLING_IMAGE = "INSTALLING_IMAGE"
COMMITTING_IMAGE = "COMMITTING_IMAGE"


def describe_revision(revision: Revision | None) -> str:
    if revision is None:
        return "nothing"
    label = " ".join(part for part in (revision.product_code, revision.version) if part) or "no image"
    return f"revision {revision.key} ({label})"


class Watch:
    """What an operation waits on: each notification as it arrives, and the software state every
    POLL_INTERVAL. Yields ``(notice, None)``, ``(None, software)``, or ``(None, None)`` when there is
    nothing new or the device cannot be read right now (it is restarting: the next poll reconnects).
    Before every wait, ``check()`` raises when the operation must end (deadline, stall)."""

    def __init__(self, follower: "_Follower", check):
        self.follower, self.check = follower, check
        self.next_poll = time.monotonic() + min(POLL_INTERVAL, 0.3)

    def poll_soon(self) -> None:
        self.next_poll = 0.0

    def __iter__(self):
        follower = self.follower
        while True:
            self.check()
            wait = min(max(self.next_poll - time.monotonic(), 0.01), follower.budget.remaining)
            notice = follower.session.next_notice(wait)
            if notice is not None:
                yield notice, None
            if time.monotonic() < self.next_poll:
                if notice is None:
                    yield None, None
                continue
            self.next_poll = time.monotonic() + POLL_INTERVAL
            try:
                current = follower.device._software(follower.operation, retry=False)
            except DeviceError as exc:
                if not exc.retryable:
                    raise
                current = None
            if current is not None:
                follower.watch.progress()
            yield None, current


class _Follower:
    def __init__(self, device, operation: str, software: Software, budget, emit):
        self.device, self.session = device, device.session
        self.operation, self.software, self.budget, self.emit = operation, software, budget, emit
        self.history = emit.history
        self.watch = ProgressWatch(budget)

    @property
    def dialect(self):
        return self.session.dialect

    def fail(self, reason: str, detail: str) -> DeviceError:
        return self.session.error(self.operation, reason, detail, history=self.history)

    def about(self, notice: Notice, key: str | None) -> bool:
        return self.session.about(notice, self.software, key)

    def late_notice(self, key: str, phase: str, what: str, state: str = REBOOTING_DEVICE) -> bool:
        """The state already shows the outcome: record the matching notification (replayed after a
        reconnect, or still in flight) in the history when it arrives within a moment."""
        notice = self.session.wait_for(lambda n: self.dialect.phase(n) == phase and self.about(n, key),
                                       min(0.5, self.budget.remaining))
        if notice is not None:
            self.emit(state, f"notification {notice.kind}: revision {notice.key} {what}")
        return notice is not None


class DownloadFollower(_Follower):
    """Notifications plus polling of the revision state until the download ends."""

    def run(self, key: str | None) -> Revision:
        downloaded = seen_busy = installing = False
        # with an install step, the slot shows the new image only once installed: notifications decide
        two_steps = self.dialect.install_action(self.software, key) is not None
        failure: Notice | None = None
        keys = [key]

        def check():
            verdict = self.watch.verdict()
            if not verdict:
                return
            self.abort(keys[0])
            if verdict == "TIMEOUT":
                raise self.fail("TIMEOUT", f"download not finished within {self.budget.timeout:g}s; "
                                "abort-download sent")
            raise self.fail("STALLED", f"the device gave no sign of progress for {self.budget.stall_timeout:g}s; "
                            "abort-download sent")

        watch = Watch(self, check)
        for notice, current in watch:
            if notice is not None:
                if not self.about(notice, key):
                    continue
                self.watch.progress()
                key = keys[0] = key or notice.key
                phase = self.dialect.phase(notice)
                install = self.dialect.install_action(self.software, key) if phase == "downloaded" else None
                if install is not None and not installing:
                    installing = True
                    self.emit(INSTALLING_IMAGE, f"notification {notice.kind}: revision {notice.key} transferred; "
                                                "installing it")
                    self.session.action(self.operation, "install action", install)
                elif phase in ("downloaded", "installed"):
                    downloaded = True
                    self.emit(INSTALLING_IMAGE, f"notification {notice.kind}: revision {notice.key} downloaded "
                                                "and validated")
                    watch.poll_soon()
                elif phase in ("download-failed", "aborted"):
                    failure = notice
                    self.emit(UPGRADE_FAILED, reason=notice.error_tag or notice.kind, detail=notice.message,
                              description=f"notification {notice.kind} for revision {notice.key}", ok=False)
                    watch.poll_soon()
                continue
            if current is None:
                continue  # nothing new, or the session is lost: the next poll reconnects
            seen_busy = seen_busy or current.busy
            outcome = self.last_download(current, key, seen_busy)
            if outcome is not None and outcome.result != "successful" and failure is None:
                failure = Notice(kind=f"download {outcome.result}", key=outcome.key, error_tag=outcome.error_tag,
                                 message=outcome.message)
            revision = current.revision(key) if key else next((r for r in current.revisions if r.downloading), None)
            if revision is None and failure is not None and not current.busy:
                raise self.fail(failure.error_tag or "UPGRADE_FAILED",
                                f"download into revision {key} failed: {failure.message}")
            if revision is None or revision.downloading or current.busy:
                continue
            if failure is not None:
                raise self.fail(failure.error_tag or "UPGRADE_FAILED", f"{failure.kind} for revision "
                                f"{failure.key or key}" + (f": {failure.message}" if failure.message else ""))
            # without a per-revision state, a revision of that name may be an old one: wait for a sign of the end
            ended = bool(revision.state) or (outcome is not None and outcome.result == "successful")
            if not (downloaded or (ended and not two_steps)):
                continue
            if revision.valid is not False and revision.state in ("available", "in-use", ""):
                if not downloaded and not (self.session.subscribe and self.late_notice(
                        revision.key, "downloaded", "downloaded and validated", INSTALLING_IMAGE)):
                    self.emit(INSTALLING_IMAGE, f"{describe_revision(revision)} is {revision.state or 'valid'}")
                return revision
            return self.failed_revision(revision)

    def failed_revision(self, revision: Revision):
        failure = self.session.wait_for(lambda n: self.dialect.phase(n) in ("download-failed", "aborted")
                                        and self.about(n, revision.key), min(1.0, self.budget.remaining))
        reason = failure.error_tag if failure is not None and failure.error_tag else "UPGRADE_FAILED"
        detail = failure.message if failure is not None else ""
        state = revision.state or "not valid"
        self.emit(UPGRADE_FAILED, reason=reason, ok=False, detail=detail,
                  description=f"{describe_revision(revision)} is {state} after the download")
        raise self.fail(reason, f"{describe_revision(revision)} is {state}" + (f": {detail}" if detail else ""))

    def last_download(self, software: Software, key: str | None, seen_busy: bool):
        """The per-software outcome of *this* download: for key, and recent (by its time, else seen running)."""
        from .clock import parse_time

        outcome = software.last_download
        if outcome is None or software.busy or (key is not None and outcome.key != str(key)):
            return None
        stamp = parse_time(outcome.time)
        if stamp is None:
            return outcome if seen_busy else None
        since = self.session.replay_since
        return outcome if since is None or stamp >= since else None

    def abort(self, key: str | None) -> None:
        element = self.dialect.revision_action(self.software, key, "abort-download") if key is not None else None
        if element is None:
            return
        try:
            self.session.action(self.operation, "abort-download action", element)
        except DeviceError:
            pass  # best effort: the timeout is what the task reports


class BootFollower(_Follower):
    """``activate`` ridden through the restart, then ``commit``."""

    @property
    def restarting(self) -> bool:
        """The device closed the session and has not answered a new one yet: nothing to report (excused)."""
        return self.session.manager is None and self.session.lost_by_peer

    def ride_restart(self, target: Revision) -> Revision:
        """Wait until *target* is the active revision, following the device through its restart."""
        session = self.session
        drops, connections = session.drops, session.connections
        activated = restarted = restarted_by_us = False
        failed: Notice | None = None
        settle_until = None

        def check():
            if self.restarting:
                self.watch.excuse()
            verdict = self.watch.verdict()
            if verdict == "TIMEOUT":
                raise self.fail("TIMEOUT", f"{describe_revision(target)} was not running within "
                                f"{self.budget.timeout:g}s" + ("; the device did not answer again"
                                                               if session.manager is None else ""))
            if verdict == "STALLED":
                raise self.fail("STALLED", f"the device answered nothing about {describe_revision(target)} for "
                                f"{self.budget.stall_timeout:g}s while its session was open")

        watch = Watch(self, check)
        for notice, current in watch:
            if session.drops != drops:
                drops, restarted = session.drops, True
                self.emit(REBOOTING_DEVICE, "NETCONF session closed by the restarting device; reconnecting")
            if notice is not None:
                phase = self.dialect.phase(notice) if self.about(notice, target.key) else ""
                if phase:
                    self.watch.progress()
                if phase == "activated":
                    activated = True
                    self.emit(REBOOTING_DEVICE, f"notification {notice.kind}: {describe_revision(target)} is active")
                    restarted_by_us = restarted_by_us or self.restart(target)
                    watch.poll_soon()
                elif phase == "activate-failed":
                    failed = notice
                    self.emit(ACTIVATION_FAILED, reason=notice.error_tag or ACTIVATION_FAILED, detail=notice.message,
                              description=f"notification {notice.kind} for revision {notice.key}", ok=False)
                    watch.poll_soon()
                continue
            if current is None:
                continue
            if session.connections != connections:
                connections, restarted = session.connections, True
                self.emit(REBOOTING_DEVICE, "the device answers again")
            active = self.dialect.active_revision(current)
            booting = current.revision(target.key)
            if booting is not None and booting.committed and not booting.active and not restarted_by_us:
                restarted_by_us = self.restart(target)  # boots next: restart into it
            if active is not None and active.key == target.key:
                if not activated:
                    self.late_notice(target.key, "activated", "is active")
                return active
            if failed is not None:
                raise self.fail(failed.error_tag or ACTIVATION_FAILED,
                                f"{failed.message or 'activate failed'}; {describe_revision(active)} is active")
            if restarted:
                settle_until = settle_until or time.monotonic() + SETTLE_TIME
                if time.monotonic() >= settle_until:
                    raise self.fail(ACTIVATION_FAILED, f"the device restarted but {describe_revision(active)} is "
                                    f"active, not {describe_revision(target)}")

    def restart(self, target: Revision) -> bool:
        """Send the dialect's restart (e.g. O-RAN ``reset``) when activate does not restart the device itself."""
        element = self.dialect.restart_action(self.software, target.key)
        if element is None:
            return False
        try:
            self.session.action(self.operation, "restart", element)
        except DeviceError as exc:
            if not exc.retryable:
                raise
        self.emit(REBOOTING_DEVICE, f"restart requested to boot {describe_revision(target)}")
        return True

    def await_commit(self, running: Revision) -> Revision:
        committed = False
        self.watch.progress()

        def check():
            verdict = self.watch.verdict()
            if verdict == "TIMEOUT":
                raise self.fail("TIMEOUT", f"{describe_revision(running)} not committed within "
                                f"{self.budget.timeout:g}s")
            if verdict == "STALLED":
                raise self.fail("STALLED", f"the device answered nothing about the commit of "
                                f"{describe_revision(running)} for {self.budget.stall_timeout:g}s")

        watch = Watch(self, check)
        watch.poll_soon()
        for notice, current in watch:
            if notice is not None:
                phase = self.dialect.phase(notice) if self.about(notice, running.key) else ""
                if phase == "committed":
                    committed = True
                    self.watch.progress()
                    self.emit(COMMITTING_IMAGE, f"notification {notice.kind}: {describe_revision(running)} is "
                                                "committed")
                    watch.poll_soon()
                elif phase == "commit-failed":
                    self.emit(ACTIVATION_FAILED, reason=notice.error_tag or "COMMIT_FAILED", detail=notice.message,
                              description=f"notification {notice.kind} for revision {notice.key}", ok=False)
                    raise self.fail(notice.error_tag or "COMMIT_FAILED",
                                    f"commit of {describe_revision(running)} failed: {notice.message}")
                continue
            if current is None:
                continue
            revision = current.revision(running.key)
            if revision is not None and revision.committed:
                if not committed:
                    self.late_notice(running.key, "committed", "is committed", COMMITTING_IMAGE)
                return revision
            if revision is None or not revision.active:
                raise self.fail(ACTIVATION_FAILED, f"{describe_revision(running)} is no longer active while it was "
                                "being committed")
