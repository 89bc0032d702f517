# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""sw_version: read the active and standby images."""

from __future__ import annotations

ARGUMENT_SPEC = {
    "manage": {"type": "bool", "default": False},
    "set_facts": {"type": "bool", "default": False},
}
VALIDATION_RULES: dict = {}


def run(ctx) -> dict:
    versions = ctx.device.versions().as_dict()
    active = versions["active"][0] if versions["active"] else {}
    standby = versions["standby"][0] if versions["standby"] else {}
    result = {
        "changed": False,
        "active": versions["active"],
        "standby": versions["standby"],
        "active_version": active.get("version", ""),
        "standby_version": standby.get("version", ""),
        # Whether the running image is the boot image (NETCONF is-committed; DMI: always, see dmi.py); None
        # when the transport cannot tell. An image that runs uncommitted is not upgraded.
        "committed": active.get("committed"),
        "transport": ctx.params["transport"],
    }
    if ctx.params["set_facts"]:
        result["ansible_facts"] = {"swim_software": {k: result[k] for k in
                                                     ("active", "standby", "active_version", "standby_version")}}
    return result
