"""How a DMI device's uuid is found (module_utils/dmi_managed.py): real gRPC over loopback against a tiny
device manager that knows one device, ``edge-a`` at uri 127.0.0.21."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from dmi import hw_management_service_pb2 as hw_msgs, hw_management_service_pb2_grpc as hw_rpc, hw_pb2
from dmi import sw_image_pb2, sw_management_service_pb2 as sw_msgs, sw_management_service_pb2_grpc as sw_rpc
from dmi.commons_pb2 import ERROR_STATUS, OK_STATUS

from ansible_collections.escalator.swim.plugins.module_utils import dmi
from ansible_collections.escalator.swim.plugins.module_utils.device import DeviceError
from ansible_collections.escalator.swim.plugins.module_utils.dmi_managed import uuid_fact

UUID = "uuid-of-edge-a"


class Manager(hw_rpc.NativeHWManagementServiceServicer, sw_rpc.NativeSoftwareManagementServiceServicer):
    """Manages one device, edge-a at ``uri`` (127.0.0.21), and counts the StartManagingDevice calls."""

    def __init__(self):
        self.start_managing = 0
        self.uri = "127.0.0.21"

    def GetManagedDevices(self, request, context):
        info = hw_pb2.ModifiableComponent(name="edge-a", uri=hw_pb2.Uri(uri=self.uri))
        return hw_msgs.ManagedDevicesResponse(status=OK_STATUS, devices=[
            hw_msgs.ManagedDeviceInfo(info=info, device_uuid=hw_pb2.Uuid(uuid=UUID))])

    def StartManagingDevice(self, request, context):
        self.start_managing += 1
        yield hw_msgs.StartManagingDeviceResponse(status=OK_STATUS, device_uuid=hw_pb2.Uuid(uuid="uuid-new"))

    def GetSoftwareVersion(self, request, context):
        R = sw_msgs.GetSoftwareVersionInformationResponse
        if request.uuid.uuid != UUID:
            return R(status=ERROR_STATUS, reason=R.UNKNOWN_DEVICE, reason_detail=f"no device {request.uuid.uuid}")
        version = sw_image_pb2.ImageVersion(image_name="swim-olt", version="1.0.0")
        return R(status=OK_STATUS, info=sw_msgs.SoftwareVersionInformation(active_versions=[version]))


@pytest.fixture
def manager():
    servicer = Manager()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    hw_rpc.add_NativeHWManagementServiceServicer_to_server(servicer, server)
    sw_rpc.add_NativeSoftwareManagementServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, port
    server.stop(0)


def device(port: int, **params) -> dmi.DmiDevice:
    return dmi.open_device({"device_name": "olt-001", "host": "127.0.0.1", "port": port, "connect_timeout": 0.4,
                            "rpc_timeout": 2, **params})


def test_found_by_its_given_address_and_kept_for_later_tasks(manager):
    servicer, port = manager
    first = device(port, device_uri="127.0.0.21")
    assert first.versions().active_image.version == "1.0.0"
    fact = uuid_fact(first)["swim_dmi_device"]
    assert fact == {"manager": f"127.0.0.1:{port}", "device": "olt-001", "uri": "127.0.0.21", "uuid": UUID,
                    "managed_as": "edge-a"}
    later = device(port, device_uri="127.0.0.21", known_device=fact)
    assert later.uuid_source == "cached" and later.versions().active_image.version == "1.0.0"
    assert uuid_fact(later) == {} and servicer.start_managing == 0


def test_a_stale_cached_uuid_is_looked_up_again(manager):
    servicer, port = manager
    stale = {"manager": f"127.0.0.1:{port}", "device": "edge-a", "uri": "127.0.0.1", "uuid": "uuid-before-restart"}
    again = device(port, device_name="edge-a", known_device=stale)
    assert again.uuid_source == "cached"
    assert again.versions().active_image.version == "1.0.0"
    assert (again.uuid, again.uuid_source) == (UUID, "found") and servicer.start_managing == 0
    # a cache entry of another manager, name or address is not used
    other = device(port, device_name="edge-a", known_device={**stale, "manager": "127.0.0.1:1"})
    assert other.uuid_source == ""


def test_the_manager_address_alone_identifies_no_device_and_nothing_is_registered(manager):
    servicer, port = manager
    # the manager's own host (the default uri) is not the device's address: no match by it, and no registration
    servicer.uri = "127.0.0.1"
    with pytest.raises(DeviceError) as info:
        device(port).device_uuid()
    assert info.value.reason == "UNKNOWN_DEVICE" and servicer.start_managing == 0
    assert (f"the device manager 127.0.0.1:{port} manages no device named 'olt-001' (it manages: edge-a); "
            "nothing was registered") in info.value.msg
    # a task that may change the device registers it
    assert device(port, manage_device=True).device_uuid() == "uuid-new" and servicer.start_managing == 1
