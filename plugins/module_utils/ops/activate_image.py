# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""activate_image: reboot into the standby image (with the device's sanity checks and commit)."""

from __future__ import annotations

from .activation import ARGUMENT_SPEC as _SHARED, boot_standby, precheck, would_boot
from .common import describe

ARGUMENT_SPEC = dict(_SHARED)
VALIDATION_RULES: dict = {}


def run(ctx) -> dict:
    device = ctx.device
    before = device.versions()
    done = precheck(ctx, "ActivateImage", before)
    if done is not None:
        return done
    if ctx.check_mode:
        return would_boot(ctx, before, before.standby_image,
                          f"{device.name}: would reboot into {describe(before.standby_image)}")
    return boot_standby(ctx, "ActivateImage", before, device.activate)
