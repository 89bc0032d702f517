# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.device_lock (documentation: plugins/modules/device_lock.py)."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.module_utils.ops import device_lock as operation
from ansible_collections.escalator.swim.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    OPERATION = operation
