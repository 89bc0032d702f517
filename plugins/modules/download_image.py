#!/usr/bin/python
# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: download_image
short_description: Download and install a software image into the standby partition
version_added: 0.1.0
description:
  - Has the device download the image from O(url), verify its SHA-256 checksum and install it into the standby
    partition (DMI C(DownloadImage); NETCONF C(download) action). The active image keeps running.
  - Follows the device's progress reports (DMI C(ImageStatus) stream; over NETCONF the model's notifications and
    the revision state, which the device reads from the image itself, then the C(hash) leaf checked against
    O(sha256)) and returns them with timestamps. See C(docs/netconf.md).
  - Fails with the device's reason (for instance C(WRONG_IMAGE_CHECKSUM), C(INVALID_IMAGE)), when the
    progress reports stop for O(stall_timeout) seconds, when the whole step takes longer than O(timeout)
    seconds, and when the report stream ends without a final state.
  - Over DMI, a device the device manager does not manage (by name, nor by its address) is put under
    management first (C(StartManagingDevice)), except in check mode, where the task fails saying so. A device
    found once is not registered again; its uuid is kept for the run's later tasks (host fact C(swim_dmi_device)).
  - Credentials inside O(url) (C(user:password@)) are sent to the device but never appear in results,
    messages or diffs.
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.connection
  - escalator.swim.campaign_record
  - escalator.swim.attributes
attributes:
  check_mode:
    support: full
    details: Reads the partitions and reports whether a download would happen; nothing is sent to download.
  diff_mode:
    support: full
    details: Shows the standby partition before and after; in check mode, as the download would leave it (the
      target image, not committed yet), predicted from the partitions the device reports.
  idempotent:
    support: full
    details: No download when the image is already in standby or already active, unless O(force=true).
options:
  name:
    description: Image name, as the device reports it.
    type: str
    required: true
  version:
    description: Image version.
    type: str
    required: true
  url:
    description:
      - Where the device fetches the image, for example C(sftp://user:pass@192.0.2.10/images/olt-2.0.0.img) or
        C(http://images.example.net/olt-2.0.0.img). Which schemes work depends on the device.
    type: str
    required: true
  sha256:
    description: SHA-256 checksum of the image file (64 hexadecimal characters, as printed by C(sha256sum)).
    type: str
    required: true
  install_script:
    description: Name of the install script inside the downloaded object, for device managers that use one.
    type: str
    default: ""
  force:
    description: Download even when the image is already in standby or already active.
    type: bool
    default: false
  timeout:
    description: Seconds the whole download and install may take before the task fails (hang detection).
    type: float
    default: 1800.0
  stall_timeout:
    description:
      - Seconds without any progress report before the task fails as stalled, whatever remains of O(timeout).
      - Set it to V(0) to disable stall detection.
    type: float
    default: 300.0
seealso:
  - module: escalator.swim.activate_image
  - module: escalator.swim.sw_version
"""

EXAMPLES = r"""
- name: Put swim-olt 2.0.0 into the standby partition
  escalator.swim.download_image:
    name: swim-olt
    version: 2.0.0
    url: "http://images.example.net/swim-olt-2.0.0.img"
    sha256: "{{ image_sha256 }}"
    timeout: 1200
    stall_timeout: 120

- name: Download with credentials kept out of the logs
  escalator.swim.download_image:
    name: swim-olt
    version: 2.0.0
    url: "sftp://{{ image_user }}:{{ image_password }}@images.example.net/swim-olt-2.0.0.img"
    sha256: "{{ image_sha256 }}"
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
image:
  description: The requested image; the URL with credentials redacted.
  returned: always
  type: dict
  sample: {"name": "swim-olt", "version": "2.0.0", "url": "http://********@images.example.net/swim-olt-2.0.0.img", "sha256": "9f86d0..."}
before:
  description: Active and standby images before the task (see M(escalator.swim.sw_version) for the shape).
  returned: when the device answered
  type: dict
after:
  description: Active and standby images after the task.
  returned: when the device answered
  type: dict
status_history:
  description: Every progress report of the device, in order.
  returned: always
  type: list
  elements: dict
  contains:
    time:
      description: When the controller received the report (UTC, ISO 8601).
      type: str
    state:
      description: DMI image state, for example C(COPYING_IMAGE), C(INSTALLING_IMAGE), C(UPGRADE_COMPLETE).
      type: str
    ok:
      description: False when the device reported an error.
      type: bool
    reason:
      description: DMI reason, when the device gave one.
      type: str
      returned: when set
    description:
      description: Device's progress text, for example C(downloaded 40% (4194304/10485760 bytes)).
      type: str
      returned: when set
    reason_detail:
      description: Device's free-form error detail.
      type: str
      returned: when set
final_state:
  description: Last state the device reported.
  returned: when a download ran
  type: str
  sample: UPGRADE_COMPLETE
reason:
  description: Why the task failed; the DMI reason (for instance C(WRONG_IMAGE_CHECKSUM)), over NETCONF the
    C(bbf-software-management) error identity (for instance C(bbf-software-management:connection-reset-by-peer)),
    or C(TIMEOUT), C(STALLED), C(STREAM_ENDED).
  returned: failure
  type: str
  sample: WRONG_IMAGE_CHECKSUM
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
from ansible_collections.escalator.swim.plugins.module_utils.ops import download_image as operation


def main():
    run_module(operation)


if __name__ == "__main__":
    main()
