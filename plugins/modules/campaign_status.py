#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: campaign_status
short_description: Record and read the status table of an upgrade campaign
version_added: 0.1.0
description:
  - Keeps the campaign's status table in O(campaign_dir) on the controller, one row per device with the state,
    start and end time and error of each stage (precheck, backup, download, activate, verify, postcheck,
    rollback), and appends one structured JSON line per action (time, campaign, device, action, result, error
    code) to C(campaign.log).
  - Every row is replaced atomically, so a controller killed mid-campaign leaves a consistent table that a
    re-run resumes from.
  - With O(state=query) returns the whole table, also rendered as text; with O(state=row) the row of one device
    (empty when the campaign never touched it), which is how a resumed campaign finds where a device stopped.
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.attributes
attributes:
  check_mode:
    support: full
    details: Records nothing in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The table is the campaign's bookkeeping, not a managed resource; the task never reports a change.
  action_group:
    support: none
    membership: []
options:
  campaign_dir:
    description: Directory of the campaign on the controller. Defaults to the variable C(swim_campaign_dir).
    type: path
    required: true
  campaign_id:
    description: Campaign id. Defaults to the variable C(swim_campaign_id).
    type: str
    required: true
  device:
    description: Device whose row is updated. Defaults to the inventory hostname.
    type: str
  stage:
    description: Stage to record.
    type: str
    choices: [precheck, backup, download, activate, verify, postcheck, rollback]
  state:
    description:
      - New state of O(stage), V(query) to read the table, or V(row) to read the row of O(device).
      - V(begin_run) starts run O(run_id) of the campaign (run fencing, docs/campaigns.md "Crash model"); it
        refuses while the main process of an earlier run of the campaign still runs, and waits at most
        O(run_wait) seconds for orphaned task workers of an earlier run (a stage left running by a live
        ansible worker) to finish, then fails naming them. V(end_run) marks run O(run_id) ended.
    type: str
    choices: [running, ok, failed, skipped, query, row, begin_run, end_run]
    default: query
  run_id:
    description: Id of this run of the campaign, with O(state=begin_run) and O(state=end_run).
    type: str
  run_wait:
    description: Seconds O(state=begin_run) waits for orphaned workers of an earlier run before it refuses.
    type: float
    default: 120.0
  error:
    description: Error message (URL credentials are redacted).
    type: str
    default: ""
  error_code:
    description: Error code, for instance the DMI reason.
    type: str
    default: ""
  batch:
    description: Batch index of the device. Defaults to the variable C(swim_batch).
    type: int
  details:
    description: Extra facts kept in the row (for instance C(from_version), C(to_version)).
    type: dict
  failure:
    description:
      - With O(state=failed), the failed result a role's rescue caught (C(ansible_failed_result)). Its C(msg) and
        C(reason) are recorded as the stage's error and error code (unless O(error)/O(error_code) are given).
      - When that result says the failed task already recorded its failure itself (C(recorded), a device task
        with option C(record)), nothing is written again, so the device's own reason stands.
      - The roles' one recorded-failure pattern, with O(fail).
    type: dict
  fail:
    description:
      - With O(state=failed), fail this task after recording, with the failure's message and reason and
        RV(stage), so an enclosing rescue reads the stage from the result instead of from task names.
    type: bool
    default: false
  run_facts:
    description:
      - With O(state=query), what this run knows beyond the table, to word the campaign's outcome (RV(outcome)).
      - >-
        Keys C(check_mode) (bool), C(would_upgrade) and C(would_skip) (counts, in check mode), C(gate_stop) (the
        message of the approval gate the run stopped at), C(stopped_after_batch) and C(stop_reason) (the recovery
        policy stopped the campaign), C(rolled_back) (the campaign was then rolled back as a whole).
      - The one definition of the outcome, shared with the campaign report and C(swim monitor) (docs/campaigns.md).
    type: dict
"""

EXAMPLES = r"""
- name: Mark the download as running
  escalator.swim.campaign_status:
    stage: download
    state: running

- name: Print the table
  escalator.swim.campaign_status:
    campaign_dir: /var/lib/swim/campaigns/olt-2-0-rollout
    campaign_id: olt-2-0-rollout
  register: status
  run_once: true

- name: Show it
  ansible.builtin.debug:
    msg: "{{ status.table }}"
  run_once: true
"""

RETURN = r"""
row:
  description: The device's row after the update; with O(state=row), its row as stored (V({}) when there is none).
  returned: when a state was recorded, and with O(state=row)
  type: dict
rows:
  description: Every row of the table.
  returned: with O(state=query)
  type: list
  elements: dict
table:
  description: The table rendered as fixed-width text.
  returned: with O(state=query)
  type: str
run:
  description: The run (C(run), C(controller) pid, C(started), C(ended)), with O(state=begin_run) or O(state=end_run).
  returned: with O(state=begin_run) and O(state=end_run)
  type: dict
waited_for:
  description: The orphaned workers O(state=begin_run) waited for (C(device stage (pid N))).
  returned: with O(state=begin_run)
  type: list
  elements: str
previous_run:
  description: The run before this one (V({}) for a campaign's first run).
  returned: with O(state=begin_run)
  type: dict
table_rows:
  description:
    - Device name to its row reduced as the kafka_events callback publishes rows (C(device), C(batch), C(stage),
      C(state), C(error_code), C(outcome)), read when the run began (after the workers waited for) or ended.
    - The callback compares them with what it published and republishes the rows that differ (C(docs/kafka.md),
      "Campaign rows after a crash").
  returned: with O(state=begin_run) and O(state=end_run)
  type: dict
republish:
  description:
    - The reduced rows (as in RV(table_rows)) whose device's last row the broker confirmed is another one, or none
      (a row written by an orphaned worker after its controller died, or an event lost with a killed controller).
      The kafka_events callback publishes each as a C(campaign_row) event; without the callback it is only returned.
  returned: with O(state=begin_run)
  type: list
  elements: dict
campaign_dir:
  description: The campaign directory (where the callback keeps its ledger of confirmed rows, C(events/published.json)).
  returned: with O(state=begin_run) and O(state=end_run)
  type: str
outcomes:
  description: Device name to its outcome (upgraded, rolled_back, failed, skipped, in_progress, pending).
  returned: with O(state=query)
  type: dict
stage:
  description: The stage recorded as failed, with O(failure) or O(fail).
  returned: with O(failure) or O(fail)
  type: str
reason:
  description: The error code recorded (the failure's reason, else C(<STAGE>_FAILED)), with O(failure) or O(fail).
  returned: with O(failure) or O(fail)
  type: str
recorded:
  description: What was recorded (V([]) in check mode), or the failed task's own records when it had recorded them.
  returned: with O(failure) or O(fail)
  type: list
  elements: dict
outcome:
  description:
    - The campaign's outcome in words, from every row and O(run_facts).
    - >-
      V(complete), V(partially failed), V(rolled back), V(stopped after batch 1 ..., partially failed), the
      approval gate's stop message, or V(check mode: nothing changed; 3 devices would be upgraded, 1 skipped).
  returned: with O(state=query)
  type: str
campaign_failed:
  description: Whether the run ends failed (RV(outcome) is neither V(complete), check mode, nor an approval gate's stop).
  returned: with O(state=query)
  type: bool
"""

from ansible_collections.escalator.swim.plugins.module_utils.module_runner import run_module
from ansible_collections.escalator.swim.plugins.module_utils.ops import campaign_status as operation


def main():
    run_module(operation, device=False)


if __name__ == "__main__":
    main()
