"""Run the collection's real action plugins in-process (argument validation, variable lookup, operation,
result shaping), with a recording fake device in place of the transport.

Only the transport is replaced: ``open_device`` (what the task's connection plugin opens) becomes a factory
that records the connection parameters it was given and returns a :class:`RecordingDevice`. The connection
is the real plugin: the one ``ansible_connection`` names in the task variables, its options set from them
as ansible-core's TaskExecutor sets them, or without ``ansible_connection`` the ``local`` connection of an
old-style inventory (swim_transport).
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / ".collections", ROOT / "tests" / "unit"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from ansible import constants as C  # noqa: E402
from ansible.errors import AnsibleError  # noqa: E402
from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.playbook.play_context import PlayContext  # noqa: E402
from ansible.plugins.loader import connection_loader  # noqa: E402
from ansible.template import Templar  # noqa: E402

from ansible_collections.escalator.swim.plugins.module_utils.device import DeviceError  # noqa: E402
from ansible_collections.escalator.swim.plugins.module_utils.ops import common  # noqa: E402
from ansible_collections.escalator.swim.plugins.plugin_utils import _connection_base  # noqa: E402
from fake_device import FakeDevice  # noqa: E402

DEVICE_MODULES = ("sw_version", "download_image", "activate_image", "revert_image", "snapshot")
KNOWN_DEVICES = {"olt-001", "olt-002"}
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
URL = common.URL


class RecordingDevice(FakeDevice):
    """FakeDevice that refuses names it does not know, as a device manager does (UNKNOWN_DEVICE)."""

    def versions(self, retry=True):
        if self.name not in KNOWN_DEVICES:
            raise DeviceError(self.name, "GetSoftwareVersion", "UNKNOWN_DEVICE", "no such device", transport="fake")
        return super().versions(retry)


class Recorder:
    def __init__(self):
        self.opened: list[dict] = []
        self.devices: list[RecordingDevice] = []

    def __call__(self, params: dict):
        self.opened.append(dict(params))
        device = RecordingDevice(params["device_name"])
        self.devices.append(device)
        return device

    @property
    def calls(self) -> list:
        return [call for device in self.devices for call in device.calls]


class _Task:
    def __init__(self, action: str, args: dict, check_mode: bool, diff: bool):
        self.args = args
        self.action = f"escalator.swim.{action}"
        self._resolved_action = self.action
        self.async_val = 0
        self.check_mode = check_mode
        self.diff = diff
        self.no_log = False

    def get_name(self):
        return f"property test of {self.action}"


def action_class(module: str):
    return importlib.import_module(f"ansible_collections.escalator.swim.plugins.action.{module}").ActionModule


def task_connection(task_vars: dict, play_context: PlayContext):
    """The connection plugin of the task, options set from *task_vars* (TaskExecutor._set_connection_options)."""
    connection = connection_loader.get(task_vars.get("ansible_connection") or "local", play_context)
    names = C.config.get_plugin_vars("connection", connection._load_name)
    connection.set_options(task_keys={"timeout": play_context.timeout},
                           var_options={name: task_vars[name] for name in names if name in task_vars})
    return connection


def run_action(module: str, args: dict, task_vars: dict | None = None, *, check_mode: bool = False,
               diff: bool = False, monkeypatch=None) -> tuple[dict, Recorder]:
    """One task of *module* with *args*; returns (result, recorder of device activity)."""
    recorder = Recorder()
    original = common.open_device, _connection_base.open_device
    common.open_device = _connection_base.open_device = recorder
    try:
        loader = DataLoader()
        play_context = PlayContext()
        try:
            connection = task_connection(task_vars or {}, play_context)
        except AnsibleError as exc:     # what ansible-playbook reports for such a task, before the action runs
            return {"failed": True, "msg": str(exc)}, recorder
        action = action_class(module)(_Task(module, args, check_mode, diff), connection, play_context, loader,
                                      Templar(loader=loader, variables=task_vars or {}), None)
        result = action.run(task_vars=dict(task_vars or {}))
    finally:
        common.open_device, _connection_base.open_device = original
    return result, recorder


# --------------------------------------------------------------------------- what every device call must satisfy
def connection_is_valid(params: dict) -> list[str]:
    """Problems with the connection parameters a transport was opened with (empty: fine)."""
    problems = []
    if params.get("transport") not in ("dmi", "netconf"):
        problems.append(f"transport {params.get('transport')!r}")
    for key in ("host", "device_name"):
        value = params.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key} {value!r}")
    port = params.get("port")
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        problems.append(f"port {port!r}")
    for key in ("connect_timeout", "rpc_timeout"):
        value = params.get(key)
        if value is not None and not (isinstance(value, float) and math.isfinite(value) and value > 0):
            problems.append(f"{key} {value!r}")
    return problems


def download_is_valid(image) -> list[str]:
    problems = []
    if not (isinstance(image.sha256, str) and SHA256.fullmatch(image.sha256)):
        problems.append(f"sha256 {image.sha256!r}")
    if not (isinstance(image.url, str) and URL.fullmatch(image.url)):
        problems.append(f"url {image.url!r}")
    for key in ("name", "version"):
        value = getattr(image, key)
        if not (isinstance(value, str) and value.strip() and len(value) <= 255
                and not any(ord(c) < 32 for c in value)):
            problems.append(f"{key} {value!r}")
    return problems
