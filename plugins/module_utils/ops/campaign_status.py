# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""campaign_status: record a device's stage in the campaign status table, or read the table."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ..campaign_ledger import current_rows, read_ledger, to_republish
from ..campaign_runs import RunFenceError, begin_run, end_run
from ..campaign_record import STAGES, STATES, RecordError, read_row, record, render, table
from ..campaign.outcome import campaign_failed, campaign_outcome
from .common import ArgumentError

ARGUMENT_SPEC = {
    "campaign_dir": {"type": "path", "required": True},
    "campaign_id": {"type": "str", "required": True},
    "device": {"type": "str"},
    "stage": {"type": "str", "choices": list(STAGES)},
    "state": {"type": "str", "choices": list(STATES) + ["query", "row", "begin_run", "end_run"], "default": "query"},
    "run_id": {"type": "str"},
    "run_wait": {"type": "float", "default": 120.0},
    "error": {"type": "str", "default": ""},
    "error_code": {"type": "str", "default": ""},
    "batch": {"type": "int"},
    "details": {"type": "dict"},
    "run_facts": {"type": "dict"},
    "failure": {"type": "dict"},
    "fail": {"type": "bool", "default": False},
}
VALIDATION_RULES = {"required_if": [("state", "running", ("device", "stage")), ("state", "ok", ("device", "stage")),
                                    ("state", "failed", ("device", "stage")), ("state", "skipped", ("device", "stage")),
                                    ("state", "row", ("device",)), ("state", "begin_run", ("run_id",)),
                                    ("state", "end_run", ("run_id",))]}
TASK_VARS = {"campaign_dir": ["swim_campaign_dir"], "campaign_id": ["swim_campaign_id"],
             "device": ["inventory_hostname"], "batch": ["swim_batch"]}


def run(ctx) -> dict:
    params = ctx.params
    if params["state"] == "row":      # one device's row ({} when the campaign never touched it)
        try:
            return {"changed": False, "row": read_row(params["campaign_dir"], params["device"]) or {}}
        except (RecordError, OSError, ValueError) as exc:
            raise ArgumentError(str(exc))
    if params["state"] in ("begin_run", "end_run"):
        return _run_fence(ctx)
    if params["state"] == "query":
        rows = table(params["campaign_dir"])
        outcomes = {row["device"]: row.get("outcome") for row in rows}
        facts = _run_facts(params.get("run_facts") or {})
        outcome = campaign_outcome(outcomes.values(), **facts)
        return {"changed": False, "rows": rows, "table": render(rows), "outcomes": outcomes, "outcome": outcome,
                "campaign_failed": campaign_failed(outcome, check_mode=facts["check_mode"],
                                                   gate_stop=facts["gate_stop"])}
    if params.get("failure") is not None or params["fail"]:
        return _record_failure(ctx)
    if ctx.check_mode:
        return {"changed": False, "msg": "check mode: status not recorded"}
    try:
        row = record(params["campaign_dir"], params["campaign_id"], params["device"], params["stage"],
                     params["state"], error=params["error"], error_code=params["error_code"],
                     batch=params.get("batch"), details=params.get("details"))
    except (RecordError, OSError) as exc:
        raise ArgumentError(str(exc))
    # Recording the campaign's own bookkeeping is not a change to any managed device.
    return {"changed": False, "row": row}


def _record_failure(ctx) -> dict:
    """The one recorded-failure pattern of the roles' rescues: record the failed stage from the rescued result
    (``failure``: ansible_failed_result), unless the failed device task recorded it itself, then (``fail``)
    fail this task with the same message, reason and stage, so an enclosing rescue reads them."""
    params = ctx.params
    stage = params.get("stage")
    if params["state"] != "failed" or not stage:
        raise ArgumentError("failure and fail go with state=failed and a stage")
    failure = params.get("failure") or {}
    error = params["error"] or str(failure.get("msg") or f"{params['device']}: {stage} failed")
    code = params["error_code"] or str(failure.get("reason") or f"{stage.upper()}_FAILED")
    recorded = failure.get("recorded")
    result: dict = {"changed": False, "stage": stage, "reason": code}
    if recorded:
        result["recorded"] = recorded       # the device task's own record stands (its reason, not a generic one)
    elif ctx.check_mode:
        result["recorded"] = []
    else:
        try:
            result["row"] = record(params["campaign_dir"], params["campaign_id"], params["device"], stage, "failed",
                                   error=error, error_code=code, batch=params.get("batch"),
                                   details=params.get("details"))
        except (RecordError, OSError) as exc:
            error = f"{error}; the status table could not be written: {exc}"
        else:
            result["recorded"] = [{"stage": stage, "state": "failed"}]
    if params["fail"]:
        result.update(failed=True, msg=error)
    return result


def _run_facts(facts: dict) -> dict:
    """run_facts as campaign_outcome's keywords; a value of the wrong type is an argument error, not a guess."""
    known = {"check_mode", "would_upgrade", "would_skip", "gate_stop", "stopped_after_batch", "stop_reason",
             "rolled_back"}
    unknown = sorted(set(facts) - known)
    if unknown:
        raise ArgumentError(f"run_facts: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    try:
        return {"check_mode": boolean(facts.get("check_mode"), strict=False),
                "would_upgrade": int(facts.get("would_upgrade") or 0),
                "would_skip": int(facts.get("would_skip") or 0), "gate_stop": str(facts.get("gate_stop") or "") or None,
                "stopped_after_batch": facts.get("stopped_after_batch"),
                "stop_reason": str(facts.get("stop_reason") or ""),
                "rolled_back": boolean(facts.get("rolled_back"), strict=False)}
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"run_facts: {exc}") from None


def _run_fence(ctx) -> dict:
    """begin_run: wait (bounded) for orphaned workers of earlier runs, then start this run; end_run: mark it ended.

    Both return the table's rows as the kafka_events callback publishes them (``table_rows``), and begin_run the
    rows whose last publication the broker confirmed is not the row (``republish``, docs/kafka.md): the callback
    publishes those as ``campaign_row`` events."""
    params = ctx.params
    if ctx.check_mode:
        return {"changed": False, "msg": "check mode: run not recorded"}
    campaign = {"campaign_dir": params["campaign_dir"], "campaign_id": params["campaign_id"]}
    try:
        if params["state"] == "end_run":
            ended = end_run(params["campaign_dir"], params["run_id"])
            return {"changed": False, "run": ended, **campaign,
                    "table_rows": current_rows(table(params["campaign_dir"]))}
        started = begin_run(params["campaign_dir"], params["run_id"], lambda: table(params["campaign_dir"]),
                            params["run_wait"])
        rows = current_rows(table(params["campaign_dir"]))    # after the orphans waited for wrote theirs
        republish = to_republish(rows, read_ledger(params["campaign_dir"]))
    except RunFenceError as exc:
        raise ArgumentError(f"campaign {params['campaign_id']}: {exc}")
    except (RecordError, OSError, ValueError) as exc:
        raise ArgumentError(str(exc))
    waited = started["waited_for"]
    msg = (f"waited for the workers of an earlier run ({', '.join(waited)}) to finish" if waited
           else "no worker of an earlier run is running")
    return {"changed": False, "run": started["run"], "previous_run": started["previous"], "waited_for": waited,
            **campaign, "table_rows": rows, "republish": republish,
            "msg": f"run {params['run_id']} of campaign {params['campaign_id']}: {msg}"
                   + (f"; {len(republish)} row(s) to republish to Kafka" if republish else "")}
