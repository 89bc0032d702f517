# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.download_image (documentation: plugins/modules/download_image.py)."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.module_utils.ops import download_image as operation
from ansible_collections.escalator.swim.plugins.plugin_utils.device_action import DeviceAction


class ActionModule(DeviceAction):
    OPERATION = operation
