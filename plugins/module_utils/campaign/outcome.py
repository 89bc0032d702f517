# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The campaign's outcome in words: the one definition the playbooks (through campaign_status), the report
and the monitor use.

PRIVATE to the collection. Per-device outcomes come from ``campaign_record.outcome_of``; this turns the
outcomes of every device, and what the run itself knows (check mode, an approval gate it stopped at, a stop
after a batch, a campaign-wide rollback), into the sentence the status table, the report and the final
``fail`` show.
"""

from __future__ import annotations

import typing as t

# Outcomes of a device the campaign is done with and that are not a failure.
_CLEAN = frozenset(("upgraded", "skipped"))


def campaign_outcome(outcomes: t.Iterable[str], *, check_mode: bool = False, would_upgrade: int = 0,
                     would_skip: int = 0, gate_stop: str | None = None, stopped_after_batch: t.Any = None,
                     stop_reason: str = "", rolled_back: bool = False) -> str:
    """``complete``, ``partially failed``, ``rolled back``, ``stopped after batch N (...)``, the gate's stop
    message, or the check-mode sentence.

    *outcomes* are the devices' outcomes (``campaign_record.outcome_of``); *gate_stop* is the message of the
    coordination pause the run stopped at (it names how to go on); *stopped_after_batch*/*stop_reason* say the
    recovery policy stopped the campaign; *rolled_back* that the campaign was then rolled back as a whole.
    """
    if check_mode:
        # Check mode changed nothing and recorded nothing: what would happen, never "complete".
        return (f"check mode: nothing changed; {int(would_upgrade)} devices would be upgraded, "
                f"{int(would_skip)} skipped")
    states = [str(outcome) for outcome in outcomes]
    if gate_stop and all(state in _CLEAN | {"pending"} for state in states):
        return gate_stop
    if all(state in _CLEAN for state in states):
        return "complete"
    if stopped_after_batch not in (None, ""):
        reason = f" ({stop_reason})" if stop_reason else ""
        return f"stopped after batch {stopped_after_batch}{reason}{', rolled back' if rolled_back else ''}, partially failed"
    # A re-run of a campaign whose devices were all rolled back says so, not "partially failed".
    if all(state in ("rolled_back", "skipped") for state in states):
        return "rolled back"
    return "partially failed"


def campaign_failed(outcome: str, *, check_mode: bool = False, gate_stop: str | None = None) -> bool:
    """Whether the run ends failed: anything but complete, check mode, or a stop at an approval gate."""
    return not (outcome == "complete" or check_mode or (gate_stop and outcome == gate_stop))


def report_outcome(counts: t.Mapping[str, int]) -> str:
    """The outcome of a campaign rebuilt from its directory alone (no run to ask): from the counts per outcome."""
    if counts.get("in_progress") or counts.get("pending"):
        return "in progress (or stopped)"
    return campaign_outcome(name for name, count in counts.items() if count)
