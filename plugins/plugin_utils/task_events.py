# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What the kafka_events callback tells the bus about Ansible objects: small, privacy-first summaries.

PRIVATE to the collection: the names here may change without a semver bump.

Only a summary of each result leaves the controller (status, changed, failed, msg, reason),
never the whole result: results routinely carry facts, file contents and device data. A
``no_log`` result is reduced to its status plus Ansible's censorship notice.
"""

from __future__ import annotations

import typing as t

from ansible_collections.escalator.swim.plugins.module_utils.campaign_ledger import clip as _clip
from ansible_collections.escalator.swim.plugins.module_utils.campaign_ledger import reduced_row

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
MSG_LIMIT = 2000
# Result keys worth a consumer's attention, beyond msg: ours (reason, final_state) and common ones.
EXTRA_KEYS = ("reason", "final_state", "rc", "skip_reason", "false_condition")


def module_name(task) -> str | None:
    """The task's resolved action (``ansible.builtin.debug``), without provoking ansible's warning.

    ``Task.resolved_action`` warns when sampled for a templated action; the resolved name is
    only known once a worker ran the task, so fall back to the action as written.
    """
    resolved = getattr(task, "_resolved_action", None)
    if resolved:
        return str(resolved)
    action = getattr(task, "action", None)
    if not action:
        return None
    action = str(action)
    if "{" not in action:
        try:
            return str(task._resolve_action(action) or action)
        except Exception:
            pass
    return action


def is_no_log(task, result: t.Mapping | None = None) -> bool:
    if result and (result.get("_ansible_no_log") or "censored" in result):
        return True
    no_log = getattr(task, "no_log", False)
    return no_log is True


def clip(value: t.Any, limit: int = MSG_LIMIT) -> t.Any:
    """Strings longer than *limit* are cut (a msg can be a whole device config); other scalars pass."""
    return _clip(value, limit)


def result_summary(status: str, result: t.Mapping, *, no_log: bool, ignored: bool = False) -> dict:
    """``{status, changed, failed, msg?, reason?, ...}`` of one host's result."""
    summary: dict[str, t.Any] = {
        "status": status,
        "changed": bool(result.get("changed", False)),
        "failed": status in ("failed", "unreachable"),
    }
    if ignored:
        summary["ignored"] = True
    if no_log:
        summary["censored"] = CENSORED
        return summary
    if "msg" in result and result["msg"] not in (None, ""):
        summary["msg"] = clip(result["msg"])
    for key in EXTRA_KEYS:
        if result.get(key) not in (None, ""):
            summary[key] = clip(result[key], 500)
    rows = campaign_rows(result)
    if rows:
        summary["campaign"] = rows
    return summary


def campaign_rows(result: t.Mapping, limit: int = 1000) -> list[dict]:
    """Status-table rows written by ``campaign_status`` (``row``; in a loop, each item's ``row``) or by a
    device task's ``record`` option (``status_row``),
    reduced to ``{device, batch, stage, state, error_code, outcome}`` (module_utils/campaign_ledger.reduced_row):
    the monitor shows the campaign's own outcome of every device. No error text, no details."""
    items = [result] + [item for item in (result.get("results") or [])[:limit] if isinstance(item, t.Mapping)]
    rows = []
    for item in items:
        reduced = reduced_row(item.get("row") or item.get("status_row"))
        if reduced is not None:
            rows.append(reduced)
    return rows


def ok_status(result: t.Mapping) -> str:
    return "changed" if result.get("changed") else "ok"


def task_args(task, *, hide: bool) -> dict | None:
    """The task's arguments as written (not templated), unless hidden or no_log."""
    if hide or is_no_log(task):
        return None
    args = getattr(task, "args", None) or {}
    return {str(key): _plain(value) for key, value in args.items() if not str(key).startswith("_ansible")}


def _plain(value: t.Any, depth: int = 0) -> t.Any:
    """JSON-friendly copy of an argument value, bounded in depth and size."""
    if depth > 5:
        return "..."
    if isinstance(value, t.Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value[:100]]
    return clip(value, 500)


STATS_KEYS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")


def stats_summary(stats) -> dict:
    """``{host: {ok, changed, failures, unreachable, skipped, rescued, ignored}}`` from AggregateStats."""
    hosts = sorted(getattr(stats, "processed", {}) or {})
    summary = {}
    for host in hosts:
        counts = stats.summarize(host)
        summary[str(host)] = {key: int(counts.get(key, 0)) for key in STATS_KEYS}
    return summary
