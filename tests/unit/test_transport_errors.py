"""Transport errors classified by cause (issue 16 item 7, issue 15 unreachable): DMI gRPC status codes.

Real gRPC over loopback (a closed port; a tiny servicer that answers then goes away); no mocks of grpc.
"""

from __future__ import annotations

import socket
from concurrent import futures

import grpc
import pytest
from dmi import hw_management_service_pb2 as hw_msgs, hw_management_service_pb2_grpc as hw_rpc, hw_pb2
from dmi import sw_management_service_pb2 as sw_msgs, sw_management_service_pb2_grpc as sw_rpc
from dmi.commons_pb2 import OK_STATUS, ERROR_STATUS

from ansible_collections.escalator.swim.plugins.module_utils import dmi
from ansible_collections.escalator.swim.plugins.module_utils.device import DeviceError


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def device(port: int, **params) -> dmi.DmiDevice:
    return dmi.open_device({"device_name": "olt-001", "host": "127.0.0.1", "port": port, "device_uuid": "u-1",
                            "connect_timeout": 0.4, "rpc_timeout": 2, **params})


def test_a_manager_that_never_answers_is_unreachable_and_retried():
    with pytest.raises(DeviceError) as info:
        device(closed_port()).versions()
    assert info.value.reason == "UNAVAILABLE" and info.value.retryable and info.value.unreachable


class Servicer(sw_rpc.NativeSoftwareManagementServiceServicer):
    def __init__(self, answers):
        self.answers = list(answers)

    def GetSoftwareVersion(self, request, context):
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, grpc.StatusCode):
            context.abort(answer, f"server says {answer.name}")
        return answer


@pytest.fixture
def manager():
    servers = []

    def start(*answers):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        sw_rpc.add_NativeSoftwareManagementServiceServicer_to_server(Servicer(answers), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return server, port

    yield start
    for server in servers:
        server.stop(0)


OK = sw_msgs.GetSoftwareVersionInformationResponse(status=OK_STATUS)


def test_a_manager_that_answered_and_went_away_is_not_unreachable(manager):
    server, port = manager(OK)
    dev = device(port)
    dev.versions()
    server.stop(0).wait()
    with pytest.raises(DeviceError) as info:
        dev.versions()
    assert info.value.retryable and not info.value.unreachable


@pytest.mark.parametrize("code, retryable", [
    (grpc.StatusCode.UNAUTHENTICATED, False), (grpc.StatusCode.PERMISSION_DENIED, False),
    (grpc.StatusCode.INVALID_ARGUMENT, False), (grpc.StatusCode.INTERNAL, False),
    (grpc.StatusCode.UNIMPLEMENTED, False), (grpc.StatusCode.RESOURCE_EXHAUSTED, True),
])
def test_a_managers_answer_is_never_unreachable(manager, code, retryable):
    _server, port = manager(code)
    with pytest.raises(DeviceError) as info:
        device(port).versions(retry=False)
    assert info.value.reason == code.name and info.value.retryable is retryable
    assert not info.value.unreachable


def test_manager_reporting_the_device_unreachable(manager):
    unreachable = sw_msgs.GetSoftwareVersionInformationResponse(
        status=ERROR_STATUS, reason=sw_msgs.GetSoftwareVersionInformationResponse.DEVICE_UNREACHABLE)
    _server, port = manager(unreachable)
    with pytest.raises(DeviceError) as info:
        device(port).versions()
    assert info.value.reason == "DEVICE_UNREACHABLE" and info.value.retryable and info.value.unreachable


class Managed(hw_rpc.NativeHWManagementServiceServicer):
    """A manager that knows olt-001 (GetManagedDevices) but cannot reach it."""

    def GetManagedDevices(self, request, context):
        return hw_msgs.ManagedDevicesResponse(
            status=OK_STATUS, devices=[hw_msgs.ManagedDeviceInfo(info=hw_pb2.ModifiableComponent(name="olt-001"),
                                                                 device_uuid=hw_pb2.Uuid(uuid="u-1"))])


def test_device_unreachable_after_the_managers_own_lookup_is_still_unreachable(manager):
    """The uuid lookup is the manager answering, not the device: DEVICE_UNREACHABLE next is unreachable."""
    unreachable = sw_msgs.GetSoftwareVersionInformationResponse(
        status=ERROR_STATUS, reason=sw_msgs.GetSoftwareVersionInformationResponse.DEVICE_UNREACHABLE)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    sw_rpc.add_NativeSoftwareManagementServiceServicer_to_server(Servicer([unreachable]), server)
    hw_rpc.add_NativeHWManagementServiceServicer_to_server(Managed(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with pytest.raises(DeviceError) as info:
            device(port, device_uuid=None).versions()
        assert info.value.reason == "DEVICE_UNREACHABLE" and info.value.unreachable, info.value.msg
    finally:
        server.stop(0)
