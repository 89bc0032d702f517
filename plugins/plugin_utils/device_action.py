# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Base of the device modules' action plugins.

PRIVATE to the collection. Device I/O happens in the worker process Ansible forked for the task
(gRPC channels are created after that fork, never before). How to reach the device is the task's
connection (escalator.swim.dmi or escalator.swim.netconf, plugins/connection/): its options, filled by
Ansible from the inventory, are the device parameters.
"""

from __future__ import annotations

import importlib

from ansible.plugins.loader import connection_loader

from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import RECORD_ARGSPEC, RECORD_VARS
from ansible_collections.escalator.swim.plugins.module_utils.connection import TASK_CONNECTION_ARGSPEC
from ansible_collections.escalator.swim.plugins.module_utils.dmi_managed import FACT as DMI_FACT, uuid_fact
from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext
from ansible_collections.escalator.swim.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.escalator.swim.plugins.plugin_utils.events import status_publisher
from ansible_collections.escalator.swim.plugins.plugin_utils.legacy_connection import (
    LegacyConnectionError, device_connection)
from ansible_collections.escalator.swim.plugins.plugin_utils.progress import chain, progress_lines

TRANSPORT_MODULES = ("dmi", "netconf")


def preload_transports() -> None:
    """Import the transports (grpc + DMI stubs, ncclient + paramiko) once, in the controller's main process.

    ansible-core's linear and free strategies load a task's action plugin class in the main process
    (to read BYPASS_HOST_LOOP) before forking the task's workers, so this import, run when this file is
    loaded, is inherited by every worker instead of being repeated for every host-task: 0.086 -> 0.038
    controller CPU-s per ``sw_version`` host-task on the benchmark machine (docs/performance.md). The same
    for the connection plugins escalator.swim.dmi/netconf (their option definitions).
    Only modules are imported: no gRPC channel or SSH session exists before a fork. A transport whose
    library is missing is simply not preloaded (open_device reports it per task).
    """
    for name in TRANSPORT_MODULES:
        try:
            importlib.import_module(f"ansible_collections.escalator.swim.plugins.module_utils.{name}")
            # the connection plugin too: loading it parses its DOCUMENTATION (YAML) into ansible's config
            # definitions, which a worker would otherwise repeat for every host-task (docs/performance.md)
            connection_loader.get(f"escalator.swim.{name}", class_only=True)
        except Exception:  # noqa: BLE001 -- an optimisation must never break loading the plugin
            pass


preload_transports()


class DeviceAction(ControllerAction):
    """A device module: the device from the task's connection, status events to Kafka."""

    def argument_spec(self) -> dict:
        return {**TASK_CONNECTION_ARGSPEC, **RECORD_ARGSPEC, **self.OPERATION.ARGUMENT_SPEC}

    def task_args(self, task_vars: dict) -> dict:
        args = super().task_args(task_vars)
        if isinstance(args.get("record"), dict):      # (anything else is refused by the argument spec)
            args["record"] = self.fill_from_vars(args["record"], RECORD_VARS, task_vars)
        return args

    def perform(self, params: dict, task_vars: dict, no_log_values, result: dict) -> None:
        host = task_vars.get("inventory_hostname", "?")
        try:
            connection = device_connection(self, task_vars)
            device_params = connection.device_params(fallback_name=host)
        except LegacyConnectionError as exc:
            result.update(failed=True, changed=False, msg=f"{host}: {exc}")
            return
        # connect_timeout / rpc_timeout given on the task (a campaign step's timeouts) win for this task
        overrides = {key: params[key] for key in TASK_CONNECTION_ARGSPEC if params.get(key) is not None}
        # DMI: whether this task may put an unknown device under management (never read-only tasks, never check
        # mode; docs/inventory.md), and the uuid an earlier task of the run found (module_utils/dmi_managed.py)
        overrides["manage_device"] = (bool(getattr(self.OPERATION, "MANAGES_DEVICE", False) or params.get("manage"))
                                      and not self._task.check_mode)
        overrides["known_device"] = (task_vars.get("ansible_facts") or {}).get(DMI_FACT)
        self._device_connection = connection
        no_log_values = set(no_log_values) | {str(device_params[key]) for key in ("password",)
                                              if device_params.get(key)}
        super().perform({**params, **device_params, **overrides}, task_vars, no_log_values, result)
        if result.get("unreachable"):
            # Ansible's unreachable (recap unreachable=1, no rescue): the device never answered, nothing was done
            result.pop("failed", None)

    def make_context(self, params: dict, task_vars: dict) -> OperationContext:
        self._publisher = self._status_publisher(task_vars, params)
        # Live progress lines in the play output (plugin_utils/progress.py), next to the Kafka events.
        self._progress = progress_lines(
            self._display, lambda name: self._var(task_vars, name), device=task_vars.get("inventory_hostname", "?"),
            operation=self.OPERATION.__name__.rsplit(".", 1)[-1], transport=params.get("transport") or "",
            check_mode=bool(self._task.check_mode), stage=(params.get("record") or {}).get("stage"))
        return OperationContext(params, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff),
                                on_status=chain(self._publisher, self._progress),
                                device_factory=self._device_connection.device)

    def finish(self, context: OperationContext, result: dict, task_vars: dict) -> None:
        found = uuid_fact(context.opened)      # (a DMI device this task looked up: later tasks need not)
        if found:
            result["ansible_facts"] = {**result.get("ansible_facts", {}), **found}
        if getattr(self, "_progress", None) is not None:
            self._progress.close()
        publisher = getattr(self, "_publisher", None)
        if publisher is not None:
            # Bounded: a dead bus costs this task at most swim_kafka_flush_timeout seconds.
            warnings = publisher.close(float(self._var(task_vars, "swim_kafka_flush_timeout") or 5.0))
            if warnings:
                result.setdefault("warnings", []).extend(warnings)

    def _status_publisher(self, task_vars: dict, params: dict):
        """Image-status events to Kafka when swim_kafka_bootstrap_servers is set (plugin_utils/events.py).

        Publishing is best effort: a broken bus configuration must not fail the upgrade step.
        """
        try:
            return status_publisher(
                lambda name: self._var(task_vars, name), host=task_vars.get("inventory_hostname", "?"),
                task=self._task.get_name(), module=self._task._resolved_action or self._task.action,
                device=params.get("device_name") or "?", transport=params.get("transport") or "",
                operation=self.OPERATION.__name__.rsplit(".", 1)[-1])
        except Exception as exc:
            self._display.warning(f"escalator.swim: image-status events disabled for this task: {exc}")
            return None
