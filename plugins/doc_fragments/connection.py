# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Connection options shared by every device module (argument spec: module_utils/connection.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  transport:
    description:
      - How the controller talks to the device.
      - V(dmi) is the VOLTHA Device Management Interface over gRPC; V(netconf) is NETCONF over SSH with the
        BBF TR-383 C(bbf-software-management) YANG model (see C(docs/netconf.md) for how it maps onto the
        active/standby view).
      - When not set on the task, taken from the inventory variable C(swim_transport).
    type: str
    choices: [dmi, netconf]
    default: dmi
  host:
    description:
      - Address of the device manager (DMI) or of the device (NETCONF).
      - When not set on the task, taken from C(swim_host), then C(ansible_host), then the inventory hostname.
    type: str
    required: true
  port:
    description:
      - TCP port. Defaults to 50051 for V(dmi) and 830 for V(netconf).
      - When not set on the task, taken from C(swim_port).
    type: int
  device_name:
    description:
      - Name of the device as the device manager knows it; used in every message.
      - When not set on the task, taken from C(swim_device_name), then the inventory hostname.
    type: str
    required: true
  device_uuid:
    description:
      - DMI uuid of the device. When not given it is looked up among the manager's managed devices by
        O(device_name), and failing that the device is put under management with C(StartManagingDevice)
        using O(device_uri).
      - When not set on the task, taken from C(swim_device_uuid).
    type: str
  device_uri:
    description:
      - Address of the device itself, given to C(StartManagingDevice) when the manager does not manage it yet.
        Defaults to O(host). From C(swim_device_uri).
    type: str
  connect_timeout:
    description:
      - Seconds a single request keeps retrying, with back-off, while the device is unreachable
        (for instance rebooting). From C(swim_connect_timeout).
    type: float
    default: 10.0
  rpc_timeout:
    description:
      - Deadline in seconds of one request/response call. From C(swim_rpc_timeout).
    type: float
    default: 30.0
  tls:
    description:
      - Use TLS for the DMI gRPC channel. From C(swim_tls).
    type: bool
    default: false
  ca_cert:
    description:
      - PEM file of the CA that signed the device manager's certificate (DMI with O(tls)). From C(swim_ca_cert).
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS (DMI). From C(swim_client_cert).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert). From C(swim_client_key).
    type: path
  tls_server_name:
    description:
      - Name expected in the device manager's certificate when it differs from O(host). From C(swim_tls_server_name).
    type: str
  username:
    description:
      - SSH user (NETCONF). From C(swim_username), then C(ansible_user).
    type: str
  password:
    description:
      - SSH password (NETCONF). From C(swim_password), then C(ansible_password). Prefer Ansible Vault or an
        AWX credential; the value never appears in results.
    type: str
  ssh_key_file:
    description:
      - SSH private key file (NETCONF). From C(swim_ssh_key_file), then C(ansible_ssh_private_key_file).
    type: path
  host_key_checking:
    description:
      - Verify the device's SSH host key against O(known_hosts_file) (NETCONF). Only disable it in a lab.
        From C(swim_host_key_checking).
    type: bool
    default: true
  known_hosts_file:
    description:
      - OpenSSH known_hosts file used to verify NETCONF host keys (entries C([host]:port keytype base64) for a
        port other than 22); defaults to C(~/.ssh/known_hosts). A key that differs from the recorded one fails with
        C(HOST_KEY_MISMATCH), a host that is not recorded with C(HOST_KEY_UNKNOWN). From C(swim_known_hosts_file).
    type: path
  netconf_component:
    description:
      - NETCONF only. Name of the C(ietf-hardware) component whose software is managed (for example C(Chassis)
        or C(olt-board)). When not set, the collection reads every component and uses the one that has software;
        set it when the device manages software on several components. From C(swim_netconf_component).
    type: str
  netconf_software:
    description:
      - NETCONF only. Name of the software entry below the component (for example C(application-software)).
        Needed only when the component has several. From C(swim_netconf_software).
    type: str
  netconf_commit:
    description:
      - NETCONF only. After a successful C(activate) (the device restarted into the new revision and it is
        active), send the model's C(commit) action so that the revision is also the one the device boots next.
      - With V(false) the new revision runs but is not committed; the device boots its committed (previous)
        revision at its next restart (a trial activation). DMI device managers always commit, so V(true) gives
        the same behaviour on both transports.
      - From C(swim_netconf_commit).
    type: bool
    default: true
notes:
  - The module runs on the controller, in the Ansible worker process (an action plugin), so no Python is
    needed on the device and the play needs no connection to it; C(ansible_connection=local) is typical.
  - Connection options are normally left out of tasks and come from inventory variables (C(swim_*)), or once
    per play through C(module_defaults) with the action group C(group/escalator.swim.device).
"""
