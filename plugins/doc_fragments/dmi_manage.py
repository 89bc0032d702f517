# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The ``manage`` option of the read-only device modules (sw_version, snapshot)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  manage:
    description:
      - Over DMI, when the device manager manages no device with this device's name (or, failing that, its
        address, C(swim_device_uri)), put it under management with C(StartManagingDevice) instead
        of failing. Never in check mode. Without it this module never changes what a device manager manages;
        an unknown device fails with C(UNKNOWN_DEVICE), naming the device, the manager and what to do.
      - The precheck role of the campaigns sets it (it is the first task that reads each device). Ignored over
        NETCONF. See C(docs/inventory.md).
    type: bool
    default: false
"""
