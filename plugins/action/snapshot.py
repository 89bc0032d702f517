# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.snapshot (documentation: plugins/modules/snapshot.py)."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.module_utils.ops import snapshot as operation
from ansible_collections.escalator.swim.plugins.plugin_utils.device_action import DeviceAction


class ActionModule(DeviceAction):
    OPERATION = operation
