#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: revert_image
short_description: Boot a device back into its standby (previous, known good) image
version_added: 0.1.0
description:
  - Boots the standby image without the activation sanity checks (DMI C(RevertToStandbyImage); NETCONF
    C(activate) and C(commit) of the other revision; NETCONF has no reboot without checks, the device runs its
    usual activation). Use it to go back to the previous software.
  - Refuses unless the standby image is a known good (committed) image. Where the transport shows the
    committed flag (NETCONF) the module checks it before touching the device; over DMI the device manager
    checks it and refuses with C(DEVICE_IN_WRONG_STATE).
  - Waits through the reboot and verifies which image is active, like M(escalator.swim.activate_image).
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.connection
  - escalator.swim.campaign_record
  - escalator.swim.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the active and standby partitions before and after; in check mode, as the revert would leave
      them (active and standby swapped), predicted from the partitions the device reports.
  idempotent:
    support: full
    details: Only with O(version) set (the version to go back to); without it every run swaps the partitions.
options:
  version:
    description:
      - Version to go back to. No change when it is already active; the task fails without touching the
        device when the standby holds another version.
    type: str
  name:
    description: Image name expected together with O(version).
    type: str
  timeout:
    description: Seconds the revert, reboot included, may take before the task fails.
    type: float
    default: 900.0
  stall_timeout:
    description: Seconds without a progress report before the module waits for the device to answer instead.
    type: float
seealso:
  - module: escalator.swim.activate_image
"""

EXAMPLES = r"""
- name: Go back to swim-olt 1.0.0
  escalator.swim.revert_image:
    name: swim-olt
    version: 1.0.0
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
  description: Active and standby images after the reboot.
  returned: when the device answered after the reboot
  type: dict
status_history:
  description: Progress reports, in order.
  returned: when the revert started
  type: list
  elements: dict
final_state:
  description: Last state reported.
  returned: success
  type: str
reason:
  description: Why the task failed (for instance C(DEVICE_IN_WRONG_STATE) or C(NOT_KNOWN_GOOD)).
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
from ansible_collections.escalator.swim.plugins.module_utils.ops import revert_image as operation


def main():
    run_module(operation)


if __name__ == "__main__":
    main()
