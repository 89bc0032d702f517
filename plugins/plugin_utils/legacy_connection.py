# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The device connection of a task: the task's own, or one built for an old-style inventory.

PRIVATE to the collection. Until 0.1.0 an inventory said ``ansible_connection: local`` and picked the
transport with ``swim_transport``. Such a task still works for a deprecation period: the connection plugin
that ``swim_transport`` names is loaded here and its options are filled from the task's variables exactly
as Ansible fills them for ``ansible_connection: escalator.swim.<transport>`` (the plugin's DOCUMENTATION
is the one source of which variable feeds which option), with one deprecation warning per run.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.plugins.loader import connection_loader

from ansible_collections.escalator.swim.plugins.plugin_utils._connection_base import DeviceConnection

TRANSPORTS = ("dmi", "netconf")
DEPRECATION = ("escalator.swim device modules over ansible_connection=local with swim_transport are deprecated: "
               "set ansible_connection to escalator.swim.dmi or escalator.swim.netconf on the device instead "
               "(the other swim_* and ansible_* variables keep their meaning; docs/inventory.md)")


class LegacyConnectionError(Exception):
    """The old-style connection settings cannot be used (the message says why)."""


def device_connection(action, task_vars: dict) -> DeviceConnection:
    """The task's DeviceConnection; for another connection (``local``), the one ``swim_transport`` names."""
    if isinstance(action._connection, DeviceConnection):
        return action._connection
    transport = action._var(task_vars, "swim_transport") or "dmi"
    if transport not in TRANSPORTS:
        raise LegacyConnectionError(f"unknown swim_transport {transport!r}; expected dmi or netconf "
                                    "(better: ansible_connection escalator.swim.dmi or escalator.swim.netconf)")
    action._display.deprecated(DEPRECATION, version="1.0.0", collection_name="escalator.swim")
    connection = connection_loader.get(f"escalator.swim.{transport}", action._play_context)
    names = C.config.get_plugin_vars("connection", connection._load_name)
    variables = {name: action._templar.template(task_vars[name]) for name in names if name in task_vars}
    keywords = {"timeout": action._play_context.timeout}
    if action._play_context.password:
        keywords["password"] = action._play_context.password
    try:
        connection.set_options(task_keys=keywords, var_options=variables)
    except (AnsibleError, TypeError, ValueError) as exc:
        raise LegacyConnectionError(f"invalid connection settings for escalator.swim.{transport}: {exc}") from None
    return connection
