#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot
short_description: Record a device's software, configuration, inventory and health, and compare records
version_added: 0.1.0
description:
  - Collects the software versions, startup configuration info, physical inventory and health (alarms and
    sensor values) the device exposes into one JSON document, returned as RV(snapshot) and written to O(dest).
  - With O(compare_to) it compares the new snapshot (or the saved one in O(current)) with an earlier one under
    explicit rules and fails when any rule is broken. It fails closed, so a missing or empty snapshot is a failure.
  - Used as the backup before, and the gate after, an upgrade.
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.connection
  - escalator.swim.attributes
attributes:
  check_mode:
    support: full
    details: Reads the device (read-only) but writes no file.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Never changes the device; the file written is a record, so the task reports no change.
options:
  dest:
    description: File (on the controller) to write the collected snapshot to; parent directories are created.
    type: path
  compare_to:
    description: Earlier snapshot file to compare with.
    type: path
  current:
    description:
      - Saved snapshot to compare with O(compare_to) instead of collecting a new one (no device access).
    type: path
  expect_active_version:
    description:
      - With O(compare_to), the version the active image must have.
    type: str
  compare_inventory:
    description:
      - With O(compare_to), fail when a hardware component was added or removed (firmware and software revisions may change).
    type: bool
    default: true
  compare_startup_config:
    description:
      - With O(compare_to), fail when the startup configuration info changed.
    type: bool
    default: true
  sensor_tolerance:
    description:
      - With O(compare_to), the largest allowed change of sensor values, by sensor name or shell-style pattern,
        for example a key C(temperature*) with the value V(5).
    type: dict
    default: {}
  max_new_alarms:
    description:
      - With O(compare_to), how many alarms may be raised that were not there before.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Back up the device state before the upgrade
  escalator.swim.snapshot:
    dest: "campaigns/{{ campaign_id }}/{{ inventory_hostname }}/pre.json"

- name: After the upgrade, compare and gate
  escalator.swim.snapshot:
    dest: "campaigns/{{ campaign_id }}/{{ inventory_hostname }}/post.json"
    compare_to: "campaigns/{{ campaign_id }}/{{ inventory_hostname }}/pre.json"
    expect_active_version: 2.0.0
    sensor_tolerance:
      temperature: 5
"""

RETURN = r"""
snapshot:
  description: The snapshot (schema 1) with C(device), C(transport), C(taken_at), C(versions), C(startup_config), C(inventory) and C(health).
  returned: always
  type: dict
dest:
  description: File the snapshot was written to (not written in check mode).
  returned: when O(dest) is set
  type: str
comparison:
  description: Differences found (C(versions), C(inventory) added/removed, C(startup_config), C(sensors) with deltas, C(alarms) new/cleared).
  returned: with O(compare_to)
  type: dict
violations:
  description: Rules broken; empty when the comparison passed.
  returned: with O(compare_to)
  type: list
  elements: str
passed:
  description: Whether the comparison passed.
  returned: with O(compare_to)
  type: bool
"""

from ansible_collections.escalator.swim.plugins.module_utils.module_runner import run_module
from ansible_collections.escalator.swim.plugins.module_utils.ops import snapshot as operation


def main():
    run_module(operation)


if __name__ == "__main__":
    main()
