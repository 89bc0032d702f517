# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.activate_image (documentation: plugins/modules/activate_image.py)."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.module_utils.ops import activate_image as operation
from ansible_collections.escalator.swim.plugins.plugin_utils.device_action import DeviceAction


class ActionModule(DeviceAction):
    OPERATION = operation
