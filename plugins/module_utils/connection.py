# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""How a task reaches its device: the shared connection options and the transport factory.

PRIVATE to the collection. The options are documented once, in the doc fragment
``escalator.swim.connection``; keep the two in lockstep.
"""

from __future__ import annotations

from .device import Device, DeviceError

CONNECTION_ARGSPEC = {
    "transport": {"type": "str", "choices": ["dmi", "netconf"], "default": "dmi"},
    "host": {"type": "str", "required": True},
    "port": {"type": "int"},
    "device_name": {"type": "str", "required": True},
    "device_uuid": {"type": "str"},
    "device_uri": {"type": "str"},
    "connect_timeout": {"type": "float", "default": 10.0},
    "rpc_timeout": {"type": "float", "default": 30.0},
    "tls": {"type": "bool", "default": False},
    "ca_cert": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": False},
    "tls_server_name": {"type": "str"},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "ssh_key_file": {"type": "path", "no_log": False},
    "host_key_checking": {"type": "bool", "default": True},
    "known_hosts_file": {"type": "path"},
    "netconf_component": {"type": "str"},
    "netconf_software": {"type": "str"},
    "netconf_commit": {"type": "bool", "default": True},
}

# Where the action plugin finds each connection option when a task does not pass it:
# inventory (host/group) variables, first match wins. ``inventory_hostname`` is the last resort
# for the device name, so a plain inventory needs nothing but ansible_host and swim_port.
CONNECTION_VARS = {
    "transport": ["swim_transport"],
    "host": ["swim_host", "ansible_host", "inventory_hostname"],
    "port": ["swim_port"],
    "device_name": ["swim_device_name", "inventory_hostname"],
    "device_uuid": ["swim_device_uuid"],
    "device_uri": ["swim_device_uri"],
    "connect_timeout": ["swim_connect_timeout"],
    "rpc_timeout": ["swim_rpc_timeout"],
    "tls": ["swim_tls"],
    "ca_cert": ["swim_ca_cert"],
    "client_cert": ["swim_client_cert"],
    "client_key": ["swim_client_key"],
    "tls_server_name": ["swim_tls_server_name"],
    "username": ["swim_username", "ansible_user"],
    "password": ["swim_password", "ansible_password"],
    "ssh_key_file": ["swim_ssh_key_file", "ansible_ssh_private_key_file"],
    "host_key_checking": ["swim_host_key_checking"],
    "known_hosts_file": ["swim_known_hosts_file"],
    "netconf_component": ["swim_netconf_component"],
    "netconf_software": ["swim_netconf_software"],
    "netconf_commit": ["swim_netconf_commit"],
}

TRANSPORTS = ("dmi", "netconf")


def connection_params(params: dict) -> dict:
    return {key: params.get(key) for key in CONNECTION_ARGSPEC}


def open_device(params: dict) -> Device:
    """Connect to the device described by the connection options in *params*.

    Transports are imported here, lazily, so a DMI-only run never imports ncclient and a
    NETCONF-only run never imports grpc (explicit imports, so AnsiballZ still bundles them).
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
