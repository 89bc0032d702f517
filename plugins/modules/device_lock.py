#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: device_lock
short_description: Hold a device for one campaign at a time
version_added: 0.1.0
description:
  - Takes (O(state=present)) or releases (O(state=absent)) the lock of a device in O(lock_dir), a directory
    shared by every campaign that may touch the same devices (on one controller, or on storage shared by the
    AWX execution nodes).
  - Taking a lock the same campaign already holds is allowed (a resumed campaign); a lock held by another
    campaign fails the task and names the holder.
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
  action_group:
    support: none
    membership: []
options:
  lock_dir:
    description: Directory of the lock files. Defaults to the variable C(swim_lock_dir).
    type: path
    required: true
  campaign_id:
    description: Campaign taking or releasing the lock. Defaults to the variable C(swim_campaign_id).
    type: str
    required: true
  device:
    description: Device to lock. Defaults to the inventory hostname.
    type: str
    required: true
  state:
    description: V(present) takes the lock, V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Hold the device for this campaign
  escalator.swim.device_lock:
    lock_dir: /var/lib/swim/locks
    campaign_id: olt-2-0-rollout

- name: Release it
  escalator.swim.device_lock:
    lock_dir: /var/lib/swim/locks
    campaign_id: olt-2-0-rollout
    state: absent
"""

RETURN = r"""
holder:
  description: Campaign holding the lock after the task, or null.
  returned: success
  type: str
"""

from ansible_collections.escalator.swim.plugins.module_utils.module_runner import run_module
from ansible_collections.escalator.swim.plugins.module_utils.ops import device_lock as operation


def main():
    run_module(operation, device=False)


if __name__ == "__main__":
    main()
