# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.resolve_plan (documentation: plugins/modules/resolve_plan.py)."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.action.validate_plan import PlanAction
from ansible_collections.escalator.swim.plugins.module_utils.campaign.tasks import RESOLVE_SPEC, resolve_task


class ActionModule(PlanAction):
    SPEC = RESOLVE_SPEC

    def task(self, params: dict, document, source: str, task_vars: dict) -> dict:
        # Without `groups`, the inventory this play runs on; without `hostvars`, the variables the plan reads.
        groups = params["groups"] if params["groups"] is not None else dict(task_vars.get("groups") or {})
        hostvars = params["hostvars"]
        if hostvars is None:
            hostvars = self._host_vars(task_vars, groups, document)
        return resolve_task(document, groups, hostvars, params["current_versions"], params["unavailable"],
                            source=source, finished=params["finished"])
