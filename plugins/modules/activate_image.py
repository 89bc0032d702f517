#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: activate_image
short_description: Reboot a device into its standby image, with sanity checks and commit
version_added: 0.1.0
description:
  - Activates the standby image (DMI C(ActivateImage); NETCONF C(activate) then C(commit)). The device reboots
    into it, runs its sanity checks and commits it; the previous image stays in standby.
  - When the sanity checks fail the device falls back to its previous image by itself; the task then fails
    with C(ACTIVATION_FAILED) and reports in RV(fell_back_to) which image the device runs.
  - The disconnect of the reboot is expected; the module reconnects with back-off, waits until the device
    answers again and verifies which image is active before it reports success.
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.connection
  - escalator.swim.campaign_record
  - escalator.swim.attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the device would reboot into its standby image.
  diff_mode:
    support: full
    details: Shows the active and standby partitions before and after; in check mode, as the activation would
      leave them (active and standby swapped, the target committed), predicted from the partitions the device
      reports.
  idempotent:
    support: full
    details: Only with O(version) set; without it every run activates (and reboots) again.
options:
  version:
    description:
      - Version expected in standby. The task fails without touching the device when the standby holds
        another version, and reports no change when this version is already active.
    type: str
  name:
    description: Image name expected together with O(version).
    type: str
  timeout:
    description: Seconds the activation, reboot included, may take before the task fails (hang detection).
    type: float
    default: 900.0
  stall_timeout:
    description:
      - Seconds without a progress report before the module stops listening to the report stream and
        waits for the device to answer instead, within O(timeout).
    type: float
seealso:
  - module: escalator.swim.download_image
  - module: escalator.swim.revert_image
"""

EXAMPLES = r"""
- name: Activate swim-olt 2.0.0 once it is in standby
  escalator.swim.activate_image:
    name: swim-olt
    version: 2.0.0
    timeout: 600
  register: activation

- name: Report a device that fell back
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} fell back to {{ activation.fell_back_to.version }}"
  when: activation.fell_back_to is defined and activation.fell_back_to
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
before:
  description: Active and standby images before the task.
  returned: when the device answered
  type: dict
after:
  description: Active and standby images after the reboot, as the device reports them.
  returned: when the device answered after the reboot
  type: dict
status_history:
  description: Progress reports (C(REBOOTING_DEVICE), C(COMMITTING_IMAGE), C(ACTIVATION_COMPLETE), ...), in order.
  returned: when the activation started
  type: list
  elements: dict
final_state:
  description: Last state reported.
  returned: success
  type: str
  sample: ACTIVATION_COMPLETE
fell_back_to:
  description: The image the device runs after a failed activation (its automatic fallback).
  returned: when the activation failed after the reboot
  type: dict
  sample: {"name": "swim-olt", "version": "1.0.0"}
reason:
  description: Why the task failed (DMI reason, C(ACTIVATION_FAILED), C(TIMEOUT), C(VERSION_MISMATCH), ...).
  returned: failure
  type: str
busy:
  description:
    - True when the device refused because another operation is running on it (DMI
      C(OPERATION_ALREADY_IN_PROGRESS), NETCONF C(component-busy)), so the same task may succeed later;
      the same on both transports, for C(until) conditions.
  returned: failure
  type: bool
  sample: false
"""

from ansible_collections.escalator.swim.plugins.module_utils.module_runner import run_module
from ansible_collections.escalator.swim.plugins.module_utils.ops import activate_image as operation


def main():
    run_module(operation)


if __name__ == "__main__":
    main()
