"""Transport-neutral model of one simulated device (an OLT with two flash partitions).

No gRPC or NETCONF types here: front ends (dmi_server.py, later netconf_server.py)
translate requests into calls on :class:`Device` and its :class:`StatusEvent`
stream into their wire format, so faults behave identically on every transport.

Image operations (:meth:`Device.download`, :meth:`Device.activate`,
:meth:`Device.revert`) run as background asyncio tasks, like a device manager
running the procedure for its device: a client that stops reading the event
stream (cancel, deadline, dropped connection) does not stop the procedure.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid as uuidlib
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import AsyncIterator, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from .fetch import FetchError, fetch, validate_url
from .images import ImageFormatError, parse_header
from .persist import StateStore
from .redact import redact
from .spec import DeviceSpec

log = logging.getLogger("swim_sim.device")

# uuid5 namespace of simulated devices: uuid = uuid5(NAMESPACE, device name), stable across restarts.
NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_DNS, "swim-sim.escalator.invalid")

DOWNLOAD = "DownloadImage"
ACTIVATE = "ActivateImage"
REVERT = "RevertToStandbyImage"
COMMIT = "Commit"  # BBF commit (NETCONF front end); DMI commits as part of ActivateImage
STARTUP_CONFIG = "UpdateStartupConfiguration"


class State(StrEnum):
    COPYING_IMAGE = "COPYING_IMAGE"
    INSTALLING_IMAGE = "INSTALLING_IMAGE"
    COMMITTING_IMAGE = "COMMITTING_IMAGE"
    REBOOTING_DEVICE = "REBOOTING_DEVICE"
    UPGRADE_COMPLETE = "UPGRADE_COMPLETE"
    UPGRADE_FAILED = "UPGRADE_FAILED"
    ACTIVATION_COMPLETE = "ACTIVATION_COMPLETE"
    ACTIVATION_FAILED = "ACTIVATION_FAILED"


class Reason(StrEnum):
    ERROR_IN_REQUEST = "ERROR_IN_REQUEST"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DEVICE_IN_WRONG_STATE = "DEVICE_IN_WRONG_STATE"
    INVALID_IMAGE = "INVALID_IMAGE"
    WRONG_IMAGE_CHECKSUM = "WRONG_IMAGE_CHECKSUM"
    OPERATION_ALREADY_IN_PROGRESS = "OPERATION_ALREADY_IN_PROGRESS"
    UNKNOWN_DEVICE = "UNKNOWN_DEVICE"
    DEVICE_NOT_REACHABLE = "DEVICE_NOT_REACHABLE"


FAILED_STATES = {State.UPGRADE_FAILED, State.ACTIVATION_FAILED}
FINAL_STATES = FAILED_STATES | {State.UPGRADE_COMPLETE, State.ACTIVATION_COMPLETE}
_FAIL_STATE = {DOWNLOAD: State.UPGRADE_FAILED, ACTIVATE: State.ACTIVATION_FAILED, REVERT: State.ACTIVATION_FAILED,
               COMMIT: State.ACTIVATION_FAILED}


@dataclass(frozen=True)
class StatusEvent:
    """One step of an image operation (maps 1:1 to DMI ImageStatus)."""

    state: State
    reason: Reason | None = None
    description: str = ""
    reason_detail: str = ""
    timestamp: float = field(default_factory=time.time)
    # Transport-neutral extras used by the NETCONF (BBF) front end; the DMI front end ignores them.
    tag: str = ""  # BBF error-tag identity name of a failure (e.g. "connection-reset-by-peer")
    slot: int | None = None  # flash slot (BBF revision id) the event is about

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True)
class Partition:
    image_name: str
    version: str
    committed: bool = True
    valid: bool = True
    sha256: str = ""

    @property
    def label(self) -> str:
        return f"{self.image_name} {self.version}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Partition":
        return cls(image_name=str(data.get("image_name", "")), version=str(data.get("version", "")),
                   committed=bool(data.get("committed", False)), valid=bool(data.get("valid", False)),
                   sha256=str(data.get("sha256", "")))


@dataclass(frozen=True)
class StartupConfig:
    config_url: str = ""
    version: str = ""
    sha256: str = ""


class DeviceRebooting(Exception):
    """The device is down (rebooting, or never came back): the transport answers like a
    box that does not respond (gRPC UNAVAILABLE)."""


class Refused(Exception):
    """A BBF (NETCONF) action is refused synchronously. ``tag`` is the bbf-software-management
    error-tag identity (``component-busy``, ``cannot-overwrite-revision``...); ``missing`` marks
    a refusal because the addressed node does not exist (NETCONF ``data-missing``)."""

    def __init__(self, tag: str, message: str, missing: bool = False):
        super().__init__(redact(message))
        self.tag = tag
        self.message = redact(message)
        self.missing = missing


@dataclass
class SlotInfo:
    """BBF revision metadata of one flash slot (what the DMI view does not show)."""

    url: str = ""  # source URL, credentials removed
    changed_at: float = 0.0
    downloaded_at: float = 0.0
    activated_at: float = 0.0
    committed_at: float = 0.0

    @classmethod
    def from_dict(cls, data: dict) -> "SlotInfo":
        return cls(url=str(data.get("url", "")), **{k: float(data.get(k) or 0.0) for k in
                                                     ("changed_at", "downloaded_at", "activated_at", "committed_at")})


def strip_userinfo(url: str) -> str:
    """``http://user:pw@host/x`` -> ``http://host/x`` (how a BBF device shows ``source/url``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def fetch_error_tag(exc: FetchError) -> str:
    """bbf-software-management error-tag for a failed image transfer."""
    text = str(exc)
    if "dropped at" in text or "connection closed after" in text or "reset" in text.lower():
        return "connection-reset-by-peer"
    if "HTTP 404" in text or "no such file" in text:
        return "file-not-found"
    if "HTTP 401" in text:
        return "invalid-username-or-password" if "***@" in text else "authentication-required"
    if "HTTP 403" in text or "cannot open" in text:
        return "access-denied"
    if "cannot connect" in text:
        return "connection-refused-by-peer"
    if "timed out" in text:
        return "connection-time-out"
    if exc.kind == "request":
        return "request-refused-by-peer"
    return "protocol-execution-error"


class DeviceUnreachable(Exception):
    """The device manager cannot reach the device (``unreachable`` fault): DMI-level error."""


class StreamDropped(Exception):
    """The event stream of this client is cut right after REBOOTING_DEVICE
    (``stream_drop_on_reboot`` fault); the operation itself goes on."""


class OperationAborted(Exception):
    """The procedure was cut short by a simulator stop (the device manager went away):
    followers' streams end with this instead of a terminal state."""


class ConfigError(Exception):
    """UpdateStartupConfiguration failed; ``reason`` is a DMI ConfigResponse.Reason name."""

    def __init__(self, reason: str, detail: str):
        super().__init__(redact(detail))
        self.reason = reason
        self.detail = redact(detail)


Listener = Callable[["Device", str, StatusEvent], None]
_END = object()
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class _Operation:
    """A running image procedure: keeps its event history and fans events out to followers."""

    def __init__(self, kind: str):
        self.kind = kind
        self.history: list[StatusEvent] = []
        self.queues: list[asyncio.Queue] = []
        self.done = False
        self.aborted: str | None = None
        self.abort_requested = False  # BBF abort-download: the cancel is a requested abort, not a stop
        self.task: asyncio.Task | None = None

    def publish(self, event: StatusEvent) -> None:
        self.history.append(event)
        for queue in self.queues:
            queue.put_nowait(event)

    def finish(self) -> None:
        self.done = True
        for queue in self.queues:
            queue.put_nowait(_END)

    async def follow(self) -> AsyncIterator[StatusEvent]:
        queue: asyncio.Queue = asyncio.Queue()
        for event in self.history:
            queue.put_nowait(event)
        if self.done:
            queue.put_nowait(_END)
        else:
            self.queues.append(queue)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    if self.aborted:
                        raise OperationAborted(self.aborted)
                    return
                yield item
        finally:
            if queue in self.queues:
                self.queues.remove(queue)


def device_uuid(name: str) -> str:
    return str(uuidlib.uuid5(NAMESPACE, name))


def config_version(url: str) -> str:
    """Version of a startup configuration: ``?version=`` if present, else from the file name
    (the first dotted number in it, e.g. ``config-v1.2.3.xml`` -> ``1.2.3``, else the stem)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if query.get("version") and query["version"][0]:
        return query["version"][0]
    filename = unquote(parts.path.rsplit("/", 1)[-1])
    match = re.search(r"\d+(?:\.\d+)+", filename)
    if match:
        return match.group(0)
    return filename.rsplit(".", 1)[0] if "." in filename else filename


class Device:
    """One simulated device. All methods must be called from the asyncio loop thread."""

    def __init__(self, name: str, spec: DeviceSpec, store: StateStore | None = None):
        self.name = name
        self.uuid = device_uuid(name)
        self.spec = spec
        self.timings = spec.effective_timings
        self.store = store
        self.partitions = {
            "active": Partition.from_dict(spec.partitions["active"]),
            "standby": Partition.from_dict(spec.partitions["standby"]),
        }
        self.startup = StartupConfig(**spec.startup_config)
        self.managed = spec.managed
        self._power_listeners: list[Callable[["Device", bool], None]] = []
        self._rebooting = False
        self._dead = False
        self.rebooting = False  # down right now (reboot in progress)
        self.dead = False  # never_returns fault fired: down until the simulator restarts
        self.trial = False  # running the standby image, not committed (DMI: sanity phase; BBF: activated)
        # BBF view: the flash slot (revision id 0/1) holding the committed image, and per-slot metadata
        self.active_slot = 0
        now = time.time()
        self.slot_info = {0: SlotInfo(changed_at=now), 1: SlotInfo(changed_at=now)}
        self.last_booted = time.time()
        self.recovered: str | None = None  # operation interrupted by a previous simulator stop
        self._op: _Operation | None = None
        self._busy_config = False
        self._listeners: list[Listener] = []
        self._load()

    # ---------------------------------------------------------------- persistence
    def _load(self) -> None:
        if self.store is None:
            return
        data = self.store.load(self.name)
        if data is None:
            self._persist()
            return
        parts = data.get("partitions") or {}
        if "active" in parts and "standby" in parts:
            self.partitions = {k: Partition.from_dict(parts[k]) for k in ("active", "standby")}
        if isinstance(data.get("startup_config"), dict):
            cfg = data["startup_config"]
            self.startup = StartupConfig(config_url=str(cfg.get("config_url", "")),
                                         version=str(cfg.get("version", "")), sha256=str(cfg.get("sha256", "")))
        self.managed = bool(data.get("managed", self.spec.managed))
        slots = data.get("slots")
        if isinstance(slots, dict):
            self.active_slot = 1 if slots.get("active_slot") == 1 else 0
            info = slots.get("info") or {}
            for slot in (0, 1):
                if isinstance(info.get(str(slot)), dict):
                    self.slot_info[slot] = SlotInfo.from_dict(info[str(slot)])
        interrupted = data.get("operation")
        if interrupted:
            # Flash keeps what was written before the stop. Downloads erase the standby first
            # (already persisted invalid); an activation only swaps partitions when it commits,
            # so the device boots the committed image; a revert persisted its swap before rebooting.
            self.recovered = interrupted
            if interrupted == DOWNLOAD:
                self.partitions["standby"] = replace(self.partitions["standby"], valid=False, committed=False)
            log.warning("%s: %s was interrupted by a simulator stop; booted %s (standby: %s, valid=%s)",
                        self.name, interrupted, self.partitions["active"].label,
                        self.partitions["standby"].label, self.partitions["standby"].valid)
        self._persist()

    def _persist(self) -> None:
        if self.store is None:
            return
        self.store.save(self.name, self.snapshot())

    def snapshot(self) -> dict:
        """The flash view: what survives a restart (partitions are the committed boot layout)."""
        return {
            "name": self.name,
            "uuid": self.uuid,
            "partitions": {k: p.to_dict() for k, p in self.partitions.items()},
            "startup_config": asdict(self.startup),
            "managed": self.managed,
            "operation": self._op.kind if self._op else None,
            "slots": {"active_slot": self.active_slot,
                      "info": {str(k): asdict(v) for k, v in self.slot_info.items()}},
            "updated_at": time.time(),
        }

    # ---------------------------------------------------------------- power state
    @property
    def rebooting(self) -> bool:
        return self._rebooting

    @rebooting.setter
    def rebooting(self, value: bool) -> None:
        self._set_power("_rebooting", value)

    @property
    def dead(self) -> bool:
        return self._dead

    @dead.setter
    def dead(self, value: bool) -> None:
        self._set_power("_dead", value)

    def _set_power(self, attr: str, value: bool) -> None:
        was = self.available
        setattr(self, attr, bool(value))
        if self.available != was:
            for listener in list(self._power_listeners):
                try:
                    listener(self, self.available)
                except Exception:
                    log.exception("%s: power listener failed", self.name)

    def add_power_listener(self, listener: Callable[["Device", bool], None]) -> None:
        """``listener(device, up)`` whenever the device goes down (reboot) or comes back up."""
        self._power_listeners.append(listener)

    # ---------------------------------------------------------------- queries
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def check_available(self) -> None:
        """Raise DeviceRebooting / DeviceUnreachable when the device cannot answer now."""
        if self.dead or self.rebooting:
            raise DeviceRebooting(f"device {self.name} is rebooting")
        if self.spec.has("unreachable"):
            raise DeviceUnreachable(f"device {self.name} is not reachable")

    @property
    def available(self) -> bool:
        return not (getattr(self, "_dead", False) or getattr(self, "_rebooting", False)
                    or self.spec.has("unreachable"))

    def running_partitions(self) -> tuple[Partition, Partition]:
        """(active, standby) as the running device reports them (swapped while on trial boot)."""
        if self.trial:
            return self.partitions["standby"], self.partitions["active"]
        return self.partitions["active"], self.partitions["standby"]

    def alarms(self, running_version: str) -> dict[str, str]:
        """Component name -> alarm severity shown in the hardware inventory while *running_version* runs."""
        alarms = dict(self.spec.alarms)
        if self.spec.has("alarm_after_upgrade") and running_version != self.spec.partitions["active"]["version"]:
            alarms[str(self.spec.param("alarm_after_upgrade", "component"))] = str(
                self.spec.param("alarm_after_upgrade", "severity"))
        return alarms

    def software_version(self) -> tuple[Partition, Partition]:
        self.check_available()
        return self.running_partitions()

    def startup_config(self) -> StartupConfig:
        self.check_available()
        return self.startup

    @property
    def busy(self) -> bool:
        return self._op is not None or self._busy_config

    def set_managed(self, managed: bool) -> None:
        self.managed = managed
        self._persist()

    # ---------------------------------------------------------------- events
    def _notify(self, kind: str, event: StatusEvent) -> None:
        level = logging.WARNING if event.failed else logging.INFO
        log.log(level, "%s %s %s%s: %s %s", self.name, kind, event.state.value,
                f"/{event.reason.value}" if event.reason else "", event.description, event.reason_detail)
        for listener in list(self._listeners):
            try:
                listener(self, kind, event)
            except Exception:  # a broken listener must not break the device
                log.exception("%s: event listener failed", self.name)

    def _event(self, state: State, reason: Reason | None = None, description: str = "", detail: str = "",
               tag: str = "", slot: int | None = None) -> StatusEvent:
        return StatusEvent(state=state, reason=reason, description=redact(description), reason_detail=redact(detail),
                           tag=tag, slot=slot)

    async def _refuse(self, kind: str, reason: Reason, detail: str) -> AsyncIterator[StatusEvent]:
        event = self._event(_FAIL_STATE[kind], reason, "", detail)
        self._notify(kind, event)
        yield event

    def _refusal(self, kind: str) -> tuple[Reason, str] | None:
        """Common refusals of the image operations, in the order a device manager checks them."""
        if self.spec.has("unreachable"):
            return Reason.DEVICE_NOT_REACHABLE, f"device {self.name} is not reachable"
        if self.spec.has("busy"):
            return (Reason.OPERATION_ALREADY_IN_PROGRESS,
                    f"another operation is in progress on {self.name} (started by another manager)")
        if self._op is not None:
            return Reason.OPERATION_ALREADY_IN_PROGRESS, f"{self._op.kind} is already in progress on {self.name}"
        if self._busy_config:
            return Reason.OPERATION_ALREADY_IN_PROGRESS, f"{STARTUP_CONFIG} is in progress on {self.name}"
        return None

    async def _run(self, kind: str, procedure, check) -> AsyncIterator[StatusEvent]:
        self.check_available_for_ops()
        refusal = check()
        if refusal is not None:
            async for event in self._refuse(kind, *refusal):
                yield event
            return
        op = self._start(kind, procedure)
        async for event in op.follow():
            yield event
            if event.state is State.REBOOTING_DEVICE and self.spec.has("stream_drop_on_reboot"):
                raise StreamDropped(f"device {self.name} is rebooting: event stream dropped")

    def check_available_for_ops(self) -> None:
        if self.dead or self.rebooting:
            raise DeviceRebooting(f"device {self.name} is rebooting")

    def _start(self, kind: str, procedure, gate: asyncio.Future | None = None) -> _Operation:
        """Run ``procedure`` as this device's background operation. With ``gate``, the procedure
        starts only once the gate is done (or after 5 s): a front end answers the request first."""
        op = _Operation(kind)
        self._op = op
        op.task = asyncio.get_running_loop().create_task(self._drive(op, procedure, gate), name=f"{self.name}:{kind}")
        return op

    async def _drive(self, op: _Operation, procedure, gate: asyncio.Future | None = None) -> None:
        def emit(state, reason=None, description="", detail="", tag="", slot=None):
            event = self._event(state, reason, description, detail, tag, slot)
            op.publish(event)
            self._notify(op.kind, event)

        try:
            if gate is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(gate), 5.0)
                except asyncio.TimeoutError:
                    pass
            await procedure(emit)
        except asyncio.CancelledError:
            if op.abort_requested:
                slot = self.standby_slot
                self.partitions["standby"] = replace(self.partitions["standby"], valid=False, committed=False)
                self._touch(slot)
                emit(_FAIL_STATE[op.kind], Reason.INTERNAL_ERROR, "", f"{op.kind} aborted on request",
                     tag="action-aborted", slot=slot)
                return
            log.info("%s: %s cancelled (simulator stopping)", self.name, op.kind)
            op.aborted = f"device manager of {self.name} is shutting down"
            raise
        except Exception as exc:
            log.exception("%s: %s crashed", self.name, op.kind)
            emit(_FAIL_STATE[op.kind], Reason.INTERNAL_ERROR, "", f"internal simulator error: {exc}")
        finally:
            self._op = None
            op.finish()
            self._persist()

    # ---------------------------------------------------------------- DownloadImage
    def download(self, name: str, version: str, url: str, sha256: str,
                 install_script: str = "") -> AsyncIterator[StatusEvent]:
        """Download + install an image into the standby partition. Yields StatusEvents."""

        def check():
            refusal = self._refusal(DOWNLOAD)
            if refusal and refusal[0] is Reason.DEVICE_NOT_REACHABLE:
                return refusal
            missing = [f for f, v in (("image name", name), ("version", version), ("image_url", url),
                                      ("sha256sum", sha256)) if not (v or "").strip()]
            if missing:
                return Reason.ERROR_IN_REQUEST, f"missing required field(s): {', '.join(missing)}"
            if not _SHA256.match(sha256.strip()):
                return Reason.ERROR_IN_REQUEST, "sha256sum must be 64 hexadecimal characters"
            try:
                validate_url(url)
            except FetchError as exc:
                return Reason.ERROR_IN_REQUEST, str(exc)
            return refusal

        async def procedure(emit):
            await self._download(emit, name, version, url, sha256.strip().lower(), install_script)

        return self._run(DOWNLOAD, procedure, check)

    async def _download(self, emit, name, version, url, sha256, install_script, learn: bool = False) -> None:
        """DMI: ``name``/``version``/``sha256`` are the request's expectations. ``learn`` (BBF): the
        device learns name and version from the image header and only computes the sha256."""
        t = self.timings
        shown = redact(url)
        slot = self.standby_slot
        target = "the image" if learn else f"{name} {version}"
        # Flash semantics: writing the standby partition destroys what it held.
        self.partitions["standby"] = Partition(name or "", version or "", committed=False, valid=False, sha256="")
        self._touch(slot, url=strip_userinfo(url), downloaded_at=0.0)
        self._persist()
        emit(State.COPYING_IMAGE, description=f"downloading {target} from {shown} into the standby partition", slot=slot)

        last = {"t": time.monotonic(), "step": 0}
        drop_at = float(self.spec.param("download_drop", "drop_at")) if self.spec.has("download_drop") else None
        corrupt = self.spec.has("checksum_corruption")

        def on_chunk(received: int, total: int | None, chunk: bytes) -> bytes:
            if drop_at is not None and (total is None or received >= drop_at * total):
                # the connection dies drop_at of the way through (bytes after that point never arrive)
                cut = int(drop_at * total) if total else received - len(chunk)
                where = f"{round(cut * 100 / total)}% ({cut}/{total} bytes)" if total else f"{cut} bytes"
                raise FetchError("transfer", f"transfer of {shown} dropped at {where}")
            if corrupt and chunk:
                chunk = chunk[:-1] + bytes([chunk[-1] ^ 0xFF])
            now = time.monotonic()
            if total:
                step = received * 10 // total
                due = step > last["step"] or now - last["t"] >= 1.0
                if due and now - last["t"] >= 0.2 and received < total:
                    last.update(t=now, step=step)
                    emit(State.COPYING_IMAGE,
                         description=f"downloaded {received * 100 // total}% ({received}/{total} bytes)", slot=slot)
            elif now - last["t"] >= 0.5:
                last["t"] = now
                emit(State.COPYING_IMAGE, description=f"downloaded {received} bytes", slot=slot)
            return chunk

        def failed(reason, detail, tag):
            self._touch(slot)
            emit(State.UPGRADE_FAILED, reason, "", detail, tag=tag, slot=slot)

        try:
            result = await fetch(url, t.download_rate, on_chunk)
        except FetchError as exc:
            reason = Reason.ERROR_IN_REQUEST if exc.kind == "request" else Reason.INTERNAL_ERROR
            failed(reason, f"download of {target} failed: {exc}; standby partition is now invalid", fetch_error_tag(exc))
            return
        emit(State.COPYING_IMAGE, description=f"downloaded 100% ({result.size}/{result.size} bytes)", slot=slot)
        if not learn and result.sha256 != sha256:
            failed(Reason.WRONG_IMAGE_CHECKSUM,
                   f"sha256 of the downloaded {target} is {result.sha256}, expected {sha256}; standby partition is now invalid",
                   "incorrect-hash")
            return
        try:
            header = parse_header(result.head)
        except ImageFormatError as exc:
            failed(Reason.INVALID_IMAGE, f"{shown} is not a valid image: {exc}", "revision-corrupt")
            return
        if learn:
            name, version, sha256 = header["name"], header["version"], result.sha256
            target = f"{name} {version}"
            self.partitions["standby"] = Partition(name, version, committed=False, valid=False, sha256="")
        elif (header["name"], header["version"]) != (name, version):
            failed(Reason.INVALID_IMAGE, f"image header says {header['name']} {header['version']}, request says {target}",
                   "metadata-mismatch")
            return
        script = f" with install script {install_script}" if install_script else ""
        emit(State.INSTALLING_IMAGE, description=f"installing {target} into the standby partition{script}", slot=slot)
        if self.spec.has("invalid_image"):
            await asyncio.sleep(t.install_time / 2)
            failed(Reason.INVALID_IMAGE,
                   f"installer rejected {target}: image is not valid for this device; standby partition is now invalid",
                   "unsupported-format")
            return
        await asyncio.sleep(t.install_time)
        self.partitions["standby"] = Partition(name, version, committed=False, valid=True, sha256=sha256)
        self._touch(slot, downloaded_at=time.time())
        self._persist()
        emit(State.UPGRADE_COMPLETE, description=f"{target} installed in the standby partition", slot=slot)

    # ---------------------------------------------------------------- ActivateImage
    def activate(self) -> AsyncIterator[StatusEvent]:
        """Reboot into the standby image, run sanity checks, commit (or fall back)."""

        def check():
            refusal = self._refusal(ACTIVATE)
            if refusal:
                return refusal
            standby = self.partitions["standby"]
            if not standby.valid:
                return (Reason.DEVICE_IN_WRONG_STATE,
                        f"standby partition of {self.name} holds no valid image ({standby.label} is invalid)")
            return None

        return self._run(ACTIVATE, self._activate, check)

    async def _activate(self, emit) -> None:
        old, new = self.partitions["active"], self.partitions["standby"]
        emit(State.REBOOTING_DEVICE, description=f"rebooting {self.name} into {new.label} from the standby partition")
        self.trial = True
        # Sanity checks run as part of the bring-up: the device answers again only once the
        # outcome is final (committed, or fallen back), so a client that lost the stream can
        # trust the first GetSoftwareVersion answer after the reboot.
        failing = self.spec.has("activation_sanity_failure")
        await self._reboot("activate", forever=self.spec.has("never_returns"),
                           checks=self.timings.sanity_time, stay_down=failing)
        if self.spec.has("activation_not_applied"):
            # A device manager seen in the field: it says complete and reports no fallback, yet still runs
            # the old image. The collection must report exactly that, not a fallback.
            self.trial = False
            emit(State.ACTIVATION_COMPLETE, description=f"{new.label} is active")
            return
        if failing:
            why = f"sanity checks failed on {new.label}"
            emit(State.REBOOTING_DEVICE, description=f"{why}; falling back to {old.label}, rebooting")
            self.trial = False
            self.partitions["standby"] = replace(new, committed=False, valid=False)
            self._persist()
            await self._reboot("fallback")
            emit(State.ACTIVATION_FAILED, Reason(self.spec.param("activation_sanity_failure", "reason")), "",
                 f"{why}; fell back to {old.label}")
            return
        emit(State.COMMITTING_IMAGE, description=f"sanity checks passed on {new.label}; committing")
        self.partitions = {"active": replace(new, committed=True, valid=True), "standby": old}
        self.active_slot ^= 1
        self.trial = False
        self._touch(self.active_slot, activated_at=time.time(), committed_at=time.time())
        self._persist()
        emit(State.ACTIVATION_COMPLETE, description=f"{new.label} is active and committed; {old.label} is on standby")

    # ---------------------------------------------------------------- RevertToStandbyImage
    def revert(self) -> AsyncIterator[StatusEvent]:
        """Boot the (committed, valid) standby image without sanity checks."""

        def check():
            refusal = self._refusal(REVERT)
            if refusal:
                return refusal
            standby = self.partitions["standby"]
            if not (standby.valid and standby.committed):
                state = "invalid" if not standby.valid else "not committed"
                return (Reason.DEVICE_IN_WRONG_STATE,
                        f"cannot revert {self.name}: standby image {standby.label} is {state}")
            return None

        return self._run(REVERT, self._revert, check)

    async def _revert(self, emit) -> None:
        old, new = self.partitions["active"], self.partitions["standby"]
        emit(State.REBOOTING_DEVICE, description=f"reverting {self.name} to {new.label}; rebooting without sanity checks")
        if self.spec.has("activation_not_applied"):       # see _activate
            await self._reboot("revert")
            emit(State.ACTIVATION_COMPLETE, description=f"{new.label} is active")
            return
        # The boot flag is flipped before the reboot: persisted now.
        self.partitions = {"active": new, "standby": old}
        self.active_slot ^= 1
        self._touch(self.active_slot, activated_at=time.time(), committed_at=time.time())
        self._persist()
        await self._reboot("revert")
        emit(State.ACTIVATION_COMPLETE, description=f"{new.label} is active; {old.label} is on standby")

    # ---------------------------------------------------------------- BBF (TR-383) semantics
    # Used by the NETCONF front end. Slots are the BBF revision ids: ``active_slot`` holds the
    # committed image (partitions["active"]), the other slot the standby partition. ``trial``
    # means the device runs the standby (activated but not committed). Every method raises
    # :class:`Refused` for a synchronous error and otherwise starts a background operation whose
    # StatusEvents carry ``slot`` and, for failures, the BBF ``tag``.
    @property
    def standby_slot(self) -> int:
        return 1 - self.active_slot

    @property
    def running_slot(self) -> int:
        return self.standby_slot if self.trial else self.active_slot

    def slot_partition(self, slot: int) -> Partition:
        return self.partitions["active"] if slot == self.active_slot else self.partitions["standby"]

    @property
    def downloading_slot(self) -> int | None:
        return self.standby_slot if self._op is not None and self._op.kind == DOWNLOAD else None

    def _touch(self, slot: int, **fields) -> None:
        info = self.slot_info[slot]
        info.changed_at = time.time()
        for key, value in fields.items():
            setattr(info, key, value)

    def _bbf_check_busy(self) -> None:
        self.check_available_for_ops()
        refusal = self._refusal(DOWNLOAD)
        if refusal is None:
            return
        reason, detail = refusal
        if reason is Reason.DEVICE_NOT_REACHABLE:
            raise Refused("component-not-responding", detail)
        raise Refused("component-busy", detail)

    def _bbf_slot(self, slot: int) -> None:
        if slot not in (0, 1):
            raise Refused("unexpected-error", f"no revision {slot} on {self.name}", missing=True)

    def bbf_download(self, url: str, replace_slot: int | None = None, not_available_only: bool = False,
                     gate: asyncio.Future | None = None) -> tuple[int, Partition]:
        """Start a download into the slot that is neither active nor committed (or ``replace_slot``,
        a user-selected target). Returns (slot, what it held before)."""
        self._bbf_check_busy()
        try:
            validate_url(url)
        except FetchError as exc:
            scheme = urlsplit(url).scheme if "://" in url else ""
            tag = "protocol-not-supported-by-peer" if scheme not in ("http", "file") else "invalid-inet-address"
            raise Refused(tag, str(exc)) from None
        slot = self.standby_slot
        if replace_slot is not None:
            self._bbf_slot(replace_slot)
            if replace_slot != slot:
                raise Refused("cannot-overwrite-revision",
                              f"revision {replace_slot} of {self.name} is committed; it cannot be overwritten")
        if self.trial:
            raise Refused("cannot-overwrite-revision",
                          f"revision {slot} of {self.name} is active (not committed yet); commit or restart first")
        old = self.partitions["standby"]
        if not_available_only and old.valid:
            raise Refused("cannot-overwrite-revision",
                          f"no not-available revision on {self.name}: revision {slot} holds {old.label} "
                          "(use not-available-only=false to replace it)")

        async def procedure(emit):
            await self._download(emit, None, None, url, "", "", learn=True)

        self._start(DOWNLOAD, procedure, gate)
        return slot, old

    def bbf_abort_download(self, slot: int) -> None:
        self._bbf_slot(slot)
        self.check_available_for_ops()
        op = self._op
        if op is None or op.kind != DOWNLOAD or slot != self.standby_slot:
            raise Refused("cannot-abort", f"revision {slot} of {self.name} is not downloading", missing=True)
        op.abort_requested = True
        if op.task is not None:
            op.task.cancel()

    def bbf_activate(self, slot: int, gate: asyncio.Future | None = None) -> None:
        """Reboot into ``slot``; on passing sanity checks it runs uncommitted (``trial``);
        on failure the device falls back to the committed image and the slot becomes invalid."""
        self._bbf_slot(slot)
        self._bbf_check_busy()
        part = self.slot_partition(slot)
        if not part.valid:
            raise Refused("unexpected-error", f"revision {slot} of {self.name} is not available", missing=True)
        if slot == self.running_slot:
            async def again(emit):
                self._touch(slot, activated_at=time.time())
                emit(State.ACTIVATION_COMPLETE, description=f"{part.label} is already active", slot=slot)

            self._start(ACTIVATE, again, gate)
            return

        async def procedure(emit):
            await self._bbf_activate(emit, slot)

        self._start(ACTIVATE, procedure, gate)

    async def _bbf_activate(self, emit, slot: int) -> None:
        new = self.slot_partition(slot)
        committed = self.partitions["active"]
        emit(State.REBOOTING_DEVICE, description=f"rebooting {self.name} into {new.label} (revision {slot})", slot=slot)
        self.trial = slot != self.active_slot
        failing = self.spec.has("activation_sanity_failure") and self.trial
        await self._reboot("activate", forever=self.spec.has("never_returns"),
                           checks=self.timings.sanity_time, stay_down=failing)
        if failing:
            why = f"sanity checks failed on {new.label}"
            emit(State.REBOOTING_DEVICE, description=f"{why}; falling back to {committed.label}, rebooting", slot=slot)
            self.trial = False
            self.partitions["standby"] = replace(new, committed=False, valid=False)
            self._touch(slot)
            self._persist()
            await self._reboot("fallback")
            emit(State.ACTIVATION_FAILED, Reason(self.spec.param("activation_sanity_failure", "reason")), "",
                 f"{why}; fell back to the committed revision {self.active_slot} ({committed.label})",
                 tag="unexpected-error", slot=slot)
            return
        self._touch(slot, activated_at=time.time())
        self._persist()
        state = "active and committed" if slot == self.active_slot else "active, not committed"
        emit(State.ACTIVATION_COMPLETE, description=f"{new.label} (revision {slot}) is {state}", slot=slot)

    def bbf_commit(self, slot: int) -> None:
        """Make ``slot`` the image the device boots (no reboot)."""
        self._bbf_slot(slot)
        self._bbf_check_busy()
        part = self.slot_partition(slot)
        if not part.valid:
            raise Refused("unexpected-error", f"revision {slot} of {self.name} is not available", missing=True)
        running = self.running_slot
        if slot != self.active_slot:
            self.partitions = {"active": replace(part, committed=True), "standby": self.partitions["active"]}
            self.active_slot = slot
        self.trial = running != self.active_slot
        self._touch(slot, committed_at=time.time())
        self._persist()
        self._notify(COMMIT, self._event(State.ACTIVATION_COMPLETE, description=f"{part.label} (revision {slot}) "
                                         "is committed", slot=slot))

    # ---------------------------------------------------------------- reboots
    async def _reboot(self, kind: str, forever: bool = False, checks: float = 0.0, stay_down: bool = False) -> None:
        """Down for reboot_time (plus flaps), then ``checks`` seconds of post-boot checks while still
        not answering; back in service at the end unless ``stay_down`` (another reboot follows)."""
        t = self.timings
        down_at = time.time()
        entry = {"device": self.name, "kind": kind, "down_at": down_at, "up_at": None}
        self.rebooting = True
        log.info("%s: down (%s reboot)", self.name, kind)
        if forever:
            self.dead = True
            if self.store:
                self.store.append_reboot({**entry, "never_returns": True})
            log.warning("%s: never_returns fault: the device will not come back until the simulator restarts", self.name)
            await asyncio.Event().wait()
        logged = False
        try:
            await asyncio.sleep(t.reboot_time)
            if self.spec.has("flapping"):
                flaps = int(self.spec.param("flapping", "flaps"))
                up_time = float(self.spec.param("flapping", "up_time"))
                down_time = self.spec.param("flapping", "down_time")
                down_time = t.reboot_time if down_time is None else float(down_time)
                for n in range(flaps):
                    self.rebooting = False
                    log.info("%s: up (flap %d/%d)", self.name, n + 1, flaps)
                    await asyncio.sleep(up_time)
                    self.rebooting = True
                    log.info("%s: down again (flap %d/%d)", self.name, n + 1, flaps)
                    await asyncio.sleep(down_time)
            self.last_booted = time.time()
            if checks:
                await asyncio.sleep(checks)
            entry["up_at"] = time.time()
            if not stay_down:
                self.rebooting = False
                log.info("%s: up after %s reboot (%.2fs)", self.name, kind, entry["up_at"] - down_at)
            if self.store:
                self.store.append_reboot(entry)
            logged = True
        finally:
            if not logged and self.store:
                self.store.append_reboot({**entry, "interrupted": True})

    # ---------------------------------------------------------------- startup configuration
    async def update_startup_config(self, url: str) -> StartupConfig:
        """Fetch a startup configuration and keep {config_url (redacted), version}; survives upgrades."""
        self.check_available_for_ops()
        if self.spec.has("unreachable"):
            raise ConfigError("DEVICE_UNREACHABLE", f"device {self.name} is not reachable")
        if not (url or "").strip():
            raise ConfigError("ERROR_FETCHING_CONFIG", "config_url is empty")
        if self.busy or self.spec.has("busy"):
            raise ConfigError("OPERATION_ALREADY_IN_PROGRESS", f"another operation is in progress on {self.name}")
        self._busy_config = True
        try:
            try:
                result = await fetch(url, self.timings.download_rate)
            except FetchError as exc:
                raise ConfigError("ERROR_FETCHING_CONFIG", f"cannot fetch startup configuration: {exc}") from None
            if result.size == 0:
                raise ConfigError("INVALID_CONFIG", f"startup configuration {redact(url)} is empty")
            self.startup = StartupConfig(config_url=redact(url), version=config_version(url), sha256=result.sha256)
            self._persist()
            log.info("%s: startup configuration %s version %s installed", self.name, redact(url), self.startup.version)
            return self.startup
        finally:
            self._busy_config = False

    # ---------------------------------------------------------------- lifecycle
    async def shutdown(self) -> None:
        """Cancel a running procedure (simulator stop); disk state stays consistent."""
        op = self._op
        if op is not None and op.task is not None and not op.task.done():
            op.task.cancel()
            try:
                await op.task
            except (asyncio.CancelledError, Exception):
                pass
