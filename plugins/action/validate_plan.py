# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.validate_plan (documentation: plugins/modules/validate_plan.py).

Also the base of the resolve_plan action: both read a plan (inline or from a controller file via
Ansible's loader, so vault works) and, when an inventory is involved, collect from ``hostvars``
only the variables the plan names. No device, no connection: it runs where Ansible runs.
Argument validation is ControllerAction's; only the task itself differs.
"""

from __future__ import annotations

import yaml
from ansible.errors import AnsibleError, AnsibleFileNotFound
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


class PlanFileError(Exception):
    """The plan file is missing or not YAML: one sentence for the operator."""


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
        """The plan in *path*, looked up like a files/ file (role, playbook directory), vault decrypted.

        Raises PlanFileError with one plain sentence: Ansible's own messages talk about ``remote_src``
        (a missing file) or hide where a YAML syntax error is.
        """
        try:
            found = self._find_needle("files", path)
        except AnsibleFileNotFound:
            raise PlanFileError(f"the campaign plan file {path} does not exist (or cannot be read); "
                                "swim_plan must name a YAML file on the controller") from None
        try:
            return _decrypted(self._loader.load_from_file(found))
        except AnsibleError as exc:
            raise PlanFileError(self._syntax_error(found) or f"cannot read the campaign plan {path}: "
                                                             f"{exc.message}") from None

    def _syntax_error(self, found: str) -> str | None:
        """``file:line:column: problem`` of a YAML syntax error (PyYAML's marks count from 0)."""
        try:
            content = self._loader._get_file_contents(found)[0]      # vault-decrypted bytes
            yaml.safe_load(content)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f"{found}:{mark.line + 1}:{mark.column + 1}" if mark else found
            return f"{where}: YAML syntax error: {error.problem or error.context}" + \
                (f" ({error.context})" if error.context and error.problem else "")
        except Exception:         # not a syntax error PyYAML sees: keep Ansible's message
            return None
        return None

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
        return validate_task(document, params["inventory_groups"], hostvars, source=source,
                             verify_images=params["verify_images"])

    def perform(self, params: dict, task_vars: dict, no_log_values, result: dict) -> None:
        source = f"campaign plan {params['path']}" if params["path"] else "campaign plan"
        if not params["path"] and params["plan"] is None:
            # `path: "{{ swim_plan | default('') }}"`: the collection's playbooks without -e swim_plan.
            problem = "no campaign plan given: set swim_plan to the plan file (-e swim_plan=plan.yml)"
            result.update(failed=True, changed=False, valid=False, problems=[problem], msg=problem)
            return
        try:
            document = self._read(params["path"]) if params["path"] else _decrypted(params["plan"])
        except (PlanFileError, AnsibleError) as exc:
            problem = str(exc) if isinstance(exc, PlanFileError) else f"cannot read the plan: {exc.message}"
            result.update(failed=True, changed=False, valid=False, problems=[problem], msg=problem)
            return
        result.update(self.task(params, document, source, task_vars))


class ActionModule(PlanAction):
    pass
