#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: campaign_report
short_description: Write the HTML, CSV and JUnit XML report of an upgrade campaign
version_added: 0.1.0
description:
  - Reads the campaign directory O(campaign_dir) (status rows, C(campaign.log), pre/post snapshots) and writes
    C(report.html), C(report.csv) and C(report.junit.xml) into it (or into O(dest)).
  - C(report.html) is one self-contained page (inline CSS and SVG, no script, no network), readable offline and
    as an AWX artifact. It shows the campaign, plan and outcome, the counts, a timeline per device (batches,
    stages, reboot windows, waiting for the batch, held-back devices, coordination gates), every device's
    outcome with the full reason, the pre/post snapshot differences and the redundancy groups.
  - The plan's batches, recovery policy, redundancy groups and the run's outcome are kept in
    C(campaign.json) in the campaign directory, so C(swim report <campaign dir>) rebuilds the same report later.
  - The playbooks C(escalator.swim.rolling_upgrade) and C(escalator.swim.rollback) run it at their end, also
    after a stopped or failed campaign.
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.attributes
attributes:
  check_mode:
    support: full
    details: Writes nothing in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The report is the campaign's bookkeeping, not a managed resource; the task never reports a change
      (each run writes the report again, with its generation time).
  action_group:
    support: none
    membership: []
options:
  campaign_dir:
    description: Directory of the campaign on the controller. Defaults to the variable C(swim_campaign_dir).
    type: path
    required: true
  campaign_id:
    description: Campaign id, shown when O(resolution) does not name it. Defaults to the variable C(swim_campaign_id).
    type: str
  resolution:
    description:
      - The result of M(escalator.swim.resolve_plan) for this run (batches, skipped devices, recovery policy).
      - Image URLs are not kept.
    type: dict
  outcome:
    description: The campaign's outcome in words (V(complete), V(partially failed), V(stopped after batch 2 ...)).
    type: str
  stopped_after_batch:
    description: The batch after which the campaign stopped, if it stopped.
    type: int
  redundancy_groups:
    description:
      - The redundancy groups to show, each with C(label), C(members) and C(max_down).
      - Without it, read from O(plan) on the play's inventory.
    type: list
    elements: dict
  plan:
    description: The campaign plan file, to show its redundancy groups (read by the action plugin on the controller).
    type: path
  formats:
    description: Which reports to write.
    type: list
    elements: str
    choices: [html, csv, junit]
    default: [html, csv, junit]
  dest:
    description: Directory to write the reports into. Defaults to O(campaign_dir).
    type: path
notes:
  - Runs on the controller (action plugin), like M(escalator.swim.campaign_status).
"""

EXAMPLES = r"""
- name: Write the campaign report
  escalator.swim.campaign_report:
    campaign_dir: /var/lib/swim/campaigns/olt-2-0-rollout
    resolution: "{{ swim_resolution }}"
    outcome: partially failed
    plan: /srv/plans/olt-2-0-rollout.yml
  register: report

- name: Where it is
  ansible.builtin.debug:
    msg: "{{ report.files.html }}"
"""

RETURN = r"""
files:
  description: Format (V(html), V(csv), V(junit)) to the path of the file written.
  returned: always
  type: dict
  sample: {"html": "/var/lib/swim/campaigns/olt-2-0-rollout/report.html"}
counts:
  description: Number of devices per outcome (upgraded, failed, rolled_back, skipped, in_progress, pending).
  returned: unless in check mode
  type: dict
outcome:
  description: The campaign's outcome as the report shows it.
  returned: unless in check mode
  type: str
"""

from ansible_collections.escalator.swim.plugins.module_utils.module_runner import run_module
from ansible_collections.escalator.swim.plugins.module_utils.ops import campaign_report as operation


def main():
    run_module(operation, device=False)


if __name__ == "__main__":
    main()
