# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""NETCONF transport of the device API (ncclient over SSH; BBF TR-383 software management).

PRIVATE to the collection. The YANG model is spoken by a *dialect* (``netconf_dialects/``), chosen
by capability at hello; this file maps the dialect's neutral revisions onto the active/standby
view of :class:`Device`, so every module behaves as over DMI:

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
import time

from . import netconf_ssh
from .device import (
    ACTIVATION_COMPLETE, ACTIVATION_FAILED, REBOOTING_DEVICE, UPGRADE_COMPLETE, UPGRADE_FAILED,
    Budget, Device, DeviceError, Image, ImageSpec, SoftwareVersions, StatusCallback, StatusEvent, redact_url,
)
from .netconf_dialects import choose, supported_modules
from .netconf_dialects.base import Dialect, Notice, Revision, Software, etree, parse, rpc_errors
from .netconf_discovery import (
    MODULES_STATE_FILTER, YANG_LIBRARY_FILTER, Library, get_data_element, hello_modules, library_capability, merge,
    parse_modules_state, parse_yang_library, reply_data,
)
from .netconf_ssh import SSH_IMPORT_ERROR, SshSettings, close_manager, nc_operation_errors, nc_transport_errors

NCCLIENT_IMPORT_ERROR = SSH_IMPORT_ERROR
DEFAULT_PORT = netconf_ssh.DEFAULT_PORT
POLL_INTERVAL = 1.0  # seconds between two reads of the revision state while an operation runs
SETTLE_TIME = 5.0  # after a restart, how long a target that is not active may still become active
REPLAY_MARGIN = 2.0  # seconds of clock slack when replayed notifications are matched to an operation
NOTIFICATION_CAP = "urn:ietf:params:netconf:capability:notification:1.0"
INTERLEAVE_CAP = "urn:ietf:params:netconf:capability:interleave:1.0"
COPYING_IMAGE = "COPYING_IMAGE"
INSTALLING_IMAGE = "INSTALLING_IMAGE"
COMMITTING_IMAGE = "COMMITTING_IMAGE"


def open_device(params: dict) -> "NetconfDevice":
    return NetconfDevice(params)


def _parse_time(value: str) -> datetime.datetime | None:
    try:
        stamp = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.timezone.utc)


def _rfc3339(stamp: datetime.datetime) -> str:
    return stamp.astimezone(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def describe_revision(revision: Revision | None) -> str:
    if revision is None:
        return "nothing"
    label = " ".join(part for part in (revision.product_code, revision.version) if part) or "no image"
    return f"revision {revision.key} ({label})"


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
    downloaded = _parse_time(revision.download_completed)
    latest = max((_parse_time(stamp) for stamp in ran), key=lambda s: s or datetime.datetime.min.replace(
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
    transport = "netconf"

    @property
    def revert_steps(self) -> str:
        """docs/netconf.md: NETCONF has no "boot without sanity checks"; a revert is an activate and a commit."""
        commit = ", then commit it" if self.commit else " without a commit (netconf_commit is false)"
        return f"activate the standby revision{commit}; the device runs its usual activation procedure"

    def __init__(self, params: dict):
        super().__init__(params["device_name"])
        if NCCLIENT_IMPORT_ERROR is not None or etree is None:
            raise DeviceError(self.name, "connect", "MISSING_LIBRARY", "the netconf transport needs ncclient and "
                              f"lxml on the controller: {NCCLIENT_IMPORT_ERROR or 'No module named lxml'}",
                              transport=self.transport)
        try:
            self.ssh = SshSettings.from_params(params)
        except netconf_ssh.ConnectFailure as failure:
            raise self._error("connect", failure.reason, failure.detail) from None
        self.host, self.port = self.ssh.host, self.ssh.port
        self.rpc_timeout = float(params.get("rpc_timeout") or 30.0)
        self.connect_timeout = float(params.get("connect_timeout") or 10.0)
        self.component = params.get("netconf_component") or None
        self.software_name = params.get("netconf_software") or None
        self.commit = params.get("netconf_commit") is not False
        self.dialect: Dialect | None = None
        self.library: Library | None = None  # the modules the server announced (hello, YANG library)
        self.framing = ""  # "1.0" or "1.1" once connected
        self.connections = 0
        self._manager = None  # the ncclient Manager of the open session
        self._subscribe = False  # the running operation wants notifications
        self._replay_since: datetime.datetime | None = None  # replay from here after a reconnect
        self._seen: set = set()
        self._drops = 0
        self._hardware_cache = None
        self._notifications_ok = False  # the device offers :notification and :interleave
        self._subscribed = None  # the manager that holds this operation's subscription

    # -- session --------------------------------------------------------------------------
    def _error(self, operation: str, reason: str, detail: str, retryable: bool = False, history=None,
               unreachable: bool = False) -> DeviceError:
        return DeviceError(self.name, operation, reason, detail, transport=self.transport, retryable=retryable,
                           history=history, unreachable=unreachable)

    def _connect(self, operation: str):
        """One connection attempt: TCP, SSH (host key, authentication), hello, discovery and the model check."""
        manager = self._open_manager(operation)
        try:
            capabilities = list(manager.server_capabilities)
            library = self._discover(operation, manager, capabilities)
            dialect = self.dialect if library is self.library and self.dialect is not None else None
            problems: list[str] = []
            if dialect is None:
                dialect, problems = choose(library)
            if dialect is None:
                raise self._error(operation, "MODEL_NOT_SUPPORTED", self._no_model(library, problems))
        except BaseException:
            close_manager(manager)
            raise
        self.library, self.dialect = library, dialect
        self.framing = "1.1" if "urn:ietf:params:netconf:base:1.1" in capabilities else "1.0"
        self._notifications_ok = NOTIFICATION_CAP in capabilities and INTERLEAVE_CAP in capabilities
        self.connections += 1
        return manager

    def _open_manager(self, operation: str):
        """TCP, SSH and the hello exchange (netconf_ssh), every failure a DeviceError classified by cause."""
        try:
            return netconf_ssh.open_manager(self.ssh)
        except netconf_ssh.ConnectFailure as failure:
            raise self._error(operation, failure.reason, failure.detail, retryable=failure.retryable,
                              unreachable=not failure.reached and self.connections == 0) from None

    # -- discovery (RFC 7950 5.6.4, RFC 8525, RFC 7895) ---------------------------------------------
    def _discover(self, operation: str, manager, capabilities: list[str]) -> Library:
        """The server's modules: those of ``<hello>`` and, when it announces one, of its YANG library
        (read once per content-id / module-set-id: a reconnect with the same id reuses it)."""
        hello = hello_modules(capabilities)
        announced = library_capability(capabilities)
        if announced is None:
            return Library(modules=tuple(hello), sources=("hello",))
        cached = self.library
        if cached is not None and announced.content_id and cached.content_id == announced.content_id:
            return cached
        # RFC 8526 2: the yang-library:1.1 capability is an NMDA server's; try <get-data> first there
        attempts = [("get-data", YANG_LIBRARY_FILTER), ("get", YANG_LIBRARY_FILTER), ("get", MODULES_STATE_FILTER)]
        if announced.version == "1.0":
            attempts = [("get", MODULES_STATE_FILTER), ("get", YANG_LIBRARY_FILTER)]
        tried = []
        for verb, subtree in attempts:
            where = "/yang-library" if subtree == YANG_LIBRARY_FILTER else "/modules-state"
            try:
                data = self._read_on(manager, operation, f"{verb} {where}", subtree, nmda=verb == "get-data")
            except DeviceError as exc:
                if exc.retryable:
                    raise
                tried.append(f"{verb} {where}: {exc.reason}")
                continue
            parsed = parse_yang_library(data) if subtree == YANG_LIBRARY_FILTER else parse_modules_state(data)
            if parsed is not None and parsed[0]:
                modules, content_id = parsed
                return merge(hello, modules, f"YANG library {where}", announced.content_id or content_id)
            tried.append(f"{verb} {where}: no data")
        return Library(modules=tuple(hello), sources=("hello", f"YANG library {announced.version} (unreadable: "
                                                                 f"{'; '.join(tried)})"))

    def _no_model(self, library: Library, problems: list[str]) -> str:
        names = sorted({f"{m.name}@{m.revision}" if m.revision else m.name for m in library.modules if m.implemented})
        shown = ", ".join(names[:60]) + (f" (+{len(names) - 60} more)" if len(names) > 60 else "")
        why = f"; {'; '.join(problems)}" if problems else ""
        return (f"{self.host}:{self.port} implements no software-management model this collection drives "
                f"({', '.join(supported_modules())}); looked in {' and '.join(library.sources)}{why}; "
                f"its modules: {shown or 'none'}")

    def _session(self, operation: str):
        """The open session, or a new one (one attempt). Re-subscribes for the running operation."""
        if self._manager is not None and self._manager.connected:
            return self._manager
        if self._manager is not None:
            self._drop()
        self._manager = self._connect(operation)
        if self._subscribe:
            self._start_subscription(operation, replay=self.connections > 1 or self._drops > 0)
        return self._manager

    def _drop(self) -> None:
        if self._manager is not None:
            self._drops += 1
            close_manager(self._manager, polite=False)
            self._manager = None

    def _retrying(self, operation: str, call, retry: bool = True):
        """*call(manager)*, retried with back-off for connect_timeout while the device is unreachable."""
        give_up = time.monotonic() + (self.connect_timeout if retry else 0.0)
        delay = 0.2
        while True:
            try:
                return call(self._session(operation))
            except DeviceError as error:
                if not error.retryable or time.monotonic() + delay > give_up:
                    raise
            time.sleep(delay)
            delay = min(delay * 1.6, 2.0)

    def _rpc(self, operation: str, what: str, send):
        """One RPC on the session (``send(manager)`` -> RPCReply); its rpc-errors raise DeviceError."""
        return self._rpc_on(self._session(operation), operation, what, send)

    def _rpc_on(self, manager, operation: str, what: str, send):
        try:
            reply = send(manager)
        except nc_operation_errors.TimeoutExpiredError:
            self._drop()
            raise self._error(operation, "RPC_TIMEOUT", f"{what}: no reply within {self.rpc_timeout:g}s",
                              retryable=True)
        except (nc_transport_errors.TransportError, OSError, EOFError) as exc:
            self._drop()
            raise self._error(operation, "SESSION_CLOSED", f"{what}: NETCONF session lost ({exc or type(exc).__name__})",
                              retryable=True)
        except nc_operation_errors.OperationError as exc:
            raise self._error(operation, "NETCONF_ERROR", f"{what}: {exc}")
        root = parse(reply.xml)
        errors = rpc_errors(root)
        if errors:
            first = errors[0]
            more = f" (+{len(errors) - 1} more rpc-error)" if len(errors) > 1 else ""
            raise self._error(operation, first.reason, f"{what} refused: {first.detail or first.tag}{more}")
        return root

    def _read_on(self, manager, operation: str, what: str, subtree: str, nmda: bool):
        """The ``<data>`` of a read: ``<get-data>`` on ds:operational (RFC 8526) or ``<get>``, subtree-filtered.
        (ncclient 0.7.1 has no get-data operation: the element is dispatched.)"""
        if nmda:
            root = self._rpc_on(manager, operation, what, lambda m: m.dispatch(get_data_element(subtree)))
        else:
            root = self._rpc_on(manager, operation, what, lambda m: m.get(filter=("subtree", subtree)))
        return reply_data(root)

    def _get(self, operation: str, subtree: str, retry: bool = True):
        """State read: ``<get-data>`` on ds:operational when the server implements ietf-netconf-nmda (RFC
        8342: config nodes known only to the operational datastore, such as hardware ``class``/``parent``,
        are not in a ``<get>``), ``<get>`` otherwise."""
        def call(manager):
            nmda = self.library is not None and self.library.nmda
            return self._read_on(manager, operation, "get-data" if nmda else "get", subtree, nmda)
        return self._retrying(operation, call, retry)

    def _action(self, operation: str, what: str, element, retry: bool = False):
        reply = self._retrying(operation, lambda m: self._rpc(operation, what, lambda mm: mm.dispatch(element)), retry)
        refused = self.dialect.refused(reply)
        if refused is not None:
            raise self._error(operation, refused[0], f"{what} refused: {refused[1]}")
        return reply

    def close(self) -> None:
        self._subscribe = False
        if self._manager is not None:
            close_manager(self._manager)
            self._manager = None

    # -- notifications ------------------------------------------------------------------------
    def _start_subscription(self, operation: str, replay: bool) -> None:
        if not self._notifications_ok or self._manager is None or self._subscribed is self._manager:
            return
        self._subscribed = self._manager
        start = _rfc3339(self._replay_since) if replay and self._replay_since is not None else None
        try:
            self._rpc(operation, "create-subscription",
                      lambda m: m.create_subscription(stream_name="NETCONF", start_time=start))
        except DeviceError as exc:
            if exc.retryable:
                raise
            if start is not None:  # a stream without replay support: live notifications still help
                self._subscribed = None
                self._start_subscription(operation, replay=False)
                return
            self._notifications_ok = False  # the revision state is polled anyway

    def _begin(self, operation: str) -> None:
        """Notifications from now on (live), and replayed from now after a reconnect."""
        self._replay_since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=REPLAY_MARGIN)
        self._seen.clear()
        self._subscribe = False
        self._retrying(operation, lambda manager: manager)
        self._start_subscription(operation, replay=False)
        self._subscribe = True

    def _next_notice(self, wait: float) -> Notice | None:
        """The next software-management notification within *wait* seconds (None: none, or session lost)."""
        manager = self._manager
        if manager is None or not manager.connected or not self._notifications_ok:
            time.sleep(max(0.0, wait))
            if manager is not None and not manager.connected:
                self._drop()
            return None
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            raw = manager.take_notification(block=True, timeout=max(0.01, remaining))
            if raw is None:
                if not manager.connected:
                    self._drop()
                return None
            try:
                notice = self.dialect.parse_notification(parse(raw.notification_xml))
            except Exception:  # noqa: BLE001 -- a notification we cannot read is skipped
                notice = None
            if notice is not None and notice.identity not in self._seen and self._recent(notice):
                self._seen.add(notice.identity)
                return notice
            if time.monotonic() >= deadline:
                return None

    def _recent(self, notice: Notice) -> bool:
        stamp = _parse_time(notice.event_time)
        return stamp is None or self._replay_since is None or stamp >= self._replay_since

    @staticmethod
    def _about(notice: Notice, software: Software, key: str | None) -> bool:
        return ((not notice.component or notice.component == software.component)
                and (not notice.software or notice.software == software.name)
                and (key is None or not notice.key or notice.key == str(key)))

    # -- reads ------------------------------------------------------------------------------
    def _software(self, operation: str, retry: bool = True) -> Software:
        self._session_for_filter(operation, retry)
        data = self._get(operation, self.dialect.state_filter(self.component), retry)
        found = [s for s in self.dialect.parse_state(data) if not self.software_name or s.name == self.software_name]
        where = f"component {self.component}" if self.component else "any component"
        if not found:
            wanted = f"software {self.software_name} " if self.software_name else "software "
            raise self._error(operation, "NO_SOFTWARE",
                              f"the device reports no {wanted}under {where} in {self.dialect.module}")
        if len(found) > 1:
            names = ", ".join(s.label for s in found)
            raise self._error(operation, "AMBIGUOUS_SOFTWARE",
                              f"the device manages several software ({names}); set swim_netconf_component "
                              "and swim_netconf_software to choose one")
        return found[0]

    def _session_for_filter(self, operation: str, retry: bool) -> None:
        if self.dialect is None:  # the filter depends on the dialect, known after hello
            self._retrying(operation, lambda m: m, retry)

    def versions(self, retry: bool = True) -> SoftwareVersions:
        return split_versions(self._software("GetSoftwareVersion", retry), self.dialect)

    def startup_config(self) -> dict:
        # Neither bbf-software-management nor ietf-hardware describe a startup configuration file.
        return {"config_url": "", "version": "", "exposed": False}

    def _hardware(self):
        if self._hardware_cache is None:
            operation = "GetPhysicalInventory"
            self._session_for_filter(operation, True)
            data = self._get(operation, self.dialect.hardware_filter())
            self._hardware_cache = self.dialect.hardware_components(data)
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
        history = emit.history
        software = self._software(operation)
        active = self.dialect.active_revision(software)
        running = [r for r in software.revisions if r.downloading]
        if running or software.busy:
            which = describe_revision(running[0]) if running else "a revision"
            raise self._error(operation, "OPERATION_ALREADY_IN_PROGRESS",
                              f"{which} of {software.label} is downloading already")
        replace = next((r for r in sorted(software.revisions, key=lambda r: (r.valid is True, r.last_changed))
                        if r is not active and not r.committed), None)
        self._begin(operation)
        try:
            reply = self._action(operation, "download action",
                                 self.dialect.download_action(software, image.url, replace))
            key = self.dialect.download_reply(reply, software) or self.dialect.download_key(software, image.url,
                                                                                            replace)
            emit(COPYING_IMAGE, f"download of {image.name} {image.version} from {redact_url(image.url)} into "
                                f"{'revision ' + key if key else 'a revision chosen by the device'} started")
            revision = self._follow_download(operation, software, key, budget, emit, history)
        except DeviceError as exc:
            exc.history = exc.history or history
            raise
        finally:
            self._subscribe = False
        digest = clean_hash(revision.hash)
        if digest and digest != image.sha256.lower():
            emit(UPGRADE_FAILED, reason="WRONG_IMAGE_CHECKSUM", ok=False,
                 detail=f"hash of {describe_revision(revision)} is {revision.hash}, expected sha256 {image.sha256}")
            raise self._error(operation, "WRONG_IMAGE_CHECKSUM",
                              f"the device reports hash {revision.hash} for {describe_revision(revision)}, expected "
                              f"sha256 {image.sha256} ({self.dialect.module}:incorrect-hash)", history=history)
        checked = "hash matches the sha256" if digest else "the device reports no hash: sha256 not verified"
        emit(UPGRADE_COMPLETE, f"{image.name} {image.version} downloaded into {describe_revision(revision)}; {checked}")
        return history

    def _follow_download(self, operation: str, software: Software, key: str | None, budget: Budget, emit,
                         history) -> Revision:
        """Notifications plus polling of the revision state until the download ends."""
        progress = [time.monotonic()]
        downloaded = seen_busy = installing = False
        # with an install step, the slot shows the new image only once installed: notifications decide
        two_steps = self.dialect.install_action(software, key) is not None
        failure: Notice | None = None

        def out_of_time():
            stalled = budget.stall_timeout and time.monotonic() - progress[0] > budget.stall_timeout
            if not (budget.expired or stalled):
                return
            self._abort(operation, software, key)
            if budget.expired:
                raise self._error(operation, "TIMEOUT", f"download not finished within {budget.timeout:g}s; "
                                  "abort-download sent", history=history)
            raise self._error(operation, "STALLED", f"the device gave no sign of progress for "
                              f"{budget.stall_timeout:g}s; abort-download sent", history=history)

        watch = _Watch(self, operation, budget, out_of_time)
        for notice, current in watch:
            if notice is not None:
                if not self._about(notice, software, key):
                    continue
                progress[0] = time.monotonic()
                key = key or notice.key
                phase = self.dialect.phase(notice)
                install = self.dialect.install_action(software, key) if phase == "downloaded" else None
                if install is not None and not installing:
                    installing = True
                    emit(INSTALLING_IMAGE, f"notification {notice.kind}: revision {notice.key} transferred; "
                                           "installing it")
                    self._action(operation, "install action", install)
                elif phase in ("downloaded", "installed"):
                    downloaded = True
                    emit(INSTALLING_IMAGE, f"notification {notice.kind}: revision {notice.key} downloaded and validated")
                    watch.poll_soon()
                elif phase in ("download-failed", "aborted"):
                    failure = notice
                    emit(UPGRADE_FAILED, reason=notice.error_tag or notice.kind, detail=notice.message,
                         description=f"notification {notice.kind} for revision {notice.key}", ok=False)
                    watch.poll_soon()
                continue
            if current is None:
                continue  # nothing new, or the session is lost: the next poll reconnects
            seen_busy = seen_busy or current.busy
            outcome = self._last_download(current, key, seen_busy)
            if outcome is not None and outcome.result != "successful" and failure is None:
                failure = Notice(kind=f"download {outcome.result}", key=outcome.key, error_tag=outcome.error_tag,
                                 message=outcome.message)
            revision = current.revision(key) if key else next((r for r in current.revisions if r.downloading), None)
            if revision is None and failure is not None and not current.busy:
                raise self._error(operation, failure.error_tag or "UPGRADE_FAILED",
                                  f"download into revision {key} failed: {failure.message}", history=history)
            if revision is None:
                continue
            progress[0] = time.monotonic()
            if revision.downloading or current.busy:
                continue
            if failure is not None:
                raise self._error(operation, failure.error_tag or "UPGRADE_FAILED",
                                  f"{failure.kind} for revision {failure.key or key}"
                                  + (f": {failure.message}" if failure.message else ""), history=history)
            # without a per-revision state, a revision of that name may be an old one: wait for a sign of the end
            ended = bool(revision.state) or (outcome is not None and outcome.result == "successful")
            finished = downloaded or (ended and not two_steps)
            if not finished:
                continue
            if revision.valid is not False and revision.state in ("available", "in-use", ""):
                if not downloaded:
                    emit(INSTALLING_IMAGE, f"{describe_revision(revision)} is {revision.state or 'valid'}")
                return revision
            failure = self._wait_for(lambda n: self.dialect.phase(n) in ("download-failed", "aborted")
                                     and self._about(n, software, revision.key), min(1.0, budget.remaining))
            reason = failure.error_tag if failure is not None and failure.error_tag else "UPGRADE_FAILED"
            detail = failure.message if failure is not None else ""
            emit(UPGRADE_FAILED, reason=reason, ok=False, detail=detail,
                 description=f"{describe_revision(revision)} is {revision.state or 'not valid'} after the download")
            raise self._error(operation, reason, f"{describe_revision(revision)} is {revision.state or 'not valid'}"
                              + (f": {detail}" if detail else ""), history=history)

    def _last_download(self, software: Software, key: str | None, seen_busy: bool):
        """The per-software outcome of *this* download: for key, and recent (by its time, else seen running)."""
        outcome = software.last_download
        if outcome is None or software.busy or (key is not None and outcome.key != str(key)):
            return None
        stamp = _parse_time(outcome.time)
        if stamp is None:
            return outcome if seen_busy else None
        return outcome if self._replay_since is None or stamp >= self._replay_since else None

    def _late_notice(self, software: Software, key: str, phase: str, budget: Budget, emit, what: str) -> None:
        """The state already shows the outcome: record the matching notification (replayed after a
        reconnect, or still in flight) in the history when it arrives within a moment."""
        notice = self._wait_for(lambda n: self.dialect.phase(n) == phase
                                and self._about(n, software, key), min(0.5, budget.remaining))
        if notice is not None:
            state = COMMITTING_IMAGE if phase == "committed" else REBOOTING_DEVICE
            emit(state, f"notification {notice.kind}: revision {notice.key} {what}")

    def _wait_for(self, wanted, wait: float) -> Notice | None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            notice = self._next_notice(deadline - time.monotonic())
            if notice is not None and wanted(notice):
                return notice
        return None

    def _abort(self, operation: str, software: Software, key: str | None) -> None:
        if key is None:
            return
        element = self.dialect.revision_action(software, key, "abort-download")
        if element is None:
            return
        try:
            self._action(operation, "abort-download action", element)
        except DeviceError:
            pass  # best effort: the timeout is what the task reports

    def activate(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        return self._boot("ActivateImage", budget, on_status, revert=False)

    def revert(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        return self._boot("RevertToStandbyImage", budget, on_status, revert=True)

    def _boot(self, operation: str, budget: Budget, on_status: StatusCallback, revert: bool) -> list[StatusEvent]:
        """activate on the standby revision, ride the restart, commit, and check that it runs."""
        emit = _Recorder(on_status)
        history = emit.history
        software = self._software(operation)
        previous = self.dialect.active_revision(software)
        candidates = standby_revisions(software, previous)
        target = candidates[0] if candidates else None
        if target is None:
            raise self._error(operation, "NO_STANDBY_IMAGE", f"{software.label} has no standby revision")
        if target.valid is False:
            raise self._error(operation, "STANDBY_NOT_VALID" if not revert else "NOT_KNOWN_GOOD",
                              f"{describe_revision(target)} is not valid (state {target.state or 'unknown'})")
        if revert and known_good(target) is False:
            raise self._error(operation, "NOT_KNOWN_GOOD", f"{describe_revision(target)} has not run since it was "
                              "downloaded (not a known good image)")
        self._begin(operation)
        try:
            try:
                self._action(operation, "activate action", self.dialect.revision_action(software, target.key, "activate"))
                emit(REBOOTING_DEVICE, f"activate of {describe_revision(target)} accepted; the device may restart")
            except DeviceError as exc:
                if not exc.retryable:
                    raise
                emit(REBOOTING_DEVICE, f"session lost right after activate of {describe_revision(target)} "
                                       f"({exc.reason}); the device is restarting")
            running = self._ride_restart(operation, software, target, budget, emit, history)
            if self.commit and not running.committed and "commit" in software.capabilities:
                emit(COMMITTING_IMAGE, f"committing {describe_revision(running)} so that it boots next")
                self._action(operation, "commit action",
                             self.dialect.revision_action(software, running.key, "commit"), retry=True)
                running = self._await_commit(operation, software, running, budget, emit, history)
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
            exc.history = exc.history or history
            raise
        finally:
            self._subscribe = False
        return history

    def _ride_restart(self, operation: str, software: Software, target: Revision, budget: Budget, emit,
                      history) -> Revision:
        """Wait until *target* is the active revision, following the device through its restart."""
        drops, connections = self._drops, self.connections
        activated = restarted = restarted_by_us = False
        failed: Notice | None = None
        settle_until = None

        def out_of_time():
            if budget.expired:
                raise self._error(operation, "TIMEOUT",
                                  f"{describe_revision(target)} was not running within {budget.timeout:g}s"
                                  + ("; the device did not answer again" if self._manager is None else ""),
                                  history=history)

        watch = _Watch(self, operation, budget, out_of_time)
        for notice, current in watch:
            if self._drops != drops:
                drops, restarted = self._drops, True
                emit(REBOOTING_DEVICE, "NETCONF session closed by the restarting device; reconnecting")
            if notice is not None:
                about = self._about(notice, software, target.key)
                phase = self.dialect.phase(notice) if about else ""
                if phase == "activated":
                    activated = True
                    emit(REBOOTING_DEVICE, f"notification {notice.kind}: {describe_revision(target)} is active")
                    restarted_by_us = restarted_by_us or self._restart(operation, software, target, emit)
                    watch.poll_soon()
                elif phase == "activate-failed":
                    failed = notice
                    emit(ACTIVATION_FAILED, reason=notice.error_tag or ACTIVATION_FAILED, detail=notice.message,
                         description=f"notification {notice.kind} for revision {notice.key}", ok=False)
                    watch.poll_soon()
                continue
            if current is None:
                continue
            if self.connections != connections:
                connections, restarted = self.connections, True
                emit(REBOOTING_DEVICE, "the device answers again")
            active = self.dialect.active_revision(current)
            booting = current.revision(target.key)
            if booting is not None and booting.committed and not booting.active and not restarted_by_us:
                restarted_by_us = self._restart(operation, software, target, emit)  # boots next: restart into it
            if active is not None and active.key == target.key:
                if not activated:
                    self._late_notice(software, target.key, "activated", budget, emit, "is active")
                return active
            if failed is not None:
                raise self._error(operation, failed.error_tag or ACTIVATION_FAILED,
                                  f"{failed.message or 'activate failed'}; {describe_revision(active)} is active",
                                  history=history)
            if restarted:
                settle_until = settle_until or time.monotonic() + SETTLE_TIME
                if time.monotonic() >= settle_until:
                    raise self._error(operation, ACTIVATION_FAILED,
                                      f"the device restarted but {describe_revision(active)} is active, not "
                                      f"{describe_revision(target)}", history=history)

    def _restart(self, operation: str, software: Software, target: Revision, emit) -> bool:
        """Send the dialect's restart (e.g. O-RAN ``reset``) when activate does not restart the device itself."""
        element = self.dialect.restart_action(software, target.key)
        if element is None:
            return False
        try:
            self._action(operation, "restart", element)
        except DeviceError as exc:
            if not exc.retryable:
                raise
        emit(REBOOTING_DEVICE, f"restart requested to boot {describe_revision(target)}")
        return True

    def _await_commit(self, operation: str, software: Software, running: Revision, budget: Budget, emit,
                      history) -> Revision:
        committed = False

        def out_of_time():
            if budget.expired:
                raise self._error(operation, "TIMEOUT", f"{describe_revision(running)} not committed within "
                                  f"{budget.timeout:g}s", history=history)

        watch = _Watch(self, operation, budget, out_of_time)
        watch.poll_soon()
        for notice, current in watch:
            if notice is not None:
                about = self._about(notice, software, running.key)
                phase = self.dialect.phase(notice) if about else ""
                if phase == "committed":
                    committed = True
                    emit(COMMITTING_IMAGE, f"notification {notice.kind}: {describe_revision(running)} is committed")
                    watch.poll_soon()
                elif phase == "commit-failed":
                    emit(ACTIVATION_FAILED, reason=notice.error_tag or "COMMIT_FAILED", detail=notice.message,
                         description=f"notification {notice.kind} for revision {notice.key}", ok=False)
                    raise self._error(operation, notice.error_tag or "COMMIT_FAILED",
                                      f"commit of {describe_revision(running)} failed: {notice.message}",
                                      history=history)
                continue
            if current is None:
                continue
            revision = current.revision(running.key)
            if revision is not None and revision.committed:
                if not committed:
                    self._late_notice(software, running.key, "committed", budget, emit, "is committed")
                return revision
            if revision is None or not revision.active:
                raise self._error(operation, ACTIVATION_FAILED, f"{describe_revision(running)} is no longer active "
                                  "while it was being committed", history=history)


class _Watch:
    """What an operation waits on: each notification as it arrives, and the software state every
    POLL_INTERVAL. Yields ``(notice, None)``, ``(None, software)``, or ``(None, None)`` when there is
    nothing new or the device cannot be read right now (it is restarting: the next poll reconnects).
    ``out_of_time()`` runs before every wait and raises when the operation must end."""

    def __init__(self, device: NetconfDevice, operation: str, budget: Budget, out_of_time):
        self.device, self.operation, self.budget, self.out_of_time = device, operation, budget, out_of_time
        self.next_poll = time.monotonic() + min(POLL_INTERVAL, 0.3)

    def poll_soon(self) -> None:
        self.next_poll = 0.0

    def __iter__(self):
        while True:
            self.out_of_time()
            wait = min(max(self.next_poll - time.monotonic(), 0.01), self.budget.remaining)
            notice = self.device._next_notice(wait)
            if notice is not None:
                yield notice, None
            if time.monotonic() < self.next_poll:
                if notice is None:
                    yield None, None
                continue
            self.next_poll = time.monotonic() + POLL_INTERVAL
            try:
                current = self.device._software(self.operation, retry=False)
            except DeviceError as exc:
                if not exc.retryable:
                    raise
                current = None
            yield None, current
