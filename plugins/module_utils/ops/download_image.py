# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""download_image: download and install an image into the standby partition."""

from __future__ import annotations

from ..device import DeviceError, ImageSpec, SoftwareVersions
from ..redaction import redact_url
from .common import check_image_args, describe, partitions_diff, predicted_diff, reported_like

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "version": {"type": "str", "required": True},
    "url": {"type": "str", "required": True},
    "sha256": {"type": "str", "required": True},
    "install_script": {"type": "str", "default": ""},
    "force": {"type": "bool", "default": False},
    "timeout": {"type": "float", "default": 1800.0},
    "stall_timeout": {"type": "float", "default": 300.0},
}
VALIDATION_RULES: dict = {}
# DMI: a download changes the device anyway; it may put a device the manager does not know under management
# (not in check mode). Read-only modules do so only with manage: true (module_utils/dmi_managed.py).
MANAGES_DEVICE = True


def run(ctx) -> dict:
    params = ctx.params
    check_image_args(params)
    image = ImageSpec(name=params["name"], version=params["version"], url=params["url"],
                      sha256=params["sha256"].lower(), install_script=params["install_script"] or "")
    device = ctx.device
    before = device.versions()
    result = {"changed": False, "image": {"name": image.name, "version": image.version,
                                          "url": redact_url(image.url), "sha256": image.sha256},
              "before": before.as_dict(), "after": before.as_dict(), "status_history": []}
    active, standby = before.active_image, before.standby_image
    if not params["force"]:
        if active is not None and active.same_as(image.name, image.version):
            result["msg"] = f"{device.name}: {describe(active)} is already the active image; nothing to download"
            return result
        # A standby whose reported digest differs (a corrupted transfer over NETCONF) is downloaded again.
        if standby is not None and standby.same_as(image.name, image.version) and standby.valid is not False \
                and standby.sha256 in (None, image.sha256):
            result["msg"] = f"{device.name}: {describe(standby)} is already installed in standby"
            return result
    if ctx.check_mode:
        result.update(changed=True, msg=f"{device.name}: would download {image.name} {image.version} into standby "
                                        f"(replacing {describe(standby)})")
        # a successful download leaves the target in standby: valid, not yet committed (the device reports it so)
        predicted = SoftwareVersions(active=before.active, standby=(reported_like(
            device, "standby", image.name, image.version, committed=False, sha256=image.sha256),))
        result.update(predicted_diff(ctx, before, predicted, which=("standby",)))
        return result
    history = device.download(image, ctx.budget(), ctx.on_status)
    after = device.versions()
    result.update(changed=True, after=after.as_dict(), status_history=[e.as_dict() for e in history],
                  final_state=history[-1].state)
    installed = after.standby_image
    if installed is None or not installed.same_as(image.name, image.version):
        raise DeviceError(device.name, "DownloadImage", "VERIFY_FAILED",
                          f"the device reported {history[-1].state} but its standby holds {describe(installed)}",
                          transport=device.transport, history=history, extra={"changed": True})
    result["msg"] = f"{device.name}: {image.name} {image.version} downloaded and installed in standby"
    if ctx.diff:
        result["diff"] = partitions_diff(before, after, which=("standby",))
    return result
