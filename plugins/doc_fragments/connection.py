# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What every device module says about its connection (the options: module_utils/connection.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  connect_timeout:
    description:
      - For this task only, the connect window in seconds, instead of the connection's C(timeout) option
        (C(swim_connect_timeout)). The campaign roles pass the plan's per-step timeouts here.
    type: float
  rpc_timeout:
    description:
      - For this task only, the deadline in seconds of one request/response call, instead of the connection's
        C(rpc_timeout) option (C(swim_rpc_timeout)).
    type: float
notes:
  - "Connection: B(escalator.swim.dmi) or B(escalator.swim.netconf) (C(ansible_connection) of the device's
    inventory host). How to reach the device (address, port, user, keys, host key checking, TLS, jump hosts)
    is set there, from the standard variables C(ansible_host), C(ansible_port), C(ansible_user),
    C(ansible_password), C(ansible_private_key_file), C(ansible_host_key_checking) and the C(swim_*) variables;
    see C(ansible-doc -t connection escalator.swim.netconf) and C(ansible-doc -t connection escalator.swim.dmi)."
  - The module runs on the controller, in the Ansible worker process (an action plugin), so no Python is
    needed on the device. A device that does not answer within the connection's connect window ends the task
    as C(unreachable).
  - C(ansible_connection=local) with C(swim_transport) still works, with a deprecation warning.
  - The module has no module-interpreter path; run through C(ansible-playbook) or C(ansible) (its action
    plugin), it fails with a clear message otherwise.
"""
