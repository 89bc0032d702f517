# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Which managed device of a DMI device manager a task talks to, and when it may put one under management.

PRIVATE to the collection. A device's uuid is, in this order: given (``device_uuid``); the one an earlier task
of the run found for the same manager, name and address (the host fact ``swim_dmi_device``, checked by the
first read); found among the manager's managed devices (``GetManagedDevices``) by name, or else by the device's
address when it is given as the device's own (``device_uri``, not defaulted from the manager's host, which
several devices may share) and exactly one managed device has it (the manager may know the device under
another name than the inventory's); and only then, in a task that may change the device, ``StartManagingDevice``.
Read-only tasks and check mode never change what a manager manages: an unknown device fails, saying what to do.
"""

from __future__ import annotations

FACT = "swim_dmi_device"   # host fact: {"manager", "device", "uri", "uuid", "managed_as"}
HOW_TO_REGISTER = ("set swim_device_name (or swim_device_uuid) to the manager's name (uuid) for it or "
                   "swim_device_uri to its address, or let a task that may change the device register it: "
                   "download_image, or sw_version/snapshot with manage: true (not in check mode)")


def find_managed(devices, name: str, uri: str):
    """The managed device (a ManagedDeviceInfo) named *name*, else the only one at address *uri*, else None."""
    for device in devices:
        if device.info.name == name:
            return device
    at_uri = [device for device in devices if uri and device.info.uri.uri == uri]
    return at_uri[0] if len(at_uri) == 1 else None


def not_managed_detail(devices, name: str, uri: str, manager: str) -> str:
    """Why a read-only or check-mode task stops at an unknown device, and what to do about it.
    *uri*: the device's own address, "" when none was given."""
    names = sorted(device.info.name for device in devices)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "") if names else "none"
    sharing = sum(1 for device in devices if uri and device.info.uri.uri == uri)
    where = f" or at uri {uri!r}" if uri else ""
    address = f" ({sharing} managed devices have that uri: it does not tell which)" if sharing > 1 else ""
    return (f"the device manager {manager} manages no device named {name!r}{where}{address} "
            f"(it manages: {shown}); nothing was registered: read-only tasks and check mode never call "
            f"StartManagingDevice; {HOW_TO_REGISTER}")


def initial_uuid(given: str, known, manager: str, name: str, uri: str) -> tuple[str, str]:
    """(uuid, how it is known) before any call: given, or the one an earlier task of the run found for this
    manager, device name and address (the host fact *known*), or ("", "") to look it up."""
    if given:
        return given, "given"
    if isinstance(known, dict) and known.get("uuid") and (known.get("manager"), known.get("device"),
                                                          known.get("uri")) == (manager, name, uri):
        return str(known["uuid"]), "cached"
    return "", ""


def uuid_fact(device) -> dict:
    """Host facts that spare the run's later tasks the lookup: for a DMI device this task found or registered
    (none for one whose uuid was given or cached, nor for another transport)."""
    if getattr(device, "uuid_source", "") not in ("found", "registered"):
        return {}
    return {FACT: {"manager": device.target, "device": device.name, "uri": device.uri, "uuid": device.uuid,
                   "managed_as": device.managed_as}}
