# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Attribute descriptions shared by the collection's modules; each module states its own support level."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying the device.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
  idempotent:
    description: A second run with the same arguments, after a successful first run, reports no change.
  action_group:
    description: Use C(group/escalator.swim.device) in C(module_defaults) to set connection options once for all modules.
    support: full
    membership:
      - escalator.swim.device
"""
