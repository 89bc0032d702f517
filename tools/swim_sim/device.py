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
_FAIL_STATE = {DOWNLOAD: State.UPGRADE_FAILED, ACTIVATE: State.ACTIVATION_FAILED, REVERT: State.ACTIVATION_FAILED}


@dataclass(frozen=True)
class StatusEvent:
    """One step of an image operation (maps 1:1 to DMI ImageStatus)."""

    state: State
    reason: Reason | None = None
    description: str = ""
    reason_detail: str = ""
    timestamp: float = field(default_factory=time.time)

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
        self.managed = True
        self.rebooting = False  # down right now (reboot in progress)
        self.dead = False  # never_returns fault fired: down until the simulator restarts
        self.trial = False  # booted the standby image, not committed yet (activation sanity phase)
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
        self.managed = bool(data.get("managed", True))
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
            "updated_at": time.time(),
        }

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
        return not (self.dead or self.rebooting or self.spec.has("unreachable"))

    def running_partitions(self) -> tuple[Partition, Partition]:
        """(active, standby) as the running device reports them (swapped while on trial boot)."""
        if self.trial:
            return self.partitions["standby"], self.partitions["active"]
        return self.partitions["active"], self.partitions["standby"]

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

    def _event(self, state: State, reason: Reason | None = None, description: str = "", detail: str = "") -> StatusEvent:
        return StatusEvent(state=state, reason=reason, description=redact(description), reason_detail=redact(detail))

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
        op = _Operation(kind)
        self._op = op
        op.task = asyncio.get_running_loop().create_task(self._drive(op, procedure), name=f"{self.name}:{kind}")
        async for event in op.follow():
            yield event
            if event.state is State.REBOOTING_DEVICE and self.spec.has("stream_drop_on_reboot"):
                raise StreamDropped(f"device {self.name} is rebooting: event stream dropped")

    def check_available_for_ops(self) -> None:
        if self.dead or self.rebooting:
            raise DeviceRebooting(f"device {self.name} is rebooting")

    async def _drive(self, op: _Operation, procedure) -> None:
        def emit(state, reason=None, description="", detail=""):
            event = self._event(state, reason, description, detail)
            op.publish(event)
            self._notify(op.kind, event)

        try:
            await procedure(emit)
        except asyncio.CancelledError:
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

    async def _download(self, emit, name, version, url, sha256, install_script) -> None:
        t = self.timings
        shown = redact(url)
        target = f"{name} {version}"
        # Flash semantics: writing the standby partition destroys what it held.
        self.partitions["standby"] = Partition(name, version, committed=False, valid=False, sha256="")
        self._persist()
        emit(State.COPYING_IMAGE, description=f"downloading {target} from {shown} into the standby partition")

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
                         description=f"downloaded {received * 100 // total}% ({received}/{total} bytes)")
            elif now - last["t"] >= 0.5:
                last["t"] = now
                emit(State.COPYING_IMAGE, description=f"downloaded {received} bytes")
            return chunk

        try:
            result = await fetch(url, t.download_rate, on_chunk)
        except FetchError as exc:
            reason = Reason.ERROR_IN_REQUEST if exc.kind == "request" else Reason.INTERNAL_ERROR
            emit(State.UPGRADE_FAILED, reason, "", f"download of {target} failed: {exc}; standby partition is now invalid")
            return
        emit(State.COPYING_IMAGE, description=f"downloaded 100% ({result.size}/{result.size} bytes)")
        if result.sha256 != sha256:
            emit(State.UPGRADE_FAILED, Reason.WRONG_IMAGE_CHECKSUM, "",
                 f"sha256 of the downloaded {target} is {result.sha256}, expected {sha256}; standby partition is now invalid")
            return
        try:
            header = parse_header(result.head)
        except ImageFormatError as exc:
            emit(State.UPGRADE_FAILED, Reason.INVALID_IMAGE, "", f"{shown} is not a valid image: {exc}")
            return
        if (header["name"], header["version"]) != (name, version):
            emit(State.UPGRADE_FAILED, Reason.INVALID_IMAGE, "",
                 f"image header says {header['name']} {header['version']}, request says {target}")
            return
        script = f" with install script {install_script}" if install_script else ""
        emit(State.INSTALLING_IMAGE, description=f"installing {target} into the standby partition{script}")
        if self.spec.has("invalid_image"):
            await asyncio.sleep(t.install_time / 2)
            emit(State.UPGRADE_FAILED, Reason.INVALID_IMAGE, "",
                 f"installer rejected {target}: image is not valid for this device; standby partition is now invalid")
            return
        await asyncio.sleep(t.install_time)
        self.partitions["standby"] = Partition(name, version, committed=False, valid=True, sha256=sha256)
        self._persist()
        emit(State.UPGRADE_COMPLETE, description=f"{target} installed in the standby partition")

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
        self.trial = False
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
        # The boot flag is flipped before the reboot: persisted now.
        self.partitions = {"active": new, "standby": old}
        self._persist()
        await self._reboot("revert")
        emit(State.ACTIVATION_COMPLETE, description=f"{new.label} is active; {old.label} is on standby")

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
