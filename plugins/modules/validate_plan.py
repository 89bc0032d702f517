#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: validate_plan
short_description: Validate a campaign plan offline, listing every problem
version_added: 0.1.0
description:
  - >-
    Checks an upgrade campaign plan (schema reference and example in C(docs/campaign-plan.md) of the
    collection) before anything touches a device, and fails listing B(every) problem, each with its path
    in the plan, for example C(campaign.images.olts.sha256: must be 64 hexadecimal characters).
  - Without O(inventory_groups), checks what can be checked offline, for example in CI - the schema and
    types, unknown keys, image checksums and URLs, batch sizes and percentages, timeouts, step names,
    unknown dependencies and dependency cycles.
  - With O(inventory_groups), also checks the plan on that inventory - groups that do not exist, host
    variables no host sets, and redundancy groups that any batch would take down whole (too few members
    for their C(max_down)).
  - Credentials in image URLs (C(user:password@)) never appear in RV(msg) or RV(problems).
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
    description: A second run with the same arguments reports no change.
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
  inventory_groups:
    description:
      - Inventory groups and their hosts, typically C({{ groups }}). When given, the plan is also checked on
        this inventory.
    type: dict
  hostvars:
    description:
      - Host variables by host (a mapping of host to a mapping of variable to value), for the selectors and redundancy groups of
        the plan. Only the variables the plan names are read.
      - When omitted and O(inventory_groups) is given, the action plugin reads those variables from the
        inventory itself (when run as a plain module, they must be given).
    type: dict
  verify_images:
    description:
      - Also run the image preflight on a plan with no other problem - the controller fetches every image
        it can reach (C(http), C(https), C(ftp) URLs, credentials in the URL used as HTTP basic auth), streams it
        through sha256 in 1 MiB chunks, checks the plan's C(sha256) and C(size) (when given), and fails on any
        mismatch or an image it cannot read.
      - Images with other schemes (C(sftp), C(scp), C(tftp), C(file) - a path on the device) are left to the
        devices and listed as such in RV(images).
      - The plan's C(campaign.preflight.images=false) turns the preflight off, for images only the devices can
        reach.
      - The C(rolling_upgrade) playbook sets it, so a wrong checksum stops the campaign before any device is
        touched.
    type: bool
    default: false
seealso:
  - module: escalator.swim.resolve_plan
notes:
  - The same checks are available as the filter P(escalator.swim.campaign_problems#filter).
"""

EXAMPLES = r"""
- name: Check a plan in CI, without any inventory
  escalator.swim.validate_plan:
    path: plans/olt-2-0-rollout.yml

- name: Check it on the inventory of the day, before the campaign starts
  escalator.swim.validate_plan:
    path: plans/olt-2-0-rollout.yml
    inventory_groups: "{{ groups }}"

- name: Check it and verify its images from the controller (size, sha256)
  escalator.swim.validate_plan:
    path: plans/olt-2-0-rollout.yml
    verify_images: true

- name: Collect the problems without failing
  escalator.swim.validate_plan:
    plan: "{{ lookup('ansible.builtin.file', 'plan.yml') | from_yaml }}"
  register: checked
  failed_when: false

- name: Show them
  ansible.builtin.debug:
    var: checked.problems
"""

RETURN = r"""
valid:
  description: Whether the plan has no problem.
  returned: always
  type: bool
  sample: false
problems:
  description: "Every problem found, as C(<path in the plan>: <what is wrong>); empty when the plan is valid."
  returned: always
  type: list
  elements: str
  sample:
    - "campaign.images.olts.sha256: must be 64 hexadecimal characters (the output of sha256sum)"
    - "campaign.groups: dependency cycle between steps north, south"
msg:
  description: Summary; when invalid, the number of problems and (the first 20 of) them.
  returned: always
  type: str
campaign_id:
  description: The campaign id.
  returned: when valid
  type: str
  sample: olt-2-0-rollout
steps:
  description: Names of the steps, as written.
  returned: when valid
  type: list
  elements: str
images:
  description:
    - With O(verify_images), what the preflight found per image key - C(image), C(url) (credentials
      redacted), C(verified), C(size) and C(sha256) as read, C(problem) (empty when fine), C(note) (why it
      was left to the devices).
  returned: when O(verify_images) is set and the plan is otherwise valid
  type: list
  elements: dict
host_vars:
  description: Host variables the plan reads (selectors and redundancy groups).
  returned: when valid
  type: list
  elements: str
  sample: [swim_redundancy_pair, swim_region]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.escalator.swim.plugins.module_utils.campaign.resolve import PlanError
from ansible_collections.escalator.swim.plugins.module_utils.campaign.tasks import (
    PLAN_RULES, VALIDATE_SPEC, read_plan, validate_task,
)


def main():
    module = AnsibleModule(argument_spec=VALIDATE_SPEC, supports_check_mode=True, **PLAN_RULES)
    params = module.params
    source = f"campaign plan {params['path']}" if params["path"] else "campaign plan"
    try:
        document = read_plan(params["path"]) if params["path"] else params["plan"]
    except PlanError as error:
        module.fail_json(msg=f"{source}: {error}", valid=False, problems=error.problems)
    result = validate_task(document, params["inventory_groups"], params["hostvars"], source=source,
                           verify_images=params["verify_images"])
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
