# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What activate_image and revert_image share: boot the standby, follow the reboot, verify."""

from __future__ import annotations

from dataclasses import replace

from ..device import DeviceError, Image, SoftwareVersions
from .common import check_image_args, describe, partitions_diff, predicted_diff, reported_like

# Options of both modules; each adds its own.
ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "version": {"type": "str"},
    "timeout": {"type": "float", "default": 900.0},
    "stall_timeout": {"type": "float"},
}


def boot_standby(ctx, operation: str, before: SoftwareVersions, start) -> dict:
    """Run *start* (the transport's activate or revert), then prove which image the device runs."""
    device = ctx.device
    target, previous = before.standby_image, before.active_image
    budget = ctx.budget()
    result = {"changed": True, "before": before.as_dict()}
    try:
        history = start(budget, ctx.on_status)
    except DeviceError as exc:
        if not exc.history:  # refused before anything happened: the device is untouched
            raise
        # The device rebooted and says it failed: find out which image it is running now.
        after = _settled(device, budget, operation, exc.history)
        running = after.active_image
        exc.extra.update(changed=True, after=after.as_dict(), fell_back_to=running.as_dict() if running else None)
        exc.detail = f"{exc.detail}; device is running {describe(running)}".lstrip("; ")
        exc.args = (exc.msg,)
        raise
    after = _settled(device, budget, operation, history)
    running = after.active_image
    result.update(after=after.as_dict(), status_history=[e.as_dict() for e in history],
                  final_state=history[-1].state if history else "")
    if running is not None and target is not None and running.same_as(target.name, target.version):
        result["msg"] = f"{device.name}: {describe(running)} is now active"
        if ctx.diff:
            result["diff"] = partitions_diff(before, after)
        return result
    # The device reported success (no fallback, no failure: those raise above) yet does not run the
    # target: say what it reported and what it runs, never that it "fell back".
    reported = history[-1].state if history else "no status"
    still = running is not None and previous is not None and running.same_as(previous.name, previous.version)
    raise DeviceError(device.name, operation, "UNEXPECTED_IMAGE",
                      f"the device reported {reported} but runs {describe(running)}, not {describe(target)}"
                      + (" (still its previous image; it reported no fallback)" if still else ""),
                      transport=device.transport, history=history,
                      extra={"changed": True, "after": after.as_dict(), "fell_back_to": None})


def booted(device, before: SoftwareVersions, target: Image) -> SoftwareVersions:
    """The partitions once *target* (in standby) booted and was committed: active and standby swapped."""
    running = before.active_image
    active = reported_like(device, "active", target.name, target.version, committed=True, sha256=target.sha256)
    # the image running now goes to standby, known good as it is (it ran)
    previous = () if running is None else (reported_like(
        device, "standby", running.name, running.version, committed=running.committed is not False,
        valid=running.valid is not False, sha256=running.sha256),)
    return SoftwareVersions(active=(active,) + before.active[1:], standby=previous + before.standby[1:])


def would_boot(ctx, before: SoftwareVersions, target: Image, msg: str) -> dict:
    """The check-mode result of an activate/revert: what would change, and the diff of the swap."""
    return {"changed": True, "before": before.as_dict(), "msg": msg,
            **predicted_diff(ctx, before, booted(ctx.device, before, target))}


def _settled(device, budget, operation, history) -> SoftwareVersions:
    try:
        return device.wait_until_reachable(budget, operation)
    except DeviceError as exc:
        exc.history = history
        exc.extra.setdefault("changed", True)
        exc.detail = f"after the reboot: {exc.detail}"
        exc.args = (exc.msg,)
        raise


def precheck(ctx, operation: str, before: SoftwareVersions) -> dict | None:
    """Idempotence and guards shared by activate/revert; a result means "nothing to do"."""
    check_image_args(ctx.params)
    device = ctx.device
    name, version = ctx.params.get("name"), ctx.params.get("version")
    active, standby = before.active_image, before.standby_image
    if version and active is not None and active.same_as(name, version) and active.committed is False \
            and operation == "ActivateImage":
        # Running but not the boot image (a controller died between activate and commit): not upgraded, a
        # power cycle would bring the old image back. Commit it now (the postcheck follows; a failed one reverts).
        return commit_running(ctx, before)
    if version and active is not None and active.same_as(name, version):
        return {"changed": False, "before": before.as_dict(), "after": before.as_dict(),
                "msg": f"{device.name}: {describe(active)} is already active"}
    if standby is None:
        raise DeviceError(device.name, operation, "NO_STANDBY_IMAGE", "the device reports no standby image",
                          transport=device.transport)
    if version and not standby.same_as(name, version):
        if ctx.check_mode:  # a dry run predicts: the download before this task did not really happen
            return would_boot(ctx, before, Image(name or standby.name, version),
                              f"{device.name}: would reboot into {name + ' ' if name else ''}{version} once it is in "
                              f"standby (standby now holds {describe(standby)})")
        raise DeviceError(device.name, operation, "VERSION_MISMATCH",
                          f"standby holds {describe(standby)}, not {name + ' ' if name else ''}{version}",
                          transport=device.transport)
    if standby.valid is False:
        raise DeviceError(device.name, operation, "STANDBY_NOT_VALID",
                          f"standby image {describe(standby)} is not valid", transport=device.transport)
    return None


def commit_running(ctx, before) -> dict:
    """The target runs but is not committed: commit it (a re-run after a controller died before the commit)."""
    device = ctx.device
    if ctx.check_mode:
        running = before.active_image
        committed = SoftwareVersions(active=(replace(running, committed=True),) + before.active[1:],
                                     standby=before.standby)
        return {"changed": True, "before": before.as_dict(), **predicted_diff(ctx, before, committed),
                "msg": f"{device.name}: would commit {describe(running)} (running, not committed)"}
    if not hasattr(device, "commit_running_image"):
        raise DeviceError(device.name, "ActivateImage", "NOT_COMMITTED",
                          f"{describe(before.active_image)} runs but is not committed, and {device.transport} "
                          "has no commit", transport=device.transport)
    history = device.commit_running_image(ctx.budget(), ctx.on_status)
    after = device.versions()
    running = after.active_image
    if running is None or running.committed is False:
        raise DeviceError(device.name, "ActivateImage", "NOT_COMMITTED",
                          f"after the commit the device runs {describe(running)}, still not committed",
                          transport=device.transport, history=history, extra={"changed": True})
    return {"changed": True, "before": before.as_dict(), "after": after.as_dict(),
            "status_history": [e.as_dict() for e in history],
            "msg": f"{device.name}: {describe(running)} was running uncommitted; now committed"}
