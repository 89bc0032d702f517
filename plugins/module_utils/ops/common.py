# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What every module operation shares: its context, argument checks and result shaping.

PRIVATE to the collection. Both runners use this: the controller-side action plugin
(``plugins/plugin_utils/device_action.py``) and, for the controller-only modules, their own ``main()``
(``module_runner.py``).
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.common.parameters import remove_values

from ..campaign_record import RecordError, StageRecorder
from ..connection import open_device
from ..device import Budget, Device, DeviceError, Image, SoftwareVersions, StatusEvent
from ..redaction import redact, url_secrets

SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
# Schemes a device manager can fetch from (DMI examples use sftp; the simulator serves http/file).
URL = re.compile(r"^(?:https?|sftp|ftp|ftps|scp|tftp|file)://[^\s]+$", re.IGNORECASE)


class ArgumentError(Exception):
    """A task argument is well-typed but unusable; nothing was sent to the device."""


class OperationContext:
    """Validated parameters plus how the task runs; opens the device only when first needed."""

    def __init__(self, params: dict, check_mode: bool = False, diff: bool = False,
                 on_status: t.Callable[[StatusEvent], None] | None = None,
                 device_factory: t.Callable[[dict], Device] | None = None):
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.on_status = on_status or (lambda event: None)
        self._device_factory = device_factory
        self._device: Device | None = None

    @property
    def name(self) -> str:
        return self.params.get("device_name") or self.params.get("host") or "?"

    @property
    def device(self) -> Device:
        if self._device is None:
            check_connection_args(self.params)
            factory = self._device_factory or open_device
            self._device = factory(self.params)
        return self._device

    @property
    def opened(self) -> Device | None:
        """The device session, if the operation opened one."""
        return self._device

    def budget(self) -> Budget:
        return Budget(timeout=float(self.params["timeout"]), stall_timeout=self.params.get("stall_timeout") or None)

    def close(self) -> None:
        if self._device is not None:
            self._device.close()


def describe(image) -> str:
    return f"{image.name} {image.version}" if image is not None else "nothing"


def partitions_diff(before: SoftwareVersions, after: SoftwareVersions, which=("active", "standby")) -> dict:
    """Ansible diff (before/after) of the partitions a module touches."""
    def view(versions):
        data = versions.as_dict()
        return "".join(f"{part}: {', '.join(describe_dict(i) for i in data[part]) or '-'}\n" for part in which)
    return {"before": view(before), "after": view(after), "before_header": "partitions", "after_header": "partitions"}


def reported_like(device: Device, partition: str, name: str, version: str, *, committed: bool, valid: bool = True,
                  sha256: str | None = None) -> Image:
    """The image *partition* would hold, with only the flags *device*'s transport reports there: a check-mode
    prediction must read as the real run's result would (DMI: committed for the active image only)."""
    shown = device.reported_flags.get(partition, ())
    values = {"committed": committed, "valid": valid, "sha256": sha256}
    return Image(name, version, **{flag: value if flag in shown else None for flag, value in values.items()})


def predicted_diff(ctx, before: SoftwareVersions, after: SoftwareVersions, which=("active", "standby")) -> dict:
    """Check mode: the partitions' diff as the operation would leave them, only when the task runs with --diff."""
    return {"diff": partitions_diff(before, after, which)} if ctx.diff else {}


def describe_dict(image: dict) -> str:
    text = f"{image['name']} {image['version']}"
    flags = [flag for flag in ("committed", "valid") if image.get(flag) is not None and not image[flag]]
    return text + (f" (not {', not '.join(flags)})" if flags else "")


def check_connection_args(params: dict) -> None:
    """Connection options the argument spec cannot check: refuse before any transport is opened."""
    problems = []
    host = params.get("host")
    if host is not None and (not host.strip() or len(host) > 255 or any(ord(c) <= 32 for c in host)):
        problems.append("host must be a host name or address (1-255 characters, no spaces)")
    name = params.get("device_name")
    if name is not None and (not name.strip() or len(name) > 255 or any(ord(c) < 32 for c in name)):
        problems.append("device_name must be 1-255 printable characters")
    port = params.get("port")
    if port is not None and (isinstance(port, bool) or not 0 < port < 65536):
        problems.append("port must be between 1 and 65535")
    for key in ("connect_timeout", "rpc_timeout"):
        value = params.get(key)
        if value is not None and not 0 < value < 10 ** 7:     # also refuses nan and inf
            problems.append(f"{key} must be a positive number of seconds")
    if problems:
        raise ArgumentError("; ".join(problems))


def check_image_args(params: dict) -> None:
    """Checks the argument spec cannot express: refuse before anything reaches the device."""
    problems = []
    sha = params.get("sha256")
    if sha is not None and not SHA256.fullmatch(sha):
        problems.append("sha256 must be 64 hexadecimal characters (the output of sha256sum)")
    url = params.get("url")
    if url is not None and not URL.fullmatch(url):
        problems.append(f"url {redact(url)!r} is not a URL the device can fetch "
                        "(expected scheme://host/path with http, https, sftp, ftp, ftps, scp, tftp or file)")
    for key in ("name", "version"):
        value = params.get(key)
        if value is not None and (not value.strip() or len(value) > 255 or any(ord(c) < 32 for c in value)):
            problems.append(f"{key} must be 1-255 printable characters")
    timeout, stall = params.get("timeout"), params.get("stall_timeout")
    if timeout is not None and not 0 < timeout < 10 ** 7:
        problems.append("timeout must be a positive number of seconds")
    if stall is not None and not 0 <= stall < 10 ** 7:
        problems.append("stall_timeout must be 0 (off) or a positive number of seconds")
    if problems:
        raise ArgumentError("; ".join(problems))


def execute(operation, context: OperationContext, no_log_values: t.Iterable[str] = ()) -> dict:
    """Run one module operation and shape its result, success or failure, for Ansible.

    With the ``record`` option (not in check mode) the task is also a stage of the campaign's status
    table: recorded running before the device is touched, then ok or failed with the result's reason.
    """
    recorder = result = None
    try:
        if context.params.get("record") and not context.check_mode:
            try:
                started = StageRecorder(context.params["record"], context.name)
                started.start()
                recorder = started
            except (RecordError, OSError) as exc:      # the device is left untouched
                result = {"failed": True, "changed": False, "reason": "STATUS_NOT_RECORDED",
                          "msg": f"{context.name}: nothing done: the status table could not be written: {exc}"}
        if result is None:
            result = _run(operation, context)
    finally:
        context.close()
    if recorder is not None:
        recorder.finish(result)
    elif result.get("failed") and isinstance(context.params.get("record"), dict) and context.params["record"].get("stage"):
        result["stage"] = context.params["record"]["stage"]     # (check mode: the stage it would have recorded)
    return remove_values(redact(result), set(no_log_values) | url_secrets(context.params))


def _run(operation, context: OperationContext) -> dict:
    """The operation's result, or the failed result of its ArgumentError/DeviceError."""
    try:
        return operation.run(context)
    except ArgumentError as exc:
        return {"failed": True, "changed": False, "msg": f"{context.name}: invalid arguments: {exc}"}
    except DeviceError as exc:
        result = {"failed": True, "changed": bool(exc.extra.get("changed", False)), "msg": exc.msg,
                  "reason": exc.reason, "busy": exc.busy, "status_history": [e.as_dict() for e in exc.history]}
        result.update({k: v for k, v in exc.extra.items() if k != "changed"})
        if exc.unreachable:     # never answered in the connect window: the action plugin reports it unreachable
            result["unreachable"] = True
        return result
