# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""device_lock: one campaign per device at a time."""

from __future__ import annotations

from ..campaign_record import RecordError, acquire_lock, lock_holder, release_lock
from ..device import DeviceError

ARGUMENT_SPEC = {
    "lock_dir": {"type": "path", "required": True},
    "campaign_id": {"type": "str", "required": True},
    "device": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
VALIDATION_RULES: dict = {}
TASK_VARS = {"lock_dir": ["swim_lock_dir"], "campaign_id": ["swim_campaign_id"], "device": ["inventory_hostname"]}


def run(ctx) -> dict:
    params = ctx.params
    lock_dir, device, campaign = params["lock_dir"], params["device"], params["campaign_id"]
    try:
        if params["state"] == "present":
            holder = lock_holder(lock_dir, device)
            if ctx.check_mode:
                if holder not in (None, campaign):
                    raise RecordError(f"{device} is locked by campaign {holder!r}")
                return {"changed": holder is None, "holder": campaign}
            taken = acquire_lock(lock_dir, device, campaign)
            return {"changed": taken, "holder": campaign}
        if ctx.check_mode:
            return {"changed": lock_holder(lock_dir, device) == campaign, "holder": None}
        return {"changed": release_lock(lock_dir, device, campaign), "holder": None}
    except (RecordError, OSError) as exc:
        raise DeviceError(device, "lock" if params["state"] == "present" else "unlock", "LOCKED", str(exc))
