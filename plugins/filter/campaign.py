# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Filters over campaign plans: campaign_problems, campaign_resolve, campaign_batches.

Documentation: the sidecar files campaign_problems.yml, campaign_resolve.yml, campaign_batches.yml.
The same logic as the validate_plan/resolve_plan modules (module_utils/campaign/), for templates
and ``set_fact``. Filters receive exactly what they are given: pass ``hostvars`` when the plan uses
host variables (only the variables the plan names are read).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.escalator.swim.plugins.module_utils.campaign.resolve import PlanError, resolve
from ansible_collections.escalator.swim.plugins.module_utils.campaign.validate import validate


def campaign_problems(plan, inventory_groups=None, hostvars=None) -> list[str]:
    """Every problem of *plan* (on the inventory, when given); an empty list when it is valid."""
    return validate(plan, inventory_groups, hostvars)


def campaign_resolve(plan, groups, hostvars=None, current_versions=None, unavailable=None) -> dict:
    """What escalator.swim.resolve_plan returns on success (batches, host_batch, serial...)."""
    try:
        return resolve(plan, groups, hostvars, current_versions, unavailable)
    except PlanError as error:
        raise AnsibleFilterError(f"campaign plan has {len(error.problems)} problem(s): {error}") from None


def campaign_batches(plan, groups, hostvars=None, current_versions=None, unavailable=None) -> list[dict]:
    return campaign_resolve(plan, groups, hostvars, current_versions, unavailable)["batches"]


class FilterModule:
    def filters(self):
        return {"campaign_problems": campaign_problems, "campaign_resolve": campaign_resolve,
                "campaign_batches": campaign_batches}
