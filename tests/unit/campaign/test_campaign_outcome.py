"""The campaign's outcome in words (module_utils/campaign/outcome.py): the one definition the rolling_upgrade
playbook (through campaign_status run_facts), the report and the monitor use."""

from __future__ import annotations

import pytest

from ansible_collections.escalator.swim.plugins.module_utils.campaign.outcome import (campaign_failed,
                                                                                       campaign_outcome,
                                                                                       report_outcome)
from ansible_collections.escalator.swim.plugins.module_utils.ops import campaign_status
from ansible_collections.escalator.swim.plugins.module_utils.ops.common import ArgumentError


@pytest.mark.parametrize("outcomes, facts, expected", [
    (["upgraded", "skipped"], {}, "complete"),
    ([], {}, "complete"),
    (["upgraded", "failed"], {}, "partially failed"),
    (["rolled_back", "rolled_back", "skipped"], {}, "rolled back"),
    (["rolled_back", "failed"], {}, "partially failed"),
    (["upgraded", "failed"], {"stopped_after_batch": 1, "stop_reason": "failure threshold passed"},
     "stopped after batch 1 (failure threshold passed), partially failed"),
    (["rolled_back", "rolled_back"], {"stopped_after_batch": 0, "stop_reason": "recovery policy rollback_campaign",
                                      "rolled_back": True},
     "stopped after batch 0 (recovery policy rollback_campaign), rolled back, partially failed"),
    (["upgraded", "pending"], {"gate_stop": "stopped at the coordination pause before batch 2"},
     "stopped at the coordination pause before batch 2"),
    # A failure before the gate is a failure: the gate's message does not hide it.
    (["failed", "pending"], {"gate_stop": "stopped at the gate"}, "partially failed"),
    (["pending"], {"check_mode": True, "would_upgrade": 3, "would_skip": 1},
     "check mode: nothing changed; 3 devices would be upgraded, 1 skipped"),
])
def test_campaign_outcome_words(outcomes, facts, expected):
    assert campaign_outcome(outcomes, **facts) == expected


def test_campaign_failed_unless_complete_check_mode_or_gate():
    assert not campaign_failed("complete")
    assert campaign_failed("partially failed")
    assert campaign_failed("rolled back")
    assert not campaign_failed("check mode: nothing changed; 1 devices would be upgraded, 0 skipped", check_mode=True)
    assert not campaign_failed("stopped at the gate", gate_stop="stopped at the gate")
    assert campaign_failed("partially failed", gate_stop="stopped at the gate")


def test_report_outcome_from_counts():
    assert report_outcome({"upgraded": 2, "skipped": 1}) == "complete"
    assert report_outcome({"upgraded": 1, "failed": 1}) == "partially failed"
    assert report_outcome({"rolled_back": 2}) == "rolled back"
    assert report_outcome({"upgraded": 1, "in_progress": 1}) == "in progress (or stopped)"


def test_run_facts_unknown_key_or_bad_type_is_an_argument_error():
    with pytest.raises(ArgumentError, match="unknown key.*gate"):
        campaign_status._run_facts({"gate": "x"})
    with pytest.raises(ArgumentError, match="run_facts"):
        campaign_status._run_facts({"would_upgrade": "many"})
    assert campaign_status._run_facts({"check_mode": "True", "would_upgrade": "2"})["would_upgrade"] == 2
