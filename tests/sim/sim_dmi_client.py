"""A raw DMI gRPC test client over the real `dmi` stubs (no collection code involved)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import grpc
from dmi import hw_management_service_pb2 as hwm
from dmi import hw_management_service_pb2_grpc as hwm_grpc
from dmi import hw_pb2, sw_image_pb2
from dmi import sw_management_service_pb2 as swm
from dmi import sw_management_service_pb2_grpc as swm_grpc
from google.protobuf import empty_pb2

ImageStatus = sw_image_pb2.ImageStatus


def state_name(status) -> str:
    return ImageStatus.ImageState.Name(status.state)


def reason_name(status) -> str:
    return ImageStatus.Reason.Name(status.reason)


@dataclass
class StreamResult:
    """Everything one ImageStatus stream delivered, plus the gRPC error that ended it, if any."""

    statuses: list = field(default_factory=list)
    error: grpc.RpcError | None = None

    @property
    def states(self) -> list[str]:
        return [state_name(s) for s in self.statuses]

    @property
    def compact_states(self) -> list[str]:
        """States with consecutive repeats collapsed (progress events share one state)."""
        out: list[str] = []
        for state in self.states:
            if not out or out[-1] != state:
                out.append(state)
        return out

    @property
    def last(self):
        return self.statuses[-1]

    @property
    def texts(self) -> list[str]:
        return [f"{s.description} {s.reason_detail}" for s in self.statuses]


class Dmi:
    """Client for one device of a fleet (``device`` is a fleet.json record)."""

    def __init__(self, device: dict):
        self.device = device
        self.uuid = device["uuid"]
        self.channel = grpc.insecure_channel(f"127.0.0.1:{device['port']}")
        self.sw = swm_grpc.NativeSoftwareManagementServiceStub(self.channel)
        self.hw = hwm_grpc.NativeHWManagementServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Dmi":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def hid(self, uuid: str | None = None):
        return hw_pb2.HardwareID(uuid=hw_pb2.Uuid(uuid=self.uuid if uuid is None else uuid))

    def get_versions(self, timeout: float = 5.0):
        return self.sw.GetSoftwareVersion(self.hid(), timeout=timeout)

    def versions(self, timeout: float = 5.0) -> tuple[list, list]:
        """((name, version) of active images, of standby images); raises on DMI error or gRPC error."""
        resp = self.get_versions(timeout)
        assert resp.status == 1, resp
        return ([(v.image_name, v.version) for v in resp.info.active_versions],
                [(v.image_name, v.version) for v in resp.info.standby_versions])

    @staticmethod
    def collect(stream, limit: int = 1000) -> StreamResult:
        result = StreamResult()
        try:
            for status in stream:
                result.statuses.append(status)
                if len(result.statuses) >= limit:
                    break
        except grpc.RpcError as exc:
            result.error = exc
        return result

    def download(self, url: str, sha256: str, name: str = "swim-olt", version: str = "2.0.0",
                 script: str = "", timeout: float = 30.0, uuid: str | None = None) -> StreamResult:
        request = swm.DownloadImageRequest(
            device_uuid=hw_pb2.Uuid(uuid=self.uuid if uuid is None else uuid),
            image_info=sw_image_pb2.ImageInformation(
                image=sw_image_pb2.ImageVersion(image_name=name, version=version),
                image_url=url, sha256sum=sha256, image_install_script=script))
        return self.collect(self.sw.DownloadImage(request, timeout=timeout))

    def activate(self, timeout: float = 30.0, uuid: str | None = None) -> StreamResult:
        return self.collect(self.sw.ActivateImage(self.hid(uuid), timeout=timeout))

    def revert(self, timeout: float = 30.0, uuid: str | None = None) -> StreamResult:
        return self.collect(self.sw.RevertToStandbyImage(self.hid(uuid), timeout=timeout))

    def update_config(self, url: str, timeout: float = 10.0) -> list:
        request = swm.ConfigRequest(device_uuid=hw_pb2.Uuid(uuid=self.uuid), config_url=url)
        return list(self.sw.UpdateStartupConfiguration(request, timeout=timeout))

    def config_info(self, timeout: float = 5.0):
        return self.sw.GetStartupConfigurationInfo(
            swm.StartupConfigInfoRequest(device_uuid=hw_pb2.Uuid(uuid=self.uuid)), timeout=timeout)

    def inventory(self, timeout: float = 5.0):
        return list(self.hw.GetPhysicalInventory(
            hwm.PhysicalInventoryRequest(device_uuid=hw_pb2.Uuid(uuid=self.uuid)), timeout=timeout))

    def managed(self, timeout: float = 5.0) -> dict[str, str]:
        resp = self.hw.GetManagedDevices(empty_pb2.Empty(), timeout=timeout)
        return {d.info.name: d.device_uuid.uuid for d in resp.devices}

    def wait_up(self, timeout: float = 15.0) -> float:
        """Poll GetSoftwareVersion until the device answers (bounded); return seconds waited."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            try:
                self.get_versions(timeout=2.0)
                return time.monotonic() - start
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    raise
            time.sleep(0.02)


def unavailable_details(call) -> str:
    """Run ``call()``, expect gRPC UNAVAILABLE, return its details."""
    try:
        call()
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAVAILABLE, (exc.code(), exc.details())
        return exc.details()
    raise AssertionError("expected gRPC UNAVAILABLE, the call succeeded")
