# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Base of the connection plugins escalator.swim.dmi and escalator.swim.netconf.

PRIVATE to the collection. Modelled on ansible-core's ``local`` connection: the device modules run in
the controller's worker process (their action plugins), so the connection carries no command channel.
What it carries is *how to reach the device*: Ansible fills its options from the standard connection
variables and keywords (``ansible_host``, ``ansible_port``, ``ansible_user``, ...) and from the
``swim_*`` variables, as each plugin's DOCUMENTATION declares them (the single source of that mapping),
and the action plugin asks it for the protocol-neutral Device (plugins/module_utils/device.py).

Non-persistent on purpose: one device session per task, opened in the task's worker. netcommon's
persistent JSON-RPC socket does not fit 30-minute streamed downloads and following a reboot, and the
measured cost per host-task is in docs/performance.md.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase

from ansible_collections.escalator.swim.plugins.module_utils.connection import open_device
from ansible_collections.escalator.swim.plugins.module_utils.device import Device

# connection option -> Device parameter, for the options every device connection has
COMMON_PARAMS = {
    "remote_addr": "host",
    "port": "port",
    "device_name": "device_name",
    "timeout": "connect_timeout",
    "rpc_timeout": "rpc_timeout",
}


class DeviceConnection(ConnectionBase):
    """A device reached over one transport; subclasses set ``DEVICE_TRANSPORT`` and ``PARAMS``."""

    DEVICE_TRANSPORT = ""
    PARAMS: dict[str, str] = {}         # the transport's own options -> Device parameters
    FILE_OPTIONS: frozenset = frozenset()   # options naming a file on the controller (~ expanded)
    has_pipelining = False
    _remote_is_local = True             # (no module ever runs on the device: nothing to discover there)

    def _connect(self):
        # The device session is opened by device(), in the task that needs it: a task that does not
        # talk to the device (set_fact, campaign_status, device_lock) costs nothing.
        self._connected = True
        return self

    def device_params(self, fallback_name: str = "") -> dict:
        """The Device parameters (module_utils/dmi.py, netconf.py) from this connection's options."""
        params = {"transport": self.DEVICE_TRANSPORT}
        for option, param in {**COMMON_PARAMS, **self.PARAMS}.items():
            value = self.get_option(option)
            # an empty variable means "not set" (as swim_* variables always did); the file options are plain
            # strings in DOCUMENTATION because ansible's type path would turn "" into the current directory
            if value == "":
                value = None
            elif option in self.FILE_OPTIONS and isinstance(value, str):
                value = os.path.expanduser(value)
            params[param] = value
        params["host"] = params["host"] or fallback_name      # (an empty ansible_host: the inventory hostname)
        params["device_name"] = params["device_name"] or fallback_name or params["host"]
        return params

    def device(self, params: dict | None = None) -> Device:
        """A new session to the device described by *params* (default: device_params()).

        Raises DeviceError, with ``unreachable`` set when the device never answered in the connect window.
        """
        return open_device(params if params is not None else self.device_params())

    def _refuse(self, what: str):
        raise AnsibleConnectionFailure(
            f"{self.transport}: {what} is not possible: this connection only drives the "
            "escalator.swim device modules (sw_version, download_image, activate_image, revert_image, snapshot); "
            "run other modules with delegate_to: localhost")

    def exec_command(self, cmd, in_data=None, sudoable=True):
        self._refuse("running a command on the device")

    def put_file(self, in_path, out_path):
        self._refuse("copying a file to the device")

    def fetch_file(self, in_path, out_path):
        self._refuse("fetching a file from the device")

    def close(self):
        self._connected = False
