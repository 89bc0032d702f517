# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: netconf
short_description: Reach a device over NETCONF (SSH) with the BBF TR-383 bbf-software-management model
version_added: 0.1.0
description:
  - Connection of the escalator.swim device modules (M(escalator.swim.sw_version), M(escalator.swim.download_image),
    M(escalator.swim.activate_image), M(escalator.swim.revert_image), M(escalator.swim.snapshot)) to a NETCONF device.
    Set C(ansible_connection=escalator.swim.netconf) on the device's inventory host. C(docs/netconf.md) explains
    how the model maps onto the active/standby view.
  - The modules run on the controller, in the task's worker process; this connection opens one NETCONF session
    (ncclient over paramiko) per task (non-persistent). It cannot run commands or copy files; run other modules
    with C(delegate_to=localhost).
  - This is not C(ansible.netcommon.netconf); it drives the escalator.swim modules only, and needs no
    persistent connection daemon.
author:
  - escalator.swim maintainers (@escalator-swim)
extends_documentation_fragment:
  - escalator.swim.device_connection
options:
  port:
    description:
      - TCP port of the device's NETCONF SSH server.
    type: int
    default: 830
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
  remote_user:
    description:
      - SSH user. Also read from an O(ssh_config) C(User) entry when not set.
    type: str
    ini:
      - section: defaults
        key: remote_user
    env:
      - name: ANSIBLE_REMOTE_USER
    vars:
      - name: ansible_user
      - name: swim_username
    keyword:
      - name: remote_user
  password:
    description:
      - SSH password. Prefer Ansible Vault or an AWX machine credential; the value never appears in results.
    type: str
    vars:
      - name: ansible_password
      - name: ansible_ssh_pass
      - name: ansible_ssh_password
      - name: swim_password
  private_key_file:
    description:
      - SSH private key file (RSA, ECDSA or Ed25519).
    type: str
    ini:
      - section: defaults
        key: private_key_file
    env:
      - name: ANSIBLE_PRIVATE_KEY_FILE
    vars:
      - name: ansible_private_key_file
      - name: ansible_ssh_private_key_file
      - name: swim_ssh_key_file
  host_key_checking:
    description:
      - Verify the device's SSH host key against O(known_hosts_file). Only disable it in a lab.
      - A key that differs from the recorded one fails with C(HOST_KEY_MISMATCH), a host that is not recorded with
        C(HOST_KEY_UNKNOWN).
    type: bool
    default: true
    ini:
      - section: defaults
        key: host_key_checking
    env:
      - name: ANSIBLE_HOST_KEY_CHECKING
    vars:
      - name: ansible_host_key_checking
      - name: ansible_ssh_host_key_checking
      - name: swim_host_key_checking
  known_hosts_file:
    description:
      - OpenSSH known_hosts file used to verify host keys (entries C([host]:port keytype base64) for a port other
        than 22). Defaults to an O(ssh_config) C(UserKnownHostsFile), else C(~/.ssh/known_hosts).
    type: str
    vars:
      - name: swim_known_hosts_file
  ssh_config:
    description:
      - OpenSSH client config file. The device's C(Host) block gives C(HostName), C(Port), C(User),
        C(IdentityFile), C(UserKnownHostsFile), C(ProxyJump) and C(ProxyCommand) where the options here do not.
    type: str
    env:
      - name: ANSIBLE_NETCONF_SSH_CONFIG
    vars:
      - name: ansible_netconf_ssh_config
      - name: swim_ssh_config
  proxy_jump:
    description:
      - Jump hosts in OpenSSH C(ProxyJump) syntax, C([user@]host[:port]), several separated by commas. Their host
        keys are checked like the device's.
    type: str
    vars:
      - name: swim_proxy_jump
  component:
    description:
      - Name of the C(ietf-hardware) component whose software is managed (for example C(Chassis) or C(olt-board)).
        When not set, every component is read and the one that has software is used; set it when the device
        manages software on several components.
    type: str
    vars:
      - name: swim_netconf_component
  software:
    description:
      - Name of the software entry below the component (for example C(application-software)). Needed only when
        the component has several.
    type: str
    vars:
      - name: swim_netconf_software
  commit:
    description:
      - After a successful activate (the device restarted into the new revision and it is active), send the model's
        C(commit) action so that the revision is also the one the device boots next.
      - With V(false) the new revision runs but is not committed; the device boots its committed (previous) revision
        at its next restart (a trial activation). DMI device managers always commit, so V(true) gives the same
        behaviour on both transports.
    type: bool
    default: true
    vars:
      - name: swim_netconf_commit
notes:
  - Earlier releases used C(ansible_connection=local) with C(swim_transport=netconf); that still works, with a
    deprecation warning, and reads the options above from the same variables.
"""

EXAMPLES = r"""
# inventory.yml
all:
  children:
    olts:
      vars:
        ansible_connection: escalator.swim.netconf
        ansible_user: netconf
        ansible_private_key_file: ~/.ssh/olt_ed25519
        swim_known_hosts_file: /etc/swim/known_hosts
      hosts:
        olt-101:
          ansible_host: 192.0.2.11
          ansible_port: 830
        olt-102:
          ansible_host: 192.0.2.12
          swim_proxy_jump: bastion@192.0.2.1
"""

from ansible_collections.escalator.swim.plugins.plugin_utils._connection_base import DeviceConnection


class Connection(DeviceConnection):
    """Device parameters for module_utils/netconf.py (SSH settings: module_utils/netconf_ssh.py)."""

    transport = "escalator.swim.netconf"
    DEVICE_TRANSPORT = "netconf"
    FILE_OPTIONS = frozenset({"private_key_file", "known_hosts_file", "ssh_config"})
    PARAMS = {
        "remote_user": "username",
        "password": "password",
        "private_key_file": "ssh_key_file",
        "host_key_checking": "host_key_checking",
        "known_hosts_file": "known_hosts_file",
        "ssh_config": "ssh_config",
        "proxy_jump": "proxy_jump",
        "component": "netconf_component",
        "software": "netconf_software",
        "commit": "netconf_commit",
    }
