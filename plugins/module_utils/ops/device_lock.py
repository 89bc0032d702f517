# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""device_lock: one campaign per device at a time; list a campaign's locks and release stale ones."""

from __future__ import annotations

from ..campaign_record import RecordError, acquire_lock, list_locks, lock_holder, release_lock
from ..device import DeviceError
from .common import ArgumentError

ARGUMENT_SPEC = {
    "lock_dir": {"type": "path", "required": True},
    "campaign_id": {"type": "str", "required": True},
    "device": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent", "query", "released"], "default": "present"},
    "force": {"type": "bool", "default": False},
}
VALIDATION_RULES = {"required_if": [("state", "present", ("device",)), ("state", "absent", ("device",))]}
TASK_VARS = {"lock_dir": ["swim_lock_dir"], "campaign_id": ["swim_campaign_id"], "device": ["inventory_hostname"]}


def run(ctx) -> dict:
    params = ctx.params
    if params["state"] in ("query", "released"):
        return _campaign_locks(ctx)
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
            holder = lock_holder(lock_dir, device)
            return {"changed": holder == campaign or (params["force"] and holder is not None), "holder": None}
        holder = lock_holder(lock_dir, device)
        return {"changed": release_lock(lock_dir, device, campaign, params["force"]), "holder": None,
                "released": [{"device": device, "holder": holder}] if holder else []}
    except (RecordError, OSError) as exc:
        raise DeviceError(device, "lock" if params["state"] == "present" else "unlock", "LOCKED", str(exc))


def _campaign_locks(ctx) -> dict:
    """query: every lock (the campaign's own marked); released: release the campaign's locks (every lock with force)."""
    params = ctx.params
    campaign = params["campaign_id"]
    try:
        locks = list_locks(params["lock_dir"])
        if params["state"] == "query":
            return {"changed": False, "locks": locks,
                    "own": [lock["device"] for lock in locks if lock.get("campaign") == campaign]}
        chosen = [lock for lock in locks if params["force"] or lock.get("campaign") == campaign]
        if ctx.check_mode:
            return {"changed": bool(chosen), "released": chosen, "locks": locks}
        released = [lock for lock in chosen if release_lock(params["lock_dir"], lock["device"], campaign, True)]
    except (RecordError, OSError) as exc:
        raise ArgumentError(f"locks in {params['lock_dir']}: {exc}")
    return {"changed": bool(released), "released": released, "locks": list_locks(params["lock_dir"]),
            "msg": f"campaign {campaign} released {len(released)} lock(s)"
                   + (f": {', '.join(lock['device'] + ' (held by ' + str(lock.get('campaign')) + ')' for lock in released)}"
                      if released else "")}
