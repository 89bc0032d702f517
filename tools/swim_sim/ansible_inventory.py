"""The Ansible inventory a fleet writes (the contract the collection relies on)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import yaml

FLEET_GROUP = "swim_fleet"


def host_vars(device: dict) -> dict:
    """The device's connection (escalator.swim.dmi / escalator.swim.netconf) in standard variables where
    Ansible has them; the transport's own settings in its swim_* variables (ansible-doc -t connection)."""
    variables = {
        "ansible_connection": f"escalator.swim.{device['transport']}",
        "ansible_host": "127.0.0.1",
        "ansible_port": device["port"],
        "swim_device_name": device["name"],
    }
    if device["transport"] == "dmi":
        variables["swim_device_uuid"] = device["uuid"]
    variables.update(device.get("host_vars", {}))  # NETCONF: ansible_user, ansible_password, swim_known_hosts_file
    return variables


def inventory_document(devices: Iterable[dict], groups: list[str] | None = None,
                       extra_vars: dict | None = None) -> dict:
    devices = list(devices)
    fleet: dict = {}
    if groups:
        fleet["children"] = {
            group: {"hosts": {d["name"]: host_vars(d) for d in devices if d.get("group") == group}}
            for group in groups
        }
    else:
        fleet["hosts"] = {d["name"]: host_vars(d) for d in devices}
    return {
        "all": {
            "vars": {
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                **(extra_vars or {}),  # e.g. swim_tls, swim_ca_cert, ... of a TLS fleet
            },
            "children": {FLEET_GROUP: fleet},
        }
    }


def write_inventory(path: str | Path, devices: Iterable[dict], groups: list[str] | None = None,
                    extra_vars: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Written by swim-sim fleet; regenerated at every start.\n" + yaml.safe_dump(
        inventory_document(devices, groups, extra_vars), sort_keys=False, default_flow_style=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path
