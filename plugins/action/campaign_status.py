# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side runner of escalator.swim.campaign_status (documentation: plugins/modules/campaign_status.py)."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.module_utils.ops import campaign_status as operation
from ansible_collections.escalator.swim.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    OPERATION = operation
