# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The ``record`` option of every device module (argument spec: module_utils/campaign_record.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  record:
    description:
      - Record this task as one stage of a campaign's status table, as M(escalator.swim.campaign_status) does;
        the stage is recorded C(running) before the device is touched, then C(ok), or C(failed) with the
        task's message and reason (URL credentials redacted). One log line per record in C(campaign.log).
      - Saves a campaign two bookkeeping tasks per stage (docs/performance.md). Nothing is recorded in check mode.
      - When the table cannot be written before the task, the device is not touched and the task fails
        (reason C(STATUS_NOT_RECORDED)); when it cannot be written after, the task fails saying what the device did.
    type: dict
    suboptions:
      stage:
        description: The stage this task is.
        type: str
        required: true
        choices: [precheck, backup, download, activate, verify, postcheck, rollback]
      also_ok:
        description: Stages also recorded C(ok) when the task succeeds, for instance C(verify) for an
          activation (it checks that the new image runs).
        type: list
        elements: str
        choices: [precheck, backup, download, activate, verify, postcheck, rollback]
        default: []
      details:
        description: Facts kept in the device's row, written with the C(running) record (for instance C(to_version)).
        type: dict
      campaign_dir:
        description: Directory of the campaign on the controller; defaults to the variable C(swim_campaign_dir).
        type: path
      campaign_id:
        description: Campaign id; defaults to the variable C(swim_campaign_id).
        type: str
      device:
        description: Whose row; defaults to the inventory hostname.
        type: str
      batch:
        description: Batch number kept in the row; defaults to the variable C(swim_batch).
        type: int
"""
