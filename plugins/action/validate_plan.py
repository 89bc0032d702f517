# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.validate_plan (documentation: plugins/modules/validate_plan.py).

Also the base of the resolve_plan action: both read a plan (inline or from a controller file via
Ansible's loader, so vault works) and, when an inventory is involved, collect from ``hostvars``
only the variables the plan names. No device, no connection: it runs where Ansible runs.
Argument validation is ControllerAction's; only the task itself differs.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.parsing.vault import EncryptedString

from ansible_collections.escalator.swim.plugins.module_utils.campaign.tasks import (
    PLAN_RULES, VALIDATE_SPEC, plan_host_vars, validate_task,
)
from ansible_collections.escalator.swim.plugins.plugin_utils.controller_action import ControllerAction


def _decrypted(value):
    """*value* with every inline-vaulted string (``!vault``, e.g. a URL with credentials) decrypted."""
    if isinstance(value, EncryptedString):
        return str(value)           # decrypts; raises AnsibleError without the right vault secret
    if isinstance(value, dict):
        return {key: _decrypted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decrypted(item) for item in value]
    return value


class PlanAction(ControllerAction):
    """Subclasses set SPEC and implement ``task(params, document, source, task_vars)``.

    The result is not passed through the device modules' redaction: resolved images keep their real
    ``url`` (the device needs it); ``msg`` and ``problems`` never hold credentials (module_utils/campaign).
    """

    SPEC: dict = VALIDATE_SPEC

    def argument_spec(self) -> dict:
        return dict(self.SPEC)

    def task_vars_map(self) -> dict:
        return {}

    def validation_rules(self) -> dict:
        return dict(PLAN_RULES)

    def invalid(self, task_vars: dict, messages: str) -> str:
        return f"invalid arguments: {messages}"

    def _read(self, path: str):
        """The plan in *path*, looked up like a files/ file (role, playbook directory), vault decrypted."""
        found = self._find_needle("files", path)
        return _decrypted(self._loader.load_from_file(found))

    @staticmethod
    def _host_vars(task_vars: dict, groups, document) -> dict:
        """``{host: {var: value}}`` for the variables the plan reads, every host of *groups*."""
        names = plan_host_vars(document)
        inventory = task_vars.get("hostvars") or {}
        hosts = {host for members in (groups or {}).values() if isinstance(members, list) for host in members}
        result = {}
        for host in sorted(hosts):
            if host not in inventory:
                continue
            variables = inventory[host]
            result[host] = {name: variables[name] for name in names if name in variables}
        return result

    def task(self, params: dict, document, source: str, task_vars: dict) -> dict:
        hostvars = params["hostvars"]
        if hostvars is None and params["inventory_groups"] is not None:
            hostvars = self._host_vars(task_vars, params["inventory_groups"], document)
        return validate_task(document, params["inventory_groups"], hostvars, source=source)

    def perform(self, params: dict, task_vars: dict, no_log_values, result: dict) -> None:
        source = f"campaign plan {params['path']}" if params["path"] else "campaign plan"
        try:
            document = self._read(params["path"]) if params["path"] else _decrypted(params["plan"])
        except AnsibleError as exc:
            problem = f"path: cannot read the plan: {exc.message}"
            result.update(failed=True, changed=False, valid=False, problems=[problem], msg=f"{source}: {problem}")
            return
        result.update(self.task(params, document, source, task_vars))


class ActionModule(PlanAction):
    pass
