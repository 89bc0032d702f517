# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Options every device connection plugin (escalator.swim.dmi, escalator.swim.netconf) has.

Ansible fills them from the variables, keywords, environment and ansible.cfg entries listed here: this
and the plugins' own DOCUMENTATION are the only place that says which variable feeds which option. When
several variables of one option are set, the one listed last wins (the C(swim_*) names of earlier
releases, so that an inventory that sets both keeps its meaning).
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  remote_addr:
    description:
      - Address of the device manager (DMI) or of the device (NETCONF).
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: swim_host
  device_name:
    description:
      - Name of the device as its device manager knows it; used in every message. Defaults to the inventory
        hostname.
    type: str
    vars:
      - name: inventory_hostname
      - name: swim_device_name
  timeout:
    description:
      - Connect window in seconds. A request keeps retrying, with back-off, for this long while the device is
        unreachable (for instance rebooting). A device that never answered in this window ends the task as
        C(unreachable).
    type: float
    default: 10
    ini:
      - section: defaults
        key: timeout
    env:
      - name: ANSIBLE_TIMEOUT
    vars:
      - name: swim_connect_timeout
    keyword:
      - name: timeout
  rpc_timeout:
    description:
      - Deadline in seconds of one request/response call.
    type: float
    default: 30
    vars:
      - name: swim_rpc_timeout
"""
