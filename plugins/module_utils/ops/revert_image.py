# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""revert_image: boot the standby image without sanity checks (back to the previous software)."""

from __future__ import annotations

from ..device import DeviceError
from .activation import ARGUMENT_SPEC as _SHARED, boot_standby, precheck, would_boot
from .common import describe

ARGUMENT_SPEC = dict(_SHARED)
VALIDATION_RULES: dict = {}


def run(ctx) -> dict:
    device = ctx.device
    before = device.versions()
    done = precheck(ctx, "RevertToStandbyImage", before)
    if done is not None:
        return done
    standby = before.standby_image
    # Reverting skips the sanity checks, so only a committed (known good) image may be booted.
    # DMI does not expose the committed flag: there the device manager itself refuses
    # (DEVICE_IN_WRONG_STATE), and the module reports that refusal.
    if standby.committed is False:
        raise DeviceError(device.name, "RevertToStandbyImage", "NOT_KNOWN_GOOD",
                          f"standby image {describe(standby)} is not committed (not a known good image); "
                          "refusing to boot it without sanity checks", transport=device.transport)
    if ctx.check_mode:
        return would_boot(ctx, before, standby,
                          f"{device.name}: would revert to {describe(standby)} ({device.revert_steps})")
    return boot_standby(ctx, "RevertToStandbyImage", before, device.revert)
