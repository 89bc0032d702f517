# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Base of the collection's action plugins: run a device operation in the controller process.

PRIVATE to the collection. A module interpreter per task costs ~15x an action plugin on the
controller (docs/architecture.md), so every module's device I/O happens here, in the worker
process Ansible forked for the task (gRPC channels are created after that fork, never before).
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.escalator.swim.plugins.module_utils.connection import CONNECTION_ARGSPEC, CONNECTION_VARS
from ansible_collections.escalator.swim.plugins.module_utils.events import status_publisher
from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext, execute


class DeviceAction(ActionBase):
    """Subclasses set OPERATION to one of ``module_utils.ops.*``."""

    OPERATION = None
    TRANSFERS_FILES = False
    _requires_connection = False

    def _connection_args(self, task_vars: dict) -> dict:
        """Task args, completed from inventory variables for every connection option not given."""
        args = dict(self._task.args)
        for option, var_names in CONNECTION_VARS.items():
            if args.get(option) is not None:
                continue
            for var in var_names:
                value = task_vars.get(var)
                if value is not None and value != "":
                    args[option] = self._templar.template(value)
                    break
        return args

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        operation = self.OPERATION
        validator = ArgumentSpecValidator({**CONNECTION_ARGSPEC, **operation.ARGUMENT_SPEC},
                                          **operation.VALIDATION_RULES)
        validated = validator.validate(self._connection_args(task_vars))
        device = task_vars.get("inventory_hostname", "?")
        if validated.error_messages:
            messages = "; ".join(f"unsupported parameter {error}" if isinstance(error, UnsupportedError) else str(error)
                                 for error in validated.errors)
            result.update(failed=True, changed=False, msg=f"{device}: invalid arguments: {messages}")
            return result
        publisher = self._status_publisher(task_vars, validated.validated_parameters)
        context = OperationContext(validated.validated_parameters, check_mode=bool(self._task.check_mode),
                                   diff=bool(self._task.diff), on_status=publisher)
        try:
            result.update(execute(operation, context, validated._no_log_values))
        finally:
            if publisher is not None:
                # Bounded: a dead bus costs this task at most swim_kafka_flush_timeout seconds.
                warnings = publisher.close(float(self._var(task_vars, "swim_kafka_flush_timeout") or 5.0))
                if warnings:
                    result.setdefault("warnings", []).extend(warnings)
        return result

    def _var(self, task_vars: dict, name: str):
        value = task_vars.get(name)
        return self._templar.template(value) if value is not None and value != "" else None

    def _status_publisher(self, task_vars: dict, params: dict):
        """Image-status events to Kafka when swim_kafka_bootstrap_servers is set (module_utils/events.py).

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
