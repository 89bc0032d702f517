"""DMI service surface: UNIMPLEMENTED RPCs, physical inventory, device management RPCs."""
from __future__ import annotations

import uuid

import grpc
import pytest
from dmi import hw_events_mgmt_service_pb2 as evm
from dmi import hw_events_mgmt_service_pb2_grpc as evm_grpc
from dmi import hw_management_service_pb2 as hwm
from dmi import hw_metrics_mgmt_service_pb2 as mtm
from dmi import hw_metrics_mgmt_service_pb2_grpc as mtm_grpc
from dmi import hw_pb2
from dmi import sw_management_service_pb2 as swm
from google.protobuf import empty_pb2
from sim_dmi_client import Dmi


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    return sim_fleet_module(2, faults={"devices": {"olt-002": {"alarms": {"fan-2": "major", "psu-1": "minor"}}}})


def test_unimplemented_rpcs_answer_unimplemented(fleet):
    with Dmi(fleet.devices[0]) as c:
        device = hw_pb2.Uuid(uuid=c.uuid)
        events = evm_grpc.NativeEventsManagementServiceStub(c.channel)
        metrics = mtm_grpc.NativeMetricsManagementServiceStub(c.channel)
        calls = {
            "RebootDevice": lambda: c.hw.RebootDevice(hwm.RebootDeviceRequest(device_uuid=device), timeout=5),
            "SetLogLevel": lambda: c.hw.SetLogLevel(hwm.SetLogLevelRequest(device_uuid=device), timeout=5),
            "GetLoggingEndpoint": lambda: c.hw.GetLoggingEndpoint(c.hid(), timeout=5),
            "GetHWComponentInfo": lambda: list(c.hw.GetHWComponentInfo(
                hwm.HWComponentInfoGetRequest(device_uuid=device, component_name="fan-1"), timeout=5)),
            "DisableHWComponent": lambda: c.hw.DisableHWComponent(
                hwm.DisableHWComponentRequest(device_uuid=device, component_name="pon-0"), timeout=5),
            "UploadDebugInfo": lambda: list(c.sw.UploadDebugInfo(
                swm.UploadDebugInfoRequest(device_uuid=device, location_url="http://127.0.0.1:1/"), timeout=5)),
            "ListEvents": lambda: events.ListEvents(c.hid(), timeout=5),
            "ListMetrics": lambda: metrics.ListMetrics(c.hid(), timeout=5),
        }
        for rpc, call in calls.items():
            with pytest.raises(grpc.RpcError) as err:
                call()
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED, rpc
            assert f".{rpc} is not implemented by swim-sim" in err.value.details()
        assert evm and mtm  # stubs imported from the real package


def test_physical_inventory(fleet):
    with Dmi(fleet.devices[0]) as c:
        (resp,) = c.inventory()
        assert resp.status == 1
        hw = resp.inventory
        root = hw.root
        assert root.name == "olt-001" and getattr(root, "class") == hw_pb2.COMPONENT_TYPE_CHASSIS
        assert root.software_rev == "1.0.0" and root.firmware_rev and root.serial_num.startswith("SWIM")
        assert root.mfg_name and root.model_name and root.uuid.uuid
        assert hw.last_booted.seconds > 0
        kinds = {}
        for child in root.children:
            kinds.setdefault(getattr(child, "class"), []).append(child)
            assert child.parent == "olt-001"
        assert len(kinds[hw_pb2.COMPONENT_TYPE_CPU]) == 1
        assert len(kinds[hw_pb2.COMPONENT_TYPE_FAN]) == 2
        assert len(kinds[hw_pb2.COMPONENT_TYPE_POWER_SUPPLY]) == 2
        ports = kinds[hw_pb2.COMPONENT_TYPE_PORT]
        pon = [p for p in ports if p.port_attr.protocol == hw_pb2.PortComponentAttributes.XGSPON]
        nni = [p for p in ports if p.port_attr.protocol == hw_pb2.PortComponentAttributes.ETHERNET]
        assert len(pon) == 16 and len(nni) == 4
        for port in nni:
            (xcvr,) = port.children
            assert getattr(xcvr, "class") == hw_pb2.COMPONENT_TYPE_TRANSCEIVER and xcvr.parent == port.name
        (sensor,) = kinds[hw_pb2.COMPONENT_TYPE_SENSOR]
        (reading,) = sensor.sensor_data
        assert reading.type == hw_pb2.VALUE_TYPE_CELSIUS and 44 <= reading.value <= 46
        assert sensor.state.oper_state == hw_pb2.COMP_OPER_STATE_ENABLED
        uuids = [root.uuid.uuid] + [ch.uuid.uuid for ch in root.children]
        assert len(set(uuids)) == len(uuids)
        (again,) = c.inventory()
        assert again.inventory.root.children[0].uuid == root.children[0].uuid  # stable component uuids


def test_alarms_from_the_faults_file(fleet):
    with Dmi(fleet.devices[1]) as c:
        components = {ch.name: ch for ch in c.inventory()[0].inventory.root.children}
    assert components["fan-2"].state.alarm_state == hw_pb2.COMP_ALARM_STATE_MAJOR
    assert components["psu-1"].state.alarm_state == hw_pb2.COMP_ALARM_STATE_MINOR
    assert components["fan-1"].state.alarm_state == hw_pb2.COMP_ALARM_STATE_UNDEFINED  # no alarm


def test_start_managing_errors_and_unknown_inventory(fleet):
    with Dmi(fleet.devices[0]) as c:
        def start(name):
            return list(c.hw.StartManagingDevice(hw_pb2.ModifiableComponent(name=name), timeout=5))[-1]

        assert (start("").status, start("").reason) == (2, 3)  # INVALID_PARAMS
        assert start("olt-999").reason == 3 and "no device named" in start("olt-999").reason_detail
        already = start("olt-001")
        assert (already.status, already.reason, already.device_uuid.uuid) == (2, 1, c.uuid)  # DEVICE_ALREADY_MANAGED
        (unknown,) = list(c.hw.GetPhysicalInventory(
            hwm.PhysicalInventoryRequest(device_uuid=hw_pb2.Uuid(uuid=str(uuid.uuid4()))), timeout=5))
        assert (unknown.status, unknown.reason) == (2, 1)  # UNKNOWN_DEVICE
        resp = c.hw.GetManagedDevices(empty_pb2.Empty(), timeout=5)
        assert resp.status == 1 and resp.devices[0].info.uri.uri == "127.0.0.1"
