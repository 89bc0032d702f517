# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.campaign_report (documentation: plugins/modules/campaign_report.py).

With ``plan`` it also reads the plan's redundancy groups on this play's inventory (the same sets
resolve_plan batched with), so the report can show which devices were protected together.
"""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.escalator.swim.plugins.action.validate_plan import PlanAction
from ansible_collections.escalator.swim.plugins.module_utils.campaign.inventory import Inventory
from ansible_collections.escalator.swim.plugins.module_utils.campaign.validate import check
from ansible_collections.escalator.swim.plugins.module_utils.ops import campaign_report as operation
from ansible_collections.escalator.swim.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    OPERATION = operation

    def _redundancy_groups(self, path: str, task_vars: dict) -> list:
        document = PlanAction._read(self, path)
        plan, _problems = check(document)
        if plan is None:
            return []
        groups = {name: list(hosts) for name, hosts in (task_vars.get("groups") or {}).items()}
        inventory, _problems = Inventory.build(groups, PlanAction._host_vars(task_vars, groups, document))
        if inventory is None:
            return []
        return [{"label": rset.label, "members": sorted(rset.members), "max_down": rset.max_down}
                for rset in inventory.redundancy_sets(plan)]

    def perform(self, params: dict, task_vars: dict, no_log_values, result: dict) -> None:
        params = dict(params)
        plan = params.pop("plan", None)
        if plan and params.get("redundancy_groups") is None:
            try:
                params["redundancy_groups"] = self._redundancy_groups(plan, task_vars)
            except AnsibleError as exc:     # the report is still written, without its redundancy section
                result.setdefault("warnings", []).append(f"campaign report: cannot read the plan {plan}: {exc.message}")
        super().perform(params, task_vars, no_log_values, result)
