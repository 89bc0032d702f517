#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: sw_version
short_description: Read the active and standby software images of a device
version_added: 0.1.0
description:
  - Asks the device (DMI C(GetSoftwareVersion), or the NETCONF C(bbf-software-management) revisions) which
    image runs in the active partition and which one waits in the standby partition.
  - Never changes the device, nor (without O(manage)) what its DMI device manager manages.
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
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  set_facts:
    description:
      - Also return the result as the host fact C(swim_software), for later tasks.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the software versions of every OLT
  escalator.swim.sw_version:
  register: versions

- name: Keep them as facts
  escalator.swim.sw_version:
    set_facts: true

- name: Show the active version
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} runs {{ ansible_facts.swim_software.active_version }}"
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
active:
  description: Images in the active partition (normally one).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Image name.
      type: str
      sample: swim-olt
    version:
      description: Image version.
      type: str
      sample: 1.0.0
    committed:
      description:
        - Whether the image is committed (boots next). NETCONF C(is-committed); over DMI an active image is
          always committed (DMI has no separate commit, ActivateImage makes the image the active partition).
        - For a standby image over NETCONF, whether it is known good (it has run since it was downloaded).
      type: bool
      returned: when known
    valid:
      description: Whether the image is valid. Only where the transport tells (NETCONF).
      type: bool
      returned: when known
    sha256:
      description: SHA-256 digest of the image as the device reports it (NETCONF C(hash) leaf).
      type: str
      returned: when known
standby:
  description: Images in the standby partition, same shape as RV(active).
  returned: success
  type: list
  elements: dict
active_version:
  description: Version of the first active image, or an empty string.
  returned: success
  type: str
  sample: 1.0.0
committed:
  description:
    - Whether the running image is the boot image (RV(active) C(committed)), null when the transport cannot tell.
    - An image that runs and is not committed is not upgraded (a power cycle boots the old one).
  returned: always
  type: bool
standby_version:
  description: Version of the first standby image, or an empty string.
  returned: success
  type: str
  sample: 0.9.0
transport:
  description: The transport used.
  returned: success
  type: str
  sample: dmi
ansible_facts:
  description: With O(set_facts=true), C(swim_software) holding RV(active), RV(standby), RV(active_version), RV(standby_version).
  returned: when O(set_facts=true)
  type: dict
"""

from ansible_collections.escalator.swim.plugins.module_utils.module_runner import run_module
from ansible_collections.escalator.swim.plugins.module_utils.ops import sw_version as operation


def main():
    run_module(operation)


if __name__ == "__main__":
    main()
