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
  - O(state=query) lists every lock in O(lock_dir) (RV(locks), RV(own)). O(state=released) releases every lock
    O(campaign_id) holds (stale locks a crashed run left behind); with O(force=true) every lock, whoever holds it.
    Each release is appended to C(<lock_dir>/releases.log) (time, device, holder, released_by, forced).
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
    description: Device to lock or release. Defaults to the inventory hostname. Not used by O(state=query)
      and O(state=released).
    type: str
  state:
    description: V(present) takes the lock, V(absent) releases it, V(query) lists the locks, V(released)
      releases every lock of O(campaign_id).
    type: str
    choices: [present, absent, query, released]
    default: present
  force:
    description: Release a lock another campaign holds (O(state=absent)), or every lock (O(state=released)).
      Logged as forced in C(releases.log).
    type: bool
    default: false
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

- name: List the locks (who holds which device)
  escalator.swim.device_lock:
    lock_dir: /var/lib/swim/locks
    campaign_id: olt-2-0-rollout
    state: query
  register: swim_locks

- name: Release the stale locks a crashed run of this campaign left
  escalator.swim.device_lock:
    lock_dir: /var/lib/swim/locks
    campaign_id: olt-2-0-rollout
    state: released
"""

RETURN = r"""
locks:
  description: Every lock in O(lock_dir) (C(device), C(campaign), C(since), C(pid)), with O(state=query) and O(state=released).
  returned: with O(state=query) and O(state=released)
  type: list
  elements: dict
own:
  description: Devices whose lock O(campaign_id) holds.
  returned: with O(state=query)
  type: list
  elements: str
released:
  description: The locks this task released (C(device), C(holder) or C(campaign)).
  returned: when releasing
  type: list
  elements: dict
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
