# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""NETCONF transport of the device API (ncclient over SSH; BBF TR-383 software management).

PRIVATE to the collection. The YANG model is spoken by a *dialect* (``netconf_dialects/``), chosen from the
modules the server announces (``<hello>`` and its YANG library: ``netconf_discovery.py``); this file maps the
dialect's neutral revisions onto the active/standby view of :class:`Device`, so every module behaves as
over DMI. The session (SSH, host keys, hello, discovery, RPCs, notifications) is ``netconf_session.py`` and
``netconf_ssh.py``; the operations are followed by ``netconf_followers.py``:

* active = the revision with ``is-active=true``; standby = another revision holding a version.
* ``download`` = the ``download`` action, followed by notifications and by polling the revision
  state (the source of truth), then the ``hash`` leaf checked against the expected sha256.
* ``activate`` = ``activate`` on the standby, riding the restart (reconnect with back-off bounded
  by the task's budget, notifications replayed with ``startTime``), then ``commit`` (unless
  ``netconf_commit`` is false) and a check that the target runs. ``revert`` = the same on a
  known-good standby.
"""

from __future__ import annotations

import datetime

from . import netconf_followers, netconf_ssh
from .clock import parse_time
from .device import (
    ACTIVATION_COMPLETE, REBOOTING_DEVICE, UPGRADE_COMPLETE, UPGRADE_FAILED, Budget, Device, DeviceError, Image,
    ImageSpec, SoftwareVersions, StatusCallback, StatusEvent,
)
from .netconf_dialects.base import Dialect, Revision, Software, etree
from .netconf_followers import COMMITTING_IMAGE, COPYING_IMAGE, BootFollower, DownloadFollower, describe_revision
from .netconf_session import NetconfSession
from .netconf_ssh import SSH_IMPORT_ERROR, SshSettings
from .redaction import redact_url

NCCLIENT_IMPORT_ERROR = SSH_IMPORT_ERROR
DEFAULT_PORT = netconf_ssh.DEFAULT_PORT
__all__ = ["NetconfDevice", "open_device", "describe_revision", "known_good", "netconf_followers"]


def open_device(params: dict) -> "NetconfDevice":
    return NetconfDevice(params)


def clean_hash(value: str) -> str:
    """The hex digest of a ``hash`` leaf: lower case, an algorithm prefix (``sha256:``) removed."""
    value = (value or "").strip().lower()
    return value.split(":", 1)[1] if value.startswith("sha256:") else value


def known_good(revision: Revision) -> bool | None:
    """Whether a revision is a known-good image (the ``committed`` flag of :class:`Image`).

    The committed revision (boots next) is. Another one is when it has been activated or committed
    (``last-activated``/``last-committed``) since it was downloaded: it has run. One downloaded
    (``download-completed``) and not activated since has never run: not known good. Without these
    leaves the device cannot tell: None (the device decides).
    """
    if revision.committed:
        return True
    if revision.active:
        return False if revision.committed is False else None
    ran = [stamp for stamp in (revision.last_activated, revision.last_committed) if stamp]
    if not revision.download_completed:
        return True if ran else None
    if not ran:
        return False
    downloaded = parse_time(revision.download_completed)
    latest = max((parse_time(stamp) for stamp in ran), key=lambda s: s or datetime.datetime.min.replace(
        tzinfo=datetime.timezone.utc))
    return downloaded is None or latest is None or latest >= downloaded


def to_image(revision: Revision, software: Software) -> Image:
    return Image(name=revision.product_code, version=revision.version, committed=known_good(revision),
                 valid=revision.valid, sha256=clean_hash(revision.hash) or None)


def standby_revisions(software: Software, active: Revision | None) -> list[Revision]:
    """Revisions other than the active one that hold an image, most recently changed first."""
    others = [r for r in software.revisions if r is not active and (r.version or r.product_code)]
    return sorted(others, key=lambda r: (r.last_changed, r.key), reverse=True)


def split_versions(software: Software, dialect: Dialect) -> SoftwareVersions:
    active = dialect.active_revision(software)
    return SoftwareVersions(
        active=(to_image(active, software),) if active is not None and active.version else (),
        standby=tuple(to_image(r, software) for r in standby_revisions(software, active)),
    )


class _Recorder:
    """The status history of one operation: ``emit(state, description, ...)`` records an entry and reports it."""

    def __init__(self, on_status: StatusCallback):
        self.history: list[StatusEvent] = []
        self._on_status = on_status

    def __call__(self, state: str, description: str = "", reason: str = "", detail: str = "", ok: bool = True):
        event = StatusEvent(state=state, reason=reason, description=redact_url(description),
                            reason_detail=redact_url(detail), ok=ok)
        self.history.append(event)
        self._on_status(event)


class NetconfDevice(Device):
    """The neutral Device API over one NETCONF session (:class:`NetconfSession`)."""

    transport = "netconf"

    def __init__(self, params: dict):
        super().__init__(params["device_name"])
        if NCCLIENT_IMPORT_ERROR is not None or etree is None:
            raise DeviceError(self.name, "connect", "MISSING_LIBRARY", "the netconf transport needs ncclient and "
                              f"lxml on the controller: {NCCLIENT_IMPORT_ERROR or 'No module named lxml'}",
                              transport=self.transport)
        try:
            settings = SshSettings.from_params(params)
        except netconf_ssh.ConnectFailure as failure:
            raise DeviceError(self.name, "connect", failure.reason, failure.detail, transport=self.transport) from None
        self.session = NetconfSession(self.name, settings, opener=self._open_manager)
        self.host, self.port = settings.host, settings.port
        self.component = params.get("netconf_component") or None
        self.software_name = params.get("netconf_software") or None
        self.commit = params.get("netconf_commit") is not False
        self._hardware_cache = None

    def _open_manager(self, operation: str):
        """A connected ncclient Manager (SSH and hello); tests replace this with scripted managers."""
        return self.session.open_ssh(operation)

    @property
    def revert_steps(self) -> str:
        """docs/netconf.md: NETCONF has no "boot without sanity checks"; a revert is an activate and a commit."""
        commit = ", then commit it" if self.commit else " without a commit (netconf_commit is false)"
        return f"activate the standby revision{commit}; the device runs its usual activation procedure"

    # what the session found, for callers and tests
    dialect = property(lambda self: self.session.dialect)
    library = property(lambda self: self.session.library)
    framing = property(lambda self: self.session.framing)
    connections = property(lambda self: self.session.connections)

    def close(self) -> None:
        self.session.close()

    # -- reads ------------------------------------------------------------------------------
    def _software(self, operation: str, retry: bool = True) -> Software:
        self._session_for_filter(operation, retry)
        data = self.session.get(operation, self.session.dialect.state_filter(self.component), retry)
        found = [s for s in self.session.dialect.parse_state(data) if not self.software_name or s.name == self.software_name]
        where = f"component {self.component}" if self.component else "any component"
        if not found:
            wanted = f"software {self.software_name} " if self.software_name else "software "
            raise self.session.error(operation, "NO_SOFTWARE",
                                     f"the device reports no {wanted}under {where} in {self.session.dialect.module}")
        if len(found) > 1:
            names = ", ".join(s.label for s in found)
            raise self.session.error(operation, "AMBIGUOUS_SOFTWARE",
                                     f"the device manages several software ({names}); set swim_netconf_component "
                                     "and swim_netconf_software to choose one")
        return found[0]

    def _session_for_filter(self, operation: str, retry: bool) -> None:
        if self.session.dialect is None:  # the filter depends on the dialect, known after hello
            self.session.retrying(operation, lambda m: m, retry)

    def versions(self, retry: bool = True) -> SoftwareVersions:
        return split_versions(self._software("GetSoftwareVersion", retry), self.session.dialect)

    def startup_config(self) -> dict:
        # Neither bbf-software-management nor ietf-hardware describe a startup configuration file.
        return {"config_url": "", "version": "", "exposed": False}

    def _hardware(self):
        if self._hardware_cache is None:
            operation = "GetPhysicalInventory"
            self._session_for_filter(operation, True)
            data = self.session.get(operation, self.session.dialect.hardware_filter())
            self._hardware_cache = self.session.dialect.hardware_components(data)
        return self._hardware_cache

    def inventory(self) -> dict:
        keys = ("class", "parent", "description", "serial_num", "model_name", "mfg_name", "hardware_rev",
                "firmware_rev", "software_rev", "uuid", "is_fru")
        components = []
        for comp in self._hardware():
            entry = {"name": comp.name, **{k: comp.data[k] for k in keys}}
            # iana-hardware identities (power-supply) named like DMI's ComponentType (POWER_SUPPLY)
            entry["class"] = entry["class"].upper().replace("-", "_")
            components.append(entry)
        return {"components": components}

    def health(self) -> dict:
        components = self._hardware()
        alarms, sensors = [], {}
        for comp in components:
            for severity in ("critical", "major", "minor", "warning", "indeterminate"):
                if severity in comp.data["alarm_state"]:
                    alarms.append({"component": comp.name, "severity": severity})
                    break
            sensor = comp.data["sensor"]
            if sensor and sensor["value"] not in (None, ""):
                try:
                    value = float(sensor["value"])
                    precision = int(sensor["precision"] or 0)
                except ValueError:
                    continue  # a sensor the device cannot read right now (value-type other/unavailable)
                value = value / (10 ** precision) if precision > 0 else value
                sensors[comp.name] = {"value": int(value) if value.is_integer() else value, "units": sensor["units"]}
        roots = [c for c in components if not c.data["parent"]]
        return {"reachable": True, "oper_state": roots[0].data["oper_state"] if roots else "",
                "alarms": alarms, "sensors": sensors}

    # -- image operations -------------------------------------------------------------------
    def download(self, image: ImageSpec, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        operation = "DownloadImage"
        emit = _Recorder(on_status)
        software = self._software(operation)
        dialect = self.session.dialect
        active = dialect.active_revision(software)
        running = [r for r in software.revisions if r.downloading]
        if running or software.busy:
            which = describe_revision(running[0]) if running else "a revision"
            raise self.session.error(operation, "OPERATION_ALREADY_IN_PROGRESS",
                                     f"{which} of {software.label} is downloading already")
        replace = next((r for r in sorted(software.revisions, key=lambda r: (r.valid is True, r.last_changed))
                        if r is not active and not r.committed), None)
        self.session.begin(operation)
        try:
            request = dialect.download_action(software, image.url, replace)
            reply = self.session.action(operation, "download action", request)
            key = dialect.download_reply(reply, software) or dialect.download_key(software, image.url, replace)
            emit(COPYING_IMAGE, f"download of {image.name} {image.version} from {redact_url(image.url)} into "
                                f"{'revision ' + key if key else 'a revision chosen by the device'} started")
            revision = DownloadFollower(self, operation, software, budget, emit).run(key)
        except DeviceError as exc:
            exc.history = exc.history or emit.history
            raise
        finally:
            self.session.subscribe = False
        digest = clean_hash(revision.hash)
        if digest and digest != image.sha256.lower():
            emit(UPGRADE_FAILED, reason="WRONG_IMAGE_CHECKSUM", ok=False,
                 detail=f"hash of {describe_revision(revision)} is {revision.hash}, expected sha256 {image.sha256}")
            raise self.session.error(operation, "WRONG_IMAGE_CHECKSUM",
                                     f"the device reports hash {revision.hash} for {describe_revision(revision)}, "
                                     f"expected sha256 {image.sha256} ({dialect.module}:incorrect-hash)",
                                     history=emit.history)
        checked = "hash matches the sha256" if digest else "the device reports no hash: sha256 not verified"
        emit(UPGRADE_COMPLETE, f"{image.name} {image.version} downloaded into {describe_revision(revision)}; {checked}")
        return emit.history

    def activate(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        return self._boot("ActivateImage", budget, on_status, revert=False)

    def revert(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        return self._boot("RevertToStandbyImage", budget, on_status, revert=True)

    def commit_running_image(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        """Commit the running revision (it runs but is not the boot image: a controller died before its commit)."""
        operation = "CommitImage"
        emit = _Recorder(on_status)
        software = self._software(operation)
        dialect = self.session.dialect
        running = dialect.active_revision(software)
        if running is None or "commit" not in software.capabilities:
            raise self.session.error(operation, "COMMIT_NOT_SUPPORTED",
                                     f"{software.label} offers no commit action for the running revision")
        self.session.begin(operation)
        follower = BootFollower(self, operation, software, budget, emit)
        try:
            emit(COMMITTING_IMAGE, f"committing {describe_revision(running)}: it runs but is not the boot image")
            self.session.action(operation, "commit action", dialect.revision_action(software, running.key, "commit"),
                                retry=True)
            running = follower.await_commit(running)
            emit(ACTIVATION_COMPLETE, f"{describe_revision(running)} is active and committed")
        except DeviceError as exc:
            exc.history = exc.history or emit.history
            raise
        finally:
            self.session.subscribe = False
        return emit.history

    def _boot_target(self, operation: str, software: Software, previous: Revision | None, revert: bool) -> Revision:
        candidates = standby_revisions(software, previous)
        target = candidates[0] if candidates else None
        if target is None:
            raise self.session.error(operation, "NO_STANDBY_IMAGE", f"{software.label} has no standby revision")
        if target.valid is False:
            raise self.session.error(operation, "STANDBY_NOT_VALID" if not revert else "NOT_KNOWN_GOOD",
                                     f"{describe_revision(target)} is not valid (state {target.state or 'unknown'})")
        if revert and known_good(target) is False:
            raise self.session.error(operation, "NOT_KNOWN_GOOD", f"{describe_revision(target)} has not run since "
                                     "it was downloaded (not a known good image)")
        return target

    def _boot(self, operation: str, budget: Budget, on_status: StatusCallback, revert: bool) -> list[StatusEvent]:
        """activate on the standby revision, ride the restart, commit, and check that it runs."""
        emit = _Recorder(on_status)
        software = self._software(operation)
        dialect = self.session.dialect
        previous = dialect.active_revision(software)
        target = self._boot_target(operation, software, previous, revert)
        self.session.begin(operation)
        follower = BootFollower(self, operation, software, budget, emit)
        try:
            try:
                self.session.action(operation, "activate action", dialect.revision_action(software, target.key,
                                                                                          "activate"))
                emit(REBOOTING_DEVICE, f"activate of {describe_revision(target)} accepted; the device may restart")
            except DeviceError as exc:
                if not exc.retryable:
                    raise
                emit(REBOOTING_DEVICE, f"session lost right after activate of {describe_revision(target)} "
                                       f"({exc.reason}); the device is restarting")
            running = follower.ride_restart(target)
            if self.commit and not running.committed and "commit" in software.capabilities:
                emit(COMMITTING_IMAGE, f"committing {describe_revision(running)} so that it boots next")
                self.session.action(operation, "commit action",
                                    dialect.revision_action(software, running.key, "commit"), retry=True)
                running = follower.await_commit(running)
            old = describe_revision(previous)
            if running.committed:
                emit(ACTIVATION_COMPLETE, f"{describe_revision(running)} is active and committed; {old} is on standby")
            elif "commit" not in software.capabilities:
                emit(ACTIVATION_COMPLETE, f"{describe_revision(running)} is active; {old} is on standby")
            else:
                emit(ACTIVATION_COMPLETE, f"{describe_revision(running)} is active but NOT committed "
                                          "(netconf_commit is false): the device boots its committed revision "
                                          "at its next restart")
        except DeviceError as exc:
            exc.history = exc.history or emit.history
            raise
        finally:
            self.session.subscribe = False
        return emit.history
