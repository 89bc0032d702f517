# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Run an operation as a classic module (AnsibleModule in a module interpreter).

PRIVATE to the collection. The collection's action plugins run the same operations in the
controller process instead (see plugins/plugin_utils/device_action.py); this path is what runs
when a module is executed directly, e.g. by ansible-test or a tool that bypasses action plugins.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from .campaign_record import RECORD_ARGSPEC
from .connection import CONNECTION_ARGSPEC
from .redaction import url_secrets
from .ops.common import OperationContext, execute


def argument_spec(operation, device: bool = True) -> dict:
    return {**CONNECTION_ARGSPEC, **RECORD_ARGSPEC, **operation.ARGUMENT_SPEC} if device else dict(operation.ARGUMENT_SPEC)


def run_module(operation, device: bool = True) -> None:
    """*device*: the operation talks to a device and takes the connection options."""
    module = AnsibleModule(argument_spec=argument_spec(operation, device), supports_check_mode=True,
                           **operation.VALIDATION_RULES)
    module.no_log_values.update(url_secrets(module.params))
    context = OperationContext(module.params, check_mode=module.check_mode, diff=module._diff)
    result = execute(operation, context, module.no_log_values)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
