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
  - escalator.swim.dmi_manage
  - escalator.swim.connection
  - escalator.swim.campaign_record
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
  keep_existing:
    description:
      - With O(dest), when O(dest) already exists, return the snapshot saved there (RV(kept)) and do not read
        the device. A resumed campaign keeps the backup it took before any change.
    type: bool
    default: false
  fail_on_alarm_severity:
    description:
      - Fail (reason C(BLOCKING_ALARMS)) when the device raises an alarm of this severity or a worse one
        (the health gate of a precheck).
    type: str
    choices: [critical, major, minor, warning]
  require_images:
    description:
      - Fail (reason C(NO_USABLE_IMAGE)) unless the device runs an active image not reported invalid - the
        image it falls back to if the upgrade fails (the image gate of a precheck).
      - An empty or invalid standby does not fail it - that is where the download goes.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Back up the device state before the upgrade
  escalator.swim.snapshot:
    dest: "campaigns/{{ campaign_id }}/{{ inventory_hostname }}/pre.json"

- name: Precheck - fail on major or critical alarms, or without a usable standby image
  escalator.swim.snapshot:
    fail_on_alarm_severity: major
    require_images: true
    record:
      stage: precheck

- name: After the upgrade, compare and gate
  escalator.swim.snapshot:
    dest: "campaigns/{{ campaign_id }}/{{ inventory_hostname }}/post.json"
    compare_to: "campaigns/{{ campaign_id }}/{{ inventory_hostname }}/pre.json"
    expect_active_version: 2.0.0
    sensor_tolerance:
      temperature: 5
"""

RETURN = r"""
recorded:
  description: The status-table records this task wrote (O(record)), in order.
  returned: when O(record) is set, not in check mode
  type: list
  elements: dict
  sample: [{"stage": "download", "state": "running"}, {"stage": "download", "state": "ok"}]
status_row:
  description: The device's row of the status table after those records (as M(escalator.swim.campaign_status) returns it).
  returned: when O(record) is set and a record was written
  type: dict
stage:
  description: The campaign stage of a failed task (O(record.stage)), which the roles' rescues record and report.
  returned: failure, when O(record) is set
  type: str
  sample: download
snapshot:
  description: The snapshot (schema 1) with C(device), C(transport), C(taken_at), C(versions), C(startup_config), C(inventory) and C(health).
  returned: always
  type: dict
dest:
  description: File the snapshot was written to (not written in check mode).
  returned: when O(dest) is set
  type: str
kept:
  description: True when O(keep_existing) returned the snapshot already saved in O(dest) instead of reading the device.
  returned: when O(dest) is set
  type: bool
  sample: false
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
