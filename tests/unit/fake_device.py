"""A fake transport for unit tests: a two-partition device in memory, scripted per test."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.module_utils.device import (
    Device, DeviceError, Image, SoftwareVersions, StatusEvent,
)


class FakeDevice(Device):
    transport = "fake"

    def __init__(self, name="olt-001", active=("swim-olt", "1.0.0"), standby=("swim-olt", "0.9.0")):
        super().__init__(name)
        self.active = Image(*active)
        self.standby = Image(*standby)
        self.calls = []
        self.download_failure = None      # (reason, detail) -> UPGRADE_FAILED
        self.activation_falls_back = False
        self.refuse_revert = False
        self.unreachable_polls = 0        # versions() raises retryable errors this many times
        self.closed = False

    def versions(self, retry=True):
        self.calls.append("versions")
        if self.unreachable_polls:
            self.unreachable_polls -= 1
            raise DeviceError(self.name, "GetSoftwareVersion", "UNAVAILABLE", "rebooting", retryable=True)
        return SoftwareVersions(active=(self.active,), standby=(self.standby,))

    def startup_config(self):
        return {"config_url": "http://********@127.0.0.1/cfg", "version": "1"}

    def inventory(self):
        return {"components": [{"name": "chassis", "class": "CHASSIS", "serial_num": "SN1"}]}

    def health(self):
        return {"reachable": True, "alarms": [], "sensors": {"temperature": {"value": 45.0, "units": "C"}}}

    def download(self, image, budget, on_status):
        self.calls.append(("download", image))
        history = [StatusEvent("COPYING_IMAGE", description="downloaded 100%")]
        for event in history:
            on_status(event)
        if self.download_failure:
            reason, detail = self.download_failure
            history.append(StatusEvent("UPGRADE_FAILED", reason=reason, reason_detail=detail, ok=False))
            raise DeviceError(self.name, "DownloadImage", reason, detail, history=history)
        self.standby = Image(image.name, image.version)
        history.append(StatusEvent("UPGRADE_COMPLETE"))
        return history

    def _boot_standby(self, operation, checks):
        self.calls.append(operation)
        history = [StatusEvent("REBOOTING_DEVICE")]
        if checks and self.activation_falls_back:
            history.append(StatusEvent("ACTIVATION_FAILED", reason="INVALID_IMAGE", reason_detail="sanity", ok=False))
            raise DeviceError(self.name, operation, "INVALID_IMAGE", "sanity checks failed", history=history)
        self.active, self.standby = self.standby, self.active
        self.unreachable_polls = 2
        history.append(StatusEvent("ACTIVATION_COMPLETE"))
        return history

    def activate(self, budget, on_status):
        return self._boot_standby("activate", True)

    def revert(self, budget, on_status):
        if self.refuse_revert:
            raise DeviceError(self.name, "RevertToStandbyImage", "DEVICE_IN_WRONG_STATE", "standby not committed")
        return self._boot_standby("revert", False)

    def close(self):
        self.closed = True
