#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: resolve_plan
short_description: Turn a campaign plan and the inventory of the day into ordered upgrade batches
version_added: 0.1.0
description:
  - Validates the campaign plan on the inventory (as M(escalator.swim.validate_plan) does) and fails listing
    every problem; otherwise returns the ordered batches of the campaign (schema reference and the batching
    rules in C(docs/campaign-plan.md) of the collection).
  - Steps run in the order written, except that a step waits for every step in its C(depends_on). A host
    belongs to the first step that selects it. Each step starts with its canary batch when it has one.
  - No batch ever holds more than C(max_down) (default 1) members of a redundancy group; the batch size
    never overrides that, the members are spread over more batches instead.
  - Hosts whose active version (O(current_versions)) already is the target version, hosts listed in
    O(unavailable), and hosts held back because their redundancy group has no member to spare are listed in
    RV(skipped_hosts) with the cause and reason, and are in no batch.
  - The output is deterministic - hosts are sorted by name (numbers compare numerically).
  - Ansible's C(serial) keyword slices the play's host list in order, so it reproduces arbitrary batches only
    when the play's hosts come in batch order. Add RV(hosts_in_order) one by one with
    M(ansible.builtin.add_host) to a group, play on that group with C(serial) set to RV(serial); or use
    RV(host_batch) with M(ansible.builtin.group_by). See C(docs/campaign-plan.md).
  - Runs on the controller (action plugin) and needs no device; it never changes anything.
author:
  - escalator.swim maintainers (@escalator-swim)
attributes:
  action:
    description: Runs on the controller as an action plugin; the module itself only runs when called directly.
    support: full
  check_mode:
    description: Can run in check mode.
    support: full
  diff_mode:
    description: Will return details on what has changed when in diff mode.
    support: none
  idempotent:
    description: A second run with the same arguments reports no change and the same batches.
    support: full
    details: Read-only.
options:
  plan:
    description:
      - The plan document, a mapping with the single key C(campaign).
      - Mutually exclusive with O(path).
    type: dict
  path:
    description:
      - YAML file holding the plan, on the controller. A relative path is looked up like a C(files/) file
        (role, then playbook directory). Vault-encrypted files are decrypted.
      - Mutually exclusive with O(plan).
    type: path
  groups:
    description:
      - Inventory groups and their hosts, typically C({{ groups }}).
      - The action plugin defaults to the inventory of the play (C(groups)); when run as a plain module
        it is required.
    type: dict
  hostvars:
    description:
      - Host variables by host (a mapping of host to a mapping of variable to value), for the selectors and
        redundancy groups of the plan. Only the variables the plan names are read.
      - The action plugin defaults to reading those variables from the inventory; when run as a plain module
        they must be given if the plan uses host variables.
    type: dict
  current_versions:
    description:
      - Active software version by host, to skip hosts already on the target version. A value is either the
        version string or a mapping with the key C(active_version), such as the C(swim_software) fact set by
        M(escalator.swim.sw_version).
      - Hosts missing here are upgraded.
    type: dict
  unavailable:
    description:
      - Hosts known to be down or unusable, typically those that failed their precheck. They are in no batch
        (RV(skipped_hosts) with cause C(unavailable)), and they count as already down in their redundancy
        groups - a group whose unavailable members reach its C(max_down) has its other members held back
        (cause C(redundancy)), and one with room left takes fewer members per batch.
      - Keep them in O(groups) - removing them instead hides them from their redundancy groups.
    type: list
    elements: str
  finished:
    description:
      - Hosts already done in an earlier run of the same campaign (the C(rolling_upgrade) playbook passes the
        devices whose status-table row is final). They are in no batch (RV(skipped_hosts) with cause
        C(finished)) and, unlike O(unavailable), do not count as down in their redundancy groups.
    type: list
    elements: str
seealso:
  - module: escalator.swim.validate_plan
  - module: escalator.swim.sw_version
notes:
  - Credentials in image URLs (C(user:password@)) never appear in RV(msg) or RV(problems). The image
    mappings of RV(batches) and RV(image_for) keep the real URL in C(url) because the device needs it;
    display C(url_redacted) instead, and consider C(no_log) on tasks that print the whole result.
  - The same resolution is available as the filters P(escalator.swim.campaign_resolve#filter) and
    P(escalator.swim.campaign_batches#filter).
"""

EXAMPLES = r"""
- name: Resolve the campaign on the inventory of this play
  escalator.swim.resolve_plan:
    path: plans/olt-2-0-rollout.yml
  register: campaign
  run_once: true
  delegate_to: localhost

- name: Resolve it with the versions the devices report (hosts already upgraded are skipped)
  escalator.swim.resolve_plan:
    path: plans/olt-2-0-rollout.yml
    current_versions: "{{ dict(groups.olts | zip(groups.olts | map('extract', hostvars, ['swim_software', 'active_version'], default=''))) }}"
  register: campaign

- name: Put the hosts in a group in batch order, for a play with serial set to campaign.serial
  ansible.builtin.add_host:
    name: "{{ item }}"
    groups: swim_campaign
    swim_batch: "{{ campaign.host_batch[item] }}"
    swim_image: "{{ campaign.image_for[item] }}"
  loop: "{{ campaign.hosts_in_order }}"

- name: Show the batches (check mode of a campaign)
  ansible.builtin.debug:
    msg: >-
      batch {{ item.index }}{{ ' (canary)' if item.canary else '' }} {{ item.step }}:
      {{ item.hosts | join(', ') }} -> {{ item.image.name }} {{ item.image.version }}
  loop: "{{ campaign.batches }}"
  loop_control:
    label: "{{ item.index }}"
"""

RETURN = r"""
valid:
  description: Whether the plan has no problem on this inventory.
  returned: always
  type: bool
problems:
  description: Every problem found (see M(escalator.swim.validate_plan)); empty on success.
  returned: always
  type: list
  elements: str
msg:
  description: Summary (hosts, batches, steps, skipped), or the problems.
  returned: always
  type: str
  sample: "campaign olt-2-0-rollout: 11 host(s) in 9 batch(es) over 3 step(s), 2 skipped"
campaign:
  description: The campaign C(id), C(description) and C(expected_duration) (seconds or null).
  returned: success
  type: dict
batches:
  description: The batches, in the order they run.
  returned: success
  type: list
  elements: dict
  contains:
    index:
      description: Position of the batch, from 0; C(batches[i].index == i).
      type: int
    step:
      description: Name of the step the batch belongs to.
      type: str
    group:
      description: Inventory group of that step.
      type: str
    hosts:
      description: Hosts of the batch, sorted.
      type: list
      elements: str
    canary:
      description: Whether this is the canary batch of its step.
      type: bool
    pause_before:
      description: Whether the campaign pauses for approval before this batch (coordination point).
      type: bool
    pause_message:
      description: The plan's pause message for this batch; empty when RV(batches[].pause_before) is false.
      type: str
    image:
      description:
        - Target image - C(name), C(version), C(url), C(url_redacted), C(sha256), C(install_script).
        - C(url) is the download URL exactly as the plan gives it, B(credentials included); show C(url_redacted).
      type: dict
    timeouts:
      description: Seconds allowed per stage (C(precheck), C(backup), C(download), C(activate), C(revert), C(postcheck)),
        and C(stall), the seconds a download may go without a progress report.
      type: dict
    max_fail_percentage:
      description: The C(max_fail_percentage) that applies the plan's failure threshold to exactly this batch.
      type: float
skipped_hosts:
  description:
    - Hosts selected by a step but not upgraded, with C(host), C(step), C(version) (from O(current_versions), or
      null), C(cause) and C(reason).
    - C(cause) is C(on_target) (already runs the target version), C(unavailable) (listed in O(unavailable)),
      C(finished) (listed in O(finished)) or C(redundancy) (its redundancy group already has C(max_down) members
      unavailable).
    - Not called C(skipped), which Ansible reads as "the task was skipped".
  returned: success
  type: list
  elements: dict
steps:
  description: Steps in execution order, with C(name), C(group), C(depends_on), C(hosts) (the hosts it upgrades or
    skips) and C(batches) (their indices).
  returned: success
  type: list
  elements: dict
host_batch:
  description: Batch index by host (the C(swim_batch) of each host), for M(ansible.builtin.group_by) or C(when).
  returned: success
  type: dict
  sample: {"olt-1": 0, "olt-2": 1, "olt-3": 1}
hosts_in_order:
  description: Every host of every batch, in batch order; add them in this order to the group the upgrade play runs on.
  returned: success
  type: list
  elements: str
serial:
  description: Size of every batch, in order - the value for the C(serial) keyword of the upgrade play.
  returned: success
  type: list
  elements: int
  sample: [1, 2, 2, 1]
image_for:
  description:
    - Target image by host, as in RV(batches[].image).
    - C(url) holds the real download URL, B(credentials included); C(url_redacted) is safe to show.
  returned: success
  type: dict
max_fail_percentage:
  description:
    - The C(max_fail_percentage) for the upgrade play. For a percentage threshold, that percentage; for a count,
      the strictest value of all batches (so no batch tolerates more failures than the count).
    - Ansible also stops a play whose batch failed entirely, whatever this value.
  returned: success
  type: float
timeouts:
  description: Seconds allowed per stage, by step name.
  returned: success
  type: dict
expected_duration:
  description: Expected duration of the whole campaign in seconds, or null when the plan does not say.
  returned: success
  type: float
verification:
  description: The post-upgrade checks for M(escalator.swim.snapshot) (C(expect_active_version) true means the
    target version of each host).
  returned: success
  type: dict
recovery:
  description: C(policy), C(failure_threshold) (as written), C(continue_after_failure) (policy revert_device) and
    C(rollback_campaign) (policy rollback_campaign).
  returned: success
  type: dict
redundancy:
  description: Per host of a redundancy group, its groups (C(group), C(members), C(max_down)); the campaign uses
    it to hold a host back while partners are down (filter P(escalator.swim.campaign_hold#filter)).
  returned: success
  type: dict
warnings:
  description: Steps that select no host, pause points beyond the last batch.
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.escalator.swim.plugins.module_utils.campaign.resolve import PlanError
from ansible_collections.escalator.swim.plugins.module_utils.campaign.tasks import (
    PLAN_RULES, RESOLVE_SPEC, read_plan, resolve_task,
)


def main():
    module = AnsibleModule(argument_spec=RESOLVE_SPEC, supports_check_mode=True, **PLAN_RULES)
    params = module.params
    source = f"campaign plan {params['path']}" if params["path"] else "campaign plan"
    if params["groups"] is None:
        module.fail_json(msg="groups is required when resolve_plan runs as a plain module (pass \"{{ groups }}\")")
    try:
        document = read_plan(params["path"]) if params["path"] else params["plan"]
    except PlanError as error:
        module.fail_json(msg=f"{source}: {error}", valid=False, problems=error.problems)
    result = resolve_task(document, params["groups"], params["hostvars"], params["current_versions"],
                          params["unavailable"], source=source, finished=params["finished"])
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
