# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""campaign_report: write the HTML, CSV and JUnit XML report of a campaign directory (module_utils/campaign_report)."""

from __future__ import annotations

import os

from ..campaign_report.load import load_campaign
from ..campaign_report.write import FORMATS, write_reports
from .common import ArgumentError

ARGUMENT_SPEC = {
    "campaign_dir": {"type": "path", "required": True},
    "campaign_id": {"type": "str"},
    "resolution": {"type": "dict"},
    "outcome": {"type": "str"},
    "stopped_after_batch": {"type": "int"},
    "redundancy_groups": {"type": "list", "elements": "dict"},
    "formats": {"type": "list", "elements": "str", "choices": list(FORMATS), "default": list(FORMATS)},
    "dest": {"type": "path"},
    # Read by the action plugin (redundancy groups on the play's inventory); the module alone ignores it.
    "plan": {"type": "path"},
}
VALIDATION_RULES: dict = {}
# Read from the play's variables, not passed as task arguments: swim_resolution holds the image URLs with their
# credentials, which must not appear in a task's arguments (-vvv, callbacks).
TASK_VARS = {"campaign_dir": ["swim_campaign_dir"], "campaign_id": ["swim_campaign_id"], "resolution": ["swim_resolution"],
             "outcome": ["swim_outcome"], "stopped_after_batch": ["swim_stopped_after_batch"], "plan": ["swim_plan"]}


def campaign_meta(params: dict, earlier: dict | None = None) -> dict:
    """What campaign.json keeps: the plan as resolved, without image URLs (they may hold credentials).

    A task without a resolution (the rollback playbook run alone) keeps what an earlier run recorded.
    """
    resolution = params.get("resolution")
    if not resolution and earlier:
        kept = dict(earlier)
        kept.update({key: params[key] for key in ("outcome", "redundancy_groups") if params.get(key)})
        return kept
    resolution = resolution or {}
    batches = [{"index": batch.get("index"), "step": batch.get("step", ""), "group": batch.get("group", ""),
                "canary": bool(batch.get("canary")), "pause_before": bool(batch.get("pause_before")),
                "hosts": list(batch.get("hosts") or []),
                "image": {key: (batch.get("image") or {}).get(key) for key in ("name", "version")}}
               for batch in resolution.get("batches") or [] if isinstance(batch, dict)]
    recovery = resolution.get("recovery") or {}
    campaign = dict(resolution.get("campaign") or {})
    if params.get("campaign_id"):
        campaign.setdefault("id", params["campaign_id"])
    return {"campaign": campaign, "outcome": params.get("outcome") or "", "batches": batches,
            "stopped_after_batch": params.get("stopped_after_batch"),
            "image": batches[0]["image"] if batches else {},
            "recovery": {"policy": recovery.get("policy", ""), "failure_threshold": recovery.get("failure_threshold", "")},
            "skipped_hosts": [{key: item.get(key) for key in ("host", "cause", "reason")}
                              for item in resolution.get("skipped_hosts") or [] if isinstance(item, dict)],
            "redundancy_groups": list(params.get("redundancy_groups") or [])}


def run(ctx) -> dict:
    params = ctx.params
    if ctx.check_mode:
        return {"changed": False, "msg": "check mode: no report written", "files": {}}
    try:
        earlier = load_campaign(params["campaign_dir"]).meta if os.path.isdir(params["campaign_dir"]) else {}
        written = write_reports(params["campaign_dir"], meta=campaign_meta(params, earlier), formats=params["formats"],
                                dest=params.get("dest"))
    except (ValueError, OSError) as exc:
        raise ArgumentError(f"no report for {params['campaign_dir']}: {exc}")
    report = written["report"]
    # The report is the campaign's bookkeeping, not a managed system (like campaign_status): never a change,
    # so a campaign run again stays idempotent (molecule's idempotence step).
    return {"changed": False, "files": written["files"], "counts": report["counts"], "outcome": report["outcome"],
            "msg": f"campaign report: {written['files'].get('html') or ', '.join(written['files'].values())}"}
