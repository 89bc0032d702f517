# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Protocol-neutral device API of escalator.swim.

PRIVATE to the collection: the names here may change without a semver bump.

A device has an *active* and a *standby* software partition (VOLTHA DMI image management). Every
transport (DMI gRPC in ``dmi.py``, NETCONF in ``netconf.py``) implements :class:`Device`; the module
operations in ``ops/`` only ever talk to this API, so a task behaves the same on every transport.
"""

from __future__ import annotations

import abc
import time
import typing as t
from dataclasses import asdict, dataclass, field

from .clock import utc_now
from .redaction import redact_url

# Reasons that mean "the device is busy with another operation; the same request may succeed later":
# DMI's reason, and the model identity every bbf-software-management dialect answers with (any prefix).
BUSY_REASONS = frozenset({"OPERATION_ALREADY_IN_PROGRESS"})
BUSY_IDENTITY = "component-busy"


def is_busy_reason(reason: str) -> bool:
    return reason in BUSY_REASONS or reason.rpartition(":")[2] == BUSY_IDENTITY


class DeviceError(Exception):
    """A device operation failed. ``msg`` names the device, the operation and the protocol reason.

    ``reason`` is the DMI reason name (e.g. ``WRONG_IMAGE_CHECKSUM``) or, for NETCONF, the
    bbf-software-management error identity; client-side conditions use their own names
    (``TIMEOUT``, ``STALLED``, ``UNREACHABLE``, ``NOT_KNOWN_GOOD``, ...).

    ``unreachable`` marks an error raised because the device (or its manager) could not be reached at
    all within the connect window, before it answered anything in this task: the action plugins turn it
    into Ansible's ``unreachable`` result. A device that answered and then went away (a reboot that never
    ends) is a failure, not unreachable: the task has touched it.
    """

    def __init__(self, device: str, operation: str, reason: str, detail: str = "", *,
                 transport: str = "", history: list | None = None, retryable: bool = False,
                 extra: dict | None = None, unreachable: bool = False):
        self.device = device
        self.operation = operation
        self.reason = reason or "UNDEFINED_REASON"
        self.detail = redact_url(detail or "")
        self.transport = transport
        self.history = history or []
        self.retryable = retryable
        self.unreachable = unreachable
        self.extra = extra or {}  # more result fields for the failed task (e.g. after, fell_back_to)
        super().__init__(self.msg)

    @property
    def busy(self) -> bool:
        """The device refused because another operation runs: the caller may try again later."""
        return is_busy_reason(self.reason)

    @property
    def msg(self) -> str:
        via = f" over {self.transport}" if self.transport else ""
        text = f"{self.device}: {self.operation}{via} failed: {self.reason}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class Image:
    """One image in a partition. ``committed`` / ``valid`` / ``sha256`` are None where the transport cannot tell."""
    name: str
    version: str
    committed: bool | None = None
    valid: bool | None = None
    sha256: str | None = None  # lowercase hex digest the device reports (NETCONF ``hash``); DMI does not

    def same_as(self, name: str | None, version: str) -> bool:
        return self.version == version and (not name or self.name == name)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class SoftwareVersions:
    active: tuple[Image, ...] = ()
    standby: tuple[Image, ...] = ()

    @property
    def active_image(self) -> Image | None:
        return self.active[0] if self.active else None

    @property
    def standby_image(self) -> Image | None:
        return self.standby[0] if self.standby else None

    def as_dict(self) -> dict:
        return {"active": [i.as_dict() for i in self.active], "standby": [i.as_dict() for i in self.standby]}


@dataclass
class StatusEvent:
    """One progress report (a DMI ImageStatus, or a NETCONF notification/state mapped to it)."""
    state: str
    reason: str = ""
    description: str = ""
    reason_detail: str = ""
    ok: bool = True
    time: str = field(default_factory=utc_now)

    def as_dict(self) -> dict:
        data = {"time": self.time, "state": self.state, "ok": self.ok}
        for key in ("reason", "description", "reason_detail"):
            value = getattr(self, key)
            if value:
                data[key] = redact_url(value)
        return data


@dataclass(frozen=True)
class ImageSpec:
    """What to download into the standby partition."""
    name: str
    version: str
    url: str
    sha256: str
    install_script: str = ""


StatusCallback = t.Callable[[StatusEvent], None]

# Terminal states of an image operation, shared by every transport.
UPGRADE_COMPLETE = "UPGRADE_COMPLETE"
UPGRADE_FAILED = "UPGRADE_FAILED"
ACTIVATION_COMPLETE = "ACTIVATION_COMPLETE"
ACTIVATION_FAILED = "ACTIVATION_FAILED"
REBOOTING_DEVICE = "REBOOTING_DEVICE"


@dataclass
class Budget:
    """A deadline for one operation, plus stall (no progress) detection."""
    timeout: float
    stall_timeout: float | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def remaining(self) -> float:
        return max(0.0, self.started + self.timeout - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining <= 0.0

    def next_wait(self) -> float:
        """How long to wait for the next progress report before calling the operation stalled."""
        if self.stall_timeout:
            return min(self.stall_timeout, self.remaining)
        return self.remaining


class Device(abc.ABC):
    """One managed device, reached over one transport.

    Implementations raise :class:`DeviceError` for every failure; ``retryable`` marks the
    ones that mean "not reachable right now" (rebooting, flapping).
    """

    transport = ""
    # what a revert does on this transport, in the words of its documentation (check-mode messages)
    revert_steps = "reboot, no sanity checks"
    # the Image flags (committed, valid, sha256) this transport reports per partition: a check-mode prediction
    # shows only these, so that it reads as the real run's result would
    reported_flags: dict[str, tuple[str, ...]] = {"active": ("committed", "valid", "sha256"),
                                                  "standby": ("committed", "valid", "sha256")}

    def __init__(self, name: str):
        self.name = name

    # -- reads ------------------------------------------------------------------------------
    @abc.abstractmethod
    def versions(self, retry: bool = True) -> SoftwareVersions:
        """Active and standby images; ``retry`` rides out a short unreachability (connect_timeout)."""

    @abc.abstractmethod
    def startup_config(self) -> dict:
        """Startup configuration info: ``{config_url, version}`` (URL redacted)."""

    @abc.abstractmethod
    def inventory(self) -> dict:
        """Physical inventory, normalised: ``{components: [{name, class, serial_num, ...}]}``."""

    @abc.abstractmethod
    def health(self) -> dict:
        """What the device exposes about its health: ``{reachable, alarms: [...], sensors: {...}}``."""

    # -- image operations ---------------------------------------------------------------------
    @abc.abstractmethod
    def download(self, image: ImageSpec, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        """Download and install *image* into standby; return the status history (ends UPGRADE_COMPLETE)."""

    @abc.abstractmethod
    def activate(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        """Reboot into standby with sanity checks and commit; follow the device through its reboot."""

    @abc.abstractmethod
    def revert(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        """Reboot into the standby image without sanity checks; follow the device through its reboot."""

    # -- shared behaviour ---------------------------------------------------------------------
    def wait_until_reachable(self, budget: Budget, operation: str) -> SoftwareVersions:
        """Poll the versions with back-off until the device answers, or fail when *budget* runs out."""
        from .transport_base import Backoff  # late: transport_base imports this module

        backoff = Backoff()
        last: DeviceError | None = None
        while True:
            try:
                return self.versions(retry=False)
            except DeviceError as exc:
                if not exc.retryable:
                    raise
                last = exc
            if budget.expired:
                detail = f"device did not answer within {budget.timeout:g}s"
                if last is not None:
                    detail += f"; last error: {last.reason} {last.detail}".rstrip()
                raise DeviceError(self.name, operation, "TIMEOUT", detail, transport=self.transport)
            backoff.sleep(budget.remaining)

    def close(self) -> None:
        """Release the connection."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
