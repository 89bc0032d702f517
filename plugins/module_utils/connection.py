# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The transport factory, and the connection settings a device task may override.

PRIVATE to the collection. How to reach a device is the task's connection (plugins/connection/dmi.py,
netconf.py): their DOCUMENTATION declares every option and the variables that feed it.
"""

from __future__ import annotations

from .device import Device, DeviceError

# Options of the device modules themselves: a campaign step's timeouts, for this task only
# (documented in the doc fragment escalator.swim.connection).
TASK_CONNECTION_ARGSPEC = {
    "connect_timeout": {"type": "float"},
    "rpc_timeout": {"type": "float"},
}

TRANSPORTS = ("dmi", "netconf")


def open_device(params: dict) -> Device:
    """Connect to the device described by the Device parameters *params* (a connection's device_params()).

    Transports are imported here, lazily, so a DMI-only run never imports ncclient and a
    NETCONF-only run never imports grpc.
    """
    transport = params.get("transport") or "dmi"
    name = params.get("device_name") or params.get("host") or "?"
    try:
        if transport == "dmi":
            from . import dmi as implementation
        elif transport == "netconf":
            from . import netconf as implementation
        else:
            raise DeviceError(name, "connect", "ERROR_IN_REQUEST",
                              f"unknown transport {transport!r}; expected one of {', '.join(TRANSPORTS)}")
    except ImportError as exc:
        raise DeviceError(name, "connect", "MISSING_LIBRARY",
                          f"the {transport} transport needs a Python library that is not installed: {exc}")
    return implementation.open_device(params)
