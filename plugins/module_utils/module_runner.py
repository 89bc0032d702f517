# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Run an operation as a classic module (AnsibleModule in a module interpreter).

PRIVATE to the collection. The collection's action plugins run the operations in the controller
process instead (see plugins/plugin_utils/controller_action.py); this path is what runs when a module
is executed directly, e.g. by ansible-test or a tool that bypasses action plugins.

The device modules have no such path: how to reach the device is the task's connection
(escalator.swim.dmi / escalator.swim.netconf), which only an action plugin sees. They fail with a
message saying so (a deliberate choice, see CHANGELOG and docs/user-guide.md); the controller-only
modules (validate_plan, resolve_plan, campaign_status, device_lock) run here as before.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from .campaign_record import RECORD_ARGSPEC
from .connection import TASK_CONNECTION_ARGSPEC
from .redaction import url_secrets
from .ops.common import OperationContext, execute

NEEDS_CONNECTION = ("{name}: this module needs the connection escalator.swim.dmi or escalator.swim.netconf "
                    "and runs through its action plugin (ansible-playbook, ansible); it has no module-interpreter "
                    "path (set ansible_connection on the device's inventory host, see docs/inventory.md)")


def argument_spec(operation, device: bool = True) -> dict:
    return {**TASK_CONNECTION_ARGSPEC, **RECORD_ARGSPEC, **operation.ARGUMENT_SPEC} if device else dict(operation.ARGUMENT_SPEC)


def run_module(operation, device: bool = True) -> None:
    """*device*: the operation talks to a device (and so needs the action plugin and its connection)."""
    module = AnsibleModule(argument_spec=argument_spec(operation, device), supports_check_mode=True,
                           **operation.VALIDATION_RULES)
    module.no_log_values.update(url_secrets(module.params))
    if device:
        module.fail_json(msg=NEEDS_CONNECTION.format(name="escalator.swim." + operation.__name__.rsplit(".", 1)[-1]),
                         reason="NEEDS_CONNECTION_PLUGIN")
    context = OperationContext(module.params, check_mode=module.check_mode, diff=module._diff)
    result = execute(operation, context, module.no_log_values)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
