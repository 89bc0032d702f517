# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: dmi
short_description: Reach a device through its VOLTHA Device Management Interface (DMI, gRPC) manager
version_added: 0.1.0
description:
  - Connection of the escalator.swim device modules (M(escalator.swim.sw_version), M(escalator.swim.download_image),
    M(escalator.swim.activate_image), M(escalator.swim.revert_image), M(escalator.swim.snapshot)) to a device managed
    over DMI. Set C(ansible_connection=escalator.swim.dmi) on the device's inventory host.
  - The modules run on the controller, in the task's worker process; this connection opens one gRPC channel
    to the device manager per task (non-persistent). It cannot run commands or copy files; run other modules
    with C(delegate_to=localhost).
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.device_connection
options:
  port:
    description:
      - TCP port of the device manager's gRPC server.
    type: int
    default: 50051
    ini:
      - section: defaults
        key: remote_port
    env:
      - name: ANSIBLE_REMOTE_PORT
    vars:
      - name: ansible_port
      - name: swim_port
    keyword:
      - name: port
  device_uuid:
    description:
      - DMI uuid of the device. When not given it is looked up among the manager's managed devices by
        O(device_name), else by O(device_uri) when that is given and exactly one managed device has it; the uuid
        found is kept for the run's later tasks (host fact C(swim_dmi_device)).
      - A device the manager does not manage is put under management with C(StartManagingDevice) only by a task
        that may change the device, never in check mode (M(escalator.swim.download_image), and
        M(escalator.swim.sw_version) or M(escalator.swim.snapshot) with C(manage=true)); other tasks fail with
        C(UNKNOWN_DEVICE) saying what to do. See C(docs/inventory.md).
    type: str
    vars:
      - name: swim_device_uuid
  device_uri:
    description:
      - Address of the device itself. It finds the device among the managed ones when the manager knows it under
        another name, and is given to C(StartManagingDevice) when the manager does not manage it yet.
        Defaults to O(remote_addr) (the manager's address, which does not identify a device in the lookup).
    type: str
    vars:
      - name: swim_device_uri
  tls:
    description:
      - Use TLS for the gRPC channel.
    type: bool
    default: false
    vars:
      - name: swim_tls
  ca_cert:
    description:
      - PEM file of the CA that signed the device manager's certificate (with O(tls)).
    type: str
    vars:
      - name: swim_ca_cert
  client_cert:
    description:
      - PEM client certificate for mutual TLS; goes with O(client_key).
    type: str
    vars:
      - name: swim_client_cert
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: str
    vars:
      - name: swim_client_key
  tls_server_name:
    description:
      - Name expected in the device manager's certificate when it differs from O(remote_addr).
    type: str
    vars:
      - name: swim_tls_server_name
notes:
  - Earlier releases used C(ansible_connection=local) with C(swim_transport=dmi); that still works, with a
    deprecation warning, and reads the options above from the same variables.
"""

EXAMPLES = r"""
# inventory.yml
all:
  children:
    olts:
      vars:
        ansible_connection: escalator.swim.dmi
      hosts:
        olt-001:
          ansible_host: dm1.example.net     # the device manager
          ansible_port: 50051
          swim_device_uuid: 6f1d2c1e-0d57-4f5a-9f6a-1c2b3d4e5f60   # optional: looked up by name otherwise
"""

from ansible_collections.escalator.swim.plugins.plugin_utils._connection_base import DeviceConnection


class Connection(DeviceConnection):
    """Device parameters for module_utils/dmi.py."""

    transport = "escalator.swim.dmi"
    DEVICE_TRANSPORT = "dmi"
    FILE_OPTIONS = frozenset({"ca_cert", "client_cert", "client_key"})
    PARAMS = {
        "device_uuid": "device_uuid",
        "device_uri": "device_uri",
        "tls": "tls",
        "ca_cert": "ca_cert",
        "client_cert": "client_cert",
        "client_key": "client_key",
        "tls_server_name": "tls_server_name",
    }
