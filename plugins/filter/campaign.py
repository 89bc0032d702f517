# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Filters over campaign plans: campaign_problems, campaign_resolve, campaign_batches, campaign_listing.

Documentation: the sidecar files campaign_<name>.yml beside this file.
The same logic as the validate_plan/resolve_plan modules (module_utils/campaign/), for templates
and ``set_fact``. Filters receive exactly what they are given: pass ``hostvars`` when the plan uses
host variables (only the variables the plan names are read).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.escalator.swim.plugins.module_utils.campaign.listing import batch_listing
from ansible_collections.escalator.swim.plugins.module_utils.campaign.resolve import PlanError, resolve
from ansible_collections.escalator.swim.plugins.module_utils.campaign.validate import validate
from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import orphaned_stages


def campaign_problems(plan, inventory_groups=None, hostvars=None) -> list[str]:
    """Every problem of *plan* (on the inventory, when given); an empty list when it is valid."""
    return validate(plan, inventory_groups, hostvars)


def campaign_resolve(plan, groups, hostvars=None, current_versions=None, unavailable=None, finished=None) -> dict:
    """What escalator.swim.resolve_plan returns on success (batches, host_batch, serial...)."""
    try:
        return resolve(plan, groups, hostvars, current_versions, unavailable, finished)
    except PlanError as error:
        raise AnsibleFilterError(f"campaign plan has {len(error.problems)} problem(s): {error}") from None


def campaign_batches(plan, groups, hostvars=None, current_versions=None, unavailable=None,
                     finished=None) -> list[dict]:
    return campaign_resolve(plan, groups, hostvars, current_versions, unavailable, finished)["batches"]


def campaign_listing(resolution, detail=False) -> list[str]:
    """The readable batch listing of a resolve_plan result (module_utils/campaign/listing.py)."""
    return batch_listing(resolution, detail=bool(detail))


# Not "skipped": a device left out (on the target, or held back by its redundancy group) is checked again.
FINAL_OUTCOMES = ("upgraded", "rolled_back", "failed")


def campaign_finished(rows, retry_failed=False) -> list[str]:
    """Devices an earlier run of a campaign finished, from the rows of escalator.swim.campaign_status.

    A row is final when its outcome is upgraded, rolled_back or failed (unless *retry_failed*) - except a
    failed precheck, which changed nothing on the device and is always tried again. Skipped devices are
    not final either (held back by a redundancy group, a re-run may upgrade them).
    Rows with a stage still running (a stopped controller) are ``in_progress``, never final; nor is a row
    with a stage written by an orphaned worker (its controller had died: nothing proves the run went on).
    """
    if not isinstance(rows, list):
        raise AnsibleFilterError("campaign_finished: expects the rows of escalator.swim.campaign_status")
    final = [outcome for outcome in FINAL_OUTCOMES if not (retry_failed and outcome == "failed")]
    done = []
    for row in rows:
        if not isinstance(row, dict) or row.get("outcome") not in final:
            continue
        precheck = (row.get("stages") or {}).get("precheck") or {}
        if precheck.get("state") == "failed" or orphaned_stages(row):
            continue
        done.append(row.get("device"))
    return [device for device in done if isinstance(device, str)]


def campaign_rollback_order(rows) -> list[list[str]]:
    """The devices a campaign upgraded, as batches in reverse batch order (what to revert, and how).

    A device counts when its activation succeeded (or was left running by a stopped controller: the
    rollback role leaves a device already on its old image alone) and it was not rolled back yet.
    """
    if not isinstance(rows, list):
        raise AnsibleFilterError("campaign_rollback_order: expects the rows of escalator.swim.campaign_status")
    batches: dict[int, list[str]] = {}
    for row in rows:
        stages = row.get("stages") or {}
        if (stages.get("activate") or {}).get("state") not in ("ok", "running"):
            continue
        if (stages.get("rollback") or {}).get("state") == "ok":
            continue
        batch = row.get("batch")
        batches.setdefault(batch if isinstance(batch, int) else -1, []).append(row["device"])
    return [sorted(batches[index]) for index in sorted(batches, reverse=True)]


# Reasons saying the device stopped answering (it may still be down, rebooting or hung).
NOT_ANSWERING = ("TIMEOUT", "DEVICE_UNREACHABLE", "CONNECTION_REFUSED", "CONNECTION_LOST", "UNAVAILABLE", "STALLED",
                 "INTERRUPTED")


def campaign_down(rows) -> dict:
    """{device: why it counts as down} from the rows of escalator.swim.campaign_status (device facts).

    A device is down from its reboot request until it is seen back on a committed image: a stage still
    running after the activation started, a failed revert, a stage that failed because the device did not
    answer (timeout, unreachable) and no successful revert since, a running image that is not committed.
    """
    if not isinstance(rows, list):
        raise AnsibleFilterError("campaign_down: expects the rows of escalator.swim.campaign_status")
    down = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("device"), str):
            continue
        stages = row.get("stages") or {}
        details = row.get("details") or {}
        rollback = (stages.get("rollback") or {}).get("state")
        moved = {"activate", "verify", "postcheck", "rollback"} & stages.keys()
        silent = [f"{name} {entry.get('error_code')}" for name, entry in stages.items()
                  if entry.get("state") == "failed" and entry.get("error_code") in NOT_ANSWERING]
        if rollback == "failed":
            down[row["device"]] = f"its revert failed ({(stages['rollback'].get('error_code') or 'failed')})"
        elif moved and any((stages.get(name) or {}).get("state") == "running" for name in moved):
            down[row["device"]] = "rebooting (a stage after its reboot request is still running)"
        elif silent and rollback != "ok" and moved:
            down[row["device"]] = "not answering: " + ", ".join(silent)
        elif details.get("running_version") == "unknown":
            down[row["device"]] = "not answering (running image unknown)"
        elif moved and details.get("committed") is False:
            down[row["device"]] = "running an uncommitted image"
    return down


def campaign_hold(rows, host, redundancy) -> str:
    """Why *host* is held back (a partner of one of its redundancy groups is down), or ''."""
    if not isinstance(redundancy, dict):
        raise AnsibleFilterError("campaign_hold: expects the redundancy mapping of escalator.swim.resolve_plan")
    down = campaign_down(rows)
    for group in redundancy.get(host) or []:
        partners = [member for member in group.get("members", []) if member != host and member in down]
        if len(partners) >= int(group.get("max_down", 1)):
            return (f"redundancy group {group.get('group')}: "
                    + "; ".join(f"{member} is down, {down[member]}" for member in partners)
                    + f" (allows {group.get('max_down', 1)} down)")
    return ""


class FilterModule:
    def filters(self):
        return {"campaign_problems": campaign_problems, "campaign_resolve": campaign_resolve,
                "campaign_listing": campaign_listing,
                "campaign_batches": campaign_batches, "campaign_finished": campaign_finished,
                "campaign_rollback_order": campaign_rollback_order, "campaign_down": campaign_down,
                "campaign_hold": campaign_hold}
