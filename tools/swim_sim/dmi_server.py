"""DMI gRPC front end (grpc.aio) over the device model.

One :class:`DeviceManager` per gRPC port manages one or more devices (``--per-manager``).
It serves NativeHWManagementService and NativeSoftwareManagementService from the
``device-management-interface`` stubs. RPCs the simulator does not implement answer
gRPC UNIMPLEMENTED, as the DMI RPC guidelines require.

Error mapping:
  * unknown / unmanaged device uuid -> DMI ``status=ERROR_STATUS, reason=UNKNOWN_DEVICE``
  * device rebooting (or never came back) -> gRPC ``UNAVAILABLE`` "device <name> is rebooting"
  * ``unreachable`` fault -> DMI ``reason=DEVICE_UNREACHABLE`` / ``DEVICE_NOT_REACHABLE``
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from typing import Iterable

import grpc
from dmi import commons_pb2, hw_pb2
from dmi import hw_events_mgmt_service_pb2, hw_events_mgmt_service_pb2_grpc
from dmi import hw_management_service_pb2 as hwm
from dmi import hw_management_service_pb2_grpc as hwm_grpc
from dmi import hw_metrics_mgmt_service_pb2, hw_metrics_mgmt_service_pb2_grpc
from dmi import sw_image_pb2
from dmi import sw_management_service_pb2 as swm
from dmi import sw_management_service_pb2_grpc as swm_grpc
from google.protobuf import timestamp_pb2

from .device import (ACTIVATE, DOWNLOAD, REVERT, ConfigError, Device, DeviceRebooting, DeviceUnreachable,
                     OperationAborted, StatusEvent, StreamDropped)
from .hardware import Component, build_inventory
from .kafka_events import EventPublisher, event_message
from .redact import redact
from .spec import DEFAULT_DMI_URI

log = logging.getLogger("swim_sim.dmi")
OK = commons_pb2.OK_STATUS
ERROR = commons_pb2.ERROR_STATUS
ImageStatus = sw_image_pb2.ImageStatus

SERVER_OPTIONS = [("grpc.so_reuseport", 0)]


def _ts(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def image_status(event: StatusEvent) -> sw_image_pb2.ImageStatus:
    return ImageStatus(
        status=ERROR if event.failed else OK,
        reason=ImageStatus.Reason.Value(event.reason.value) if event.reason else ImageStatus.UNDEFINED_REASON,
        state=ImageStatus.ImageState.Value(event.state.value),
        description=event.description,
        reason_detail=event.reason_detail,
    )


def valid_msgbus_endpoint(endpoint: str) -> bool:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class DeviceManager:
    """The device manager behind one gRPC port: its devices, message-bus endpoint, heartbeat."""

    def __init__(self, devices: Iterable[Device], publisher: EventPublisher | None = None,
                 msgbus_endpoint: str = ""):
        self.devices = list(devices)
        self.by_uuid = {d.uuid: d for d in self.devices}
        self.by_name = {d.name: d for d in self.devices}
        self.uris = {d.name: d.spec.dmi_uri for d in self.devices}
        self.publisher = publisher
        self.msgbus_endpoint = msgbus_endpoint or ""
        self.heartbeat_signature = random.getrandbits(32)  # changes when the manager restarts
        for device in self.devices:
            device.add_listener(self._on_event)

    def by_address(self, uri: str) -> Device | None:
        """The one device whose address (uri) is *uri*: a manager asked to manage a device under another name."""
        matches = [d for d in self.devices if uri and uri != DEFAULT_DMI_URI and self.uris[d.name] == uri]
        return matches[0] if len(matches) == 1 else None

    def record_call(self, rpc: str, request_name: str, uri: str, response) -> None:
        """Calls that change what the manager manages go to <state-dir>/dmi-calls.jsonl (tests count them)."""
        store = next((d.store for d in self.devices if d.store is not None), None)
        if store is not None:
            store.append_dmi_call({"rpc": rpc, "name": request_name, "uri": uri, "time": time.time(),
                                   "managed_by": sorted(self.by_name), "status": commons_pb2.Status.Name(response.status),
                                   "reason": type(response).Reason.Name(response.reason)})

    def lookup(self, device_uuid: str) -> Device | None:
        device = self.by_uuid.get(device_uuid)
        return device if device is not None and device.managed else None

    def _on_event(self, device: Device, rpc: str, event: StatusEvent) -> None:
        if self.publisher is not None and self.msgbus_endpoint:
            self.publisher.publish(self.msgbus_endpoint, device.uuid, event_message(device.name, device.uuid, rpc, event))


def _fill_unimplemented(cls, service_descriptor):
    """Every RPC of ``service_descriptor`` that ``cls`` does not define answers UNIMPLEMENTED."""
    for method in service_descriptor.methods:
        if method.name in cls.__dict__:
            continue

        def make(rpc_name: str):
            async def unimplemented(self, request, context):
                await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                                    f"{service_descriptor.name}.{rpc_name} is not implemented by swim-sim")

            unimplemented.__name__ = rpc_name
            return unimplemented

        setattr(cls, method.name, make(method.name))
    return cls


async def _unavailable(context, exc: Exception):
    await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))


async def _read(manager: DeviceManager, context, uuid: str, response, read):
    """``read(device)`` for a request about *uuid*: ``(value, None)``, or ``(None, error response)`` for an
    unknown or unreachable device. A rebooting device aborts the call with UNAVAILABLE, as a device
    manager whose device is down answers."""
    device = manager.lookup(uuid)
    if device is None:
        return None, response(status=ERROR, reason=response.UNKNOWN_DEVICE, reason_detail=_unknown(uuid))
    try:
        return read(device), None
    except DeviceRebooting as exc:
        await _unavailable(context, exc)
    except DeviceUnreachable as exc:
        return None, response(status=ERROR, reason=response.DEVICE_UNREACHABLE, reason_detail=str(exc))


class SoftwareService(swm_grpc.NativeSoftwareManagementServiceServicer):
    def __init__(self, manager: DeviceManager):
        self.mgr = manager

    async def GetSoftwareVersion(self, request, context):
        R = swm.GetSoftwareVersionInformationResponse
        versions, error = await _read(self.mgr, context, request.uuid.uuid, R, Device.software_version)
        if error is not None:
            return error
        active, standby = versions
        info = swm.SoftwareVersionInformation(
            active_versions=[sw_image_pb2.ImageVersion(image_name=active.image_name, version=active.version)],
            standby_versions=([sw_image_pb2.ImageVersion(image_name=standby.image_name, version=standby.version)]
                              if standby.valid else []),
        )
        return R(status=OK, info=info)

    async def _image_stream(self, context, uuid: str, rpc: str, start):
        if not uuid:
            state = ImageStatus.UPGRADE_FAILED if rpc == DOWNLOAD else ImageStatus.ACTIVATION_FAILED
            yield ImageStatus(status=ERROR, reason=ImageStatus.ERROR_IN_REQUEST, state=state,
                              reason_detail="device_uuid is missing")
            return
        device = self.mgr.lookup(uuid)
        if device is None:
            state = ImageStatus.UPGRADE_FAILED if rpc == DOWNLOAD else ImageStatus.ACTIVATION_FAILED
            yield ImageStatus(status=ERROR, reason=ImageStatus.UNKNOWN_DEVICE, state=state,
                              reason_detail=_unknown(uuid))
            return
        try:
            async for event in start(device):
                yield image_status(event)
        except (DeviceRebooting, StreamDropped, OperationAborted) as exc:
            await _unavailable(context, exc)

    async def DownloadImage(self, request, context):
        info = request.image_info

        def start(device: Device):
            return device.download(info.image.image_name, info.image.version, info.image_url,
                                   info.sha256sum, info.image_install_script)

        async for status in self._image_stream(context, request.device_uuid.uuid, DOWNLOAD, start):
            yield status

    async def ActivateImage(self, request, context):
        async for status in self._image_stream(context, request.uuid.uuid, ACTIVATE, lambda d: d.activate()):
            yield status

    async def RevertToStandbyImage(self, request, context):
        async for status in self._image_stream(context, request.uuid.uuid, REVERT, lambda d: d.revert()):
            yield status

    async def UpdateStartupConfiguration(self, request, context):
        R = swm.ConfigResponse
        uuid = request.device_uuid.uuid
        device = self.mgr.lookup(uuid)
        if device is None:
            yield R(status=ERROR, reason=R.UNKNOWN_DEVICE, reason_detail=_unknown(uuid))
            return
        try:
            config = await device.update_startup_config(request.config_url)
        except DeviceRebooting as exc:
            await _unavailable(context, exc)
        except ConfigError as exc:
            yield R(status=ERROR, reason=R.Reason.Value(exc.reason), reason_detail=exc.detail)
            return
        log.info("%s: startup configuration version %s from %s", device.name, config.version, config.config_url)
        yield R(status=OK)

    async def GetStartupConfigurationInfo(self, request, context):
        R = swm.StartupConfigInfoResponse
        config, error = await _read(self.mgr, context, request.device_uuid.uuid, R, Device.startup_config)
        if error is not None:
            return error
        return R(status=OK, config_url=redact(config.config_url), version=config.version)


def _unknown(uuid: str) -> str:
    return f"no managed device with uuid {uuid!r} behind this device manager" if uuid else "device uuid is missing"


_COMPONENT_TYPE = {
    "chassis": hw_pb2.COMPONENT_TYPE_CHASSIS, "cpu": hw_pb2.COMPONENT_TYPE_CPU, "fan": hw_pb2.COMPONENT_TYPE_FAN,
    "power-supply": hw_pb2.COMPONENT_TYPE_POWER_SUPPLY, "port": hw_pb2.COMPONENT_TYPE_PORT,
    "transceiver": hw_pb2.COMPONENT_TYPE_TRANSCEIVER, "sensor": hw_pb2.COMPONENT_TYPE_SENSOR,
    "storage": hw_pb2.COMPONENT_TYPE_STORAGE,
}
_ALARM = {
    "none": hw_pb2.COMP_ALARM_STATE_UNDEFINED, "warning": hw_pb2.COMP_ALARM_STATE_WARNING,
    "minor": hw_pb2.COMP_ALARM_STATE_MINOR, "major": hw_pb2.COMP_ALARM_STATE_MAJOR,
    "critical": hw_pb2.COMP_ALARM_STATE_CRITICAL, "indeterminate": hw_pb2.COMP_ALARM_STATE_INDETERMINATE,
}


def _dmi_component(comp: Component, parent: str, changed: float, now: float) -> hw_pb2.Component:
    Port = hw_pb2.PortComponentAttributes
    msg = hw_pb2.Component(
        name=comp.name, description=comp.description, parent=parent, parent_rel_pos=comp.rel_pos,
        hardware_rev=comp.hardware_rev, firmware_rev=comp.firmware_rev, software_rev=comp.software_rev,
        serial_num=comp.serial_num, mfg_name=comp.mfg_name, model_name=comp.model_name, is_fru=comp.is_fru,
        uuid=hw_pb2.Uuid(uuid=comp.uuid),
        state=hw_pb2.ComponentState(
            state_last_changed=_ts(changed), admin_state=hw_pb2.COMP_ADMIN_STATE_UNLOCKED,
            oper_state=hw_pb2.COMP_OPER_STATE_ENABLED, usage_state=hw_pb2.COMP_USAGE_STATE_ACTIVE,
            alarm_state=_ALARM.get(comp.alarm_state, hw_pb2.COMP_ALARM_STATE_UNKNOWN)),
    )
    setattr(msg, "class", _COMPONENT_TYPE.get(comp.cls, hw_pb2.COMPONENT_TYPE_UNKNOWN))
    if comp.sensor is not None:
        msg.sensor_data.append(hw_pb2.ComponentSensorData(
            value=int(comp.sensor["value"]), type=hw_pb2.VALUE_TYPE_CELSIUS, scale=hw_pb2.VALUE_SCALE_UNITS,
            precision=0, status=hw_pb2.SENSOR_STATUS_OK, units_display=comp.sensor.get("units", "C"),
            timestamp=_ts(now), value_update_rate=10, data_type="temperature"))
    if comp.port is not None:
        ethernet = comp.port["protocol"] == "ethernet"
        msg.port_attr.CopyFrom(Port(
            connector_type=Port.FIBER_LC,
            speed=Port.GIGABIT_100 if comp.port["speed"] == "100G" else Port.GIGABIT_10,
            protocol=Port.ETHERNET if ethernet else Port.XGSPON,
            physical_label=comp.port["label"], mapping_label=comp.port["label"]))
    if comp.transceiver is not None:
        msg.transceiver_attr.CopyFrom(hw_pb2.TransceiverComponentsAttributes(
            form_factor=hw_pb2.TransceiverComponentsAttributes.QSFP28, trans_type=hw_pb2.ETHERNET,
            max_distance=10, max_distance_scale=hw_pb2.VALUE_SCALE_KILO))
    for child in comp.children:
        msg.children.append(_dmi_component(child, comp.name, changed, now))
    return msg


def physical_inventory(device: Device) -> hw_pb2.Hardware:
    active, _ = device.running_partitions()
    root = build_inventory(device.name, device.uuid, active.version)
    alarms = device.alarms(active.version)
    for comp in root.walk():
        if comp.name in alarms:
            comp.alarm_state = alarms[comp.name]
    now = time.time()
    return hw_pb2.Hardware(last_change=_ts(device.last_booted), last_booted=_ts(device.last_booted),
                           root=_dmi_component(root, "", device.last_booted, now))


class HardwareService(hwm_grpc.NativeHWManagementServiceServicer):
    def __init__(self, manager: DeviceManager):
        self.mgr = manager

    async def StartManagingDevice(self, request, context):
        async for response in self._start_managing(request, context):
            self.mgr.record_call("StartManagingDevice", request.name, request.uri.uri, response)
            yield response

    async def _start_managing(self, request, context):
        R = hwm.StartManagingDeviceResponse
        name = request.name
        if not name:
            yield R(status=ERROR, reason=R.INVALID_PARAMS, reason_detail="name is required")
            return
        # by name, else by the device's address: a manager keeps its own name for a device it knows by address
        device = self.mgr.by_name.get(name) or self.mgr.by_address(request.uri.uri)
        if device is None:
            yield R(status=ERROR, reason=R.INVALID_PARAMS,
                    reason_detail=f"no device named {name!r} or at uri {request.uri.uri!r} behind this device manager")
            return
        if device.managed:
            yield R(status=ERROR, reason=R.DEVICE_ALREADY_MANAGED, device_uuid=hw_pb2.Uuid(uuid=device.uuid),
                    reason_detail=f"device {device.name} is already managed")
            return
        try:
            device.check_available()
        except DeviceRebooting as exc:
            await _unavailable(context, exc)
        except DeviceUnreachable as exc:
            yield R(status=ERROR, reason=R.INTERNAL_ERROR, reason_detail=str(exc))
            return
        self.mgr.uris[device.name] = request.uri.uri or self.mgr.uris[device.name]
        device.set_managed(True)
        log.info("%s: now managed (uri %s)", device.name, self.mgr.uris[device.name])
        yield R(status=OK, device_uuid=hw_pb2.Uuid(uuid=device.uuid))

    async def StopManagingDevice(self, request, context):
        response = self._stop_managing(request)
        self.mgr.record_call("StopManagingDevice", request.name, "", response)
        return response

    def _stop_managing(self, request):
        R = hwm.StopManagingDeviceResponse
        device = self.mgr.by_name.get(request.name)
        if device is None or not device.managed:
            return R(status=ERROR, reason=R.UNKNOWN_DEVICE, reason_detail=f"no managed device named {request.name!r}")
        device.set_managed(False)
        log.info("%s: no longer managed", device.name)
        return R(status=OK)

    async def GetManagedDevices(self, request, context):
        R = hwm.ManagedDevicesResponse
        devices = [
            hwm.ManagedDeviceInfo(info=hw_pb2.ModifiableComponent(name=d.name, uri=hw_pb2.Uri(uri=self.mgr.uris[d.name])),
                                  device_uuid=hw_pb2.Uuid(uuid=d.uuid))
            for d in self.mgr.devices if d.managed
        ]
        return R(status=OK, devices=devices)

    async def GetPhysicalInventory(self, request, context):
        R = hwm.PhysicalInventoryResponse

        def read(device: Device):
            device.check_available()
            return physical_inventory(device)

        inventory, error = await _read(self.mgr, context, request.device_uuid.uuid, R, read)
        yield error if error is not None else R(status=OK, inventory=inventory)

    async def HeartbeatCheck(self, request, context):
        return hwm.Heartbeat(heartbeat_signature=self.mgr.heartbeat_signature)

    async def SetMsgBusEndpoint(self, request, context):
        R = hwm.SetRemoteEndpointResponse
        endpoint = request.msgbus_endpoint.strip()
        if endpoint and not valid_msgbus_endpoint(endpoint):
            return R(status=ERROR, reason=R.MSGBUS_ENDPOINT_ERROR,
                     reason_detail=f"msgbus_endpoint must be HOST:PORT on a loopback address, got {endpoint!r}")
        self.mgr.msgbus_endpoint = endpoint
        log.info("message bus endpoint set to %s", endpoint or "(none: events not published)")
        return R(status=OK)

    async def GetMsgBusEndpoint(self, request, context):
        return hwm.GetMsgBusEndpointResponse(status=OK, msgbus_endpoint=self.mgr.msgbus_endpoint)


_fill_unimplemented(SoftwareService, swm.DESCRIPTOR.services_by_name["NativeSoftwareManagementService"])
_fill_unimplemented(HardwareService, hwm.DESCRIPTOR.services_by_name["NativeHWManagementService"])


class EventsService(hw_events_mgmt_service_pb2_grpc.NativeEventsManagementServiceServicer):
    pass


class MetricsService(hw_metrics_mgmt_service_pb2_grpc.NativeMetricsManagementServiceServicer):
    pass


_fill_unimplemented(EventsService, hw_events_mgmt_service_pb2.DESCRIPTOR.services_by_name["NativeEventsManagementService"])
_fill_unimplemented(MetricsService,
                    hw_metrics_mgmt_service_pb2.DESCRIPTOR.services_by_name["NativeMetricsManagementService"])


class DmiServer:
    """A grpc.aio server on 127.0.0.1 for one device manager."""

    def __init__(self, manager: DeviceManager, port: int = 0, host: str = "127.0.0.1", tls=None):
        self.manager = manager
        self.host = host
        self.tls = tls  # swim_sim.tls.TlsFiles: serve TLS (mutual TLS when it has a client CA)
        self.requested_port = port
        self.port: int | None = None
        self._server: grpc.aio.Server | None = None

    async def start(self) -> int:
        server = grpc.aio.server(options=SERVER_OPTIONS)
        swm_grpc.add_NativeSoftwareManagementServiceServicer_to_server(SoftwareService(self.manager), server)
        hwm_grpc.add_NativeHWManagementServiceServicer_to_server(HardwareService(self.manager), server)
        hw_events_mgmt_service_pb2_grpc.add_NativeEventsManagementServiceServicer_to_server(EventsService(), server)
        hw_metrics_mgmt_service_pb2_grpc.add_NativeMetricsManagementServiceServicer_to_server(MetricsService(), server)
        try:
            address = f"{self.host}:{self.requested_port}"
            if self.tls is not None:
                from .tls import server_credentials

                port = server.add_secure_port(address, server_credentials(self.tls))
            else:
                port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self.host}:{self.requested_port}: {exc}") from None
        if not port:
            raise OSError(f"cannot listen on {self.host}:{self.requested_port}")
        await server.start()
        self._server, self.port = server, port
        return port

    async def stop(self, grace: float = 0.5) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None


async def wait_ready(targets: Iterable[tuple[int, str]], timeout: float = 30.0, tls=None) -> None:
    """Client-side check, over real sockets, that every device answers GetSoftwareVersion on its
    manager's port (any DMI answer counts: an ``unreachable`` device answers with an error).
    ``targets`` are (port, device uuid) pairs. Used before a fleet declares itself ready.
    With ``tls`` (TlsFiles) the check speaks TLS; under mutual TLS without a client certificate
    to use, it only checks that every port accepts connections."""
    by_port: dict[int, list[str]] = {}
    for port, uuid in targets:
        by_port.setdefault(port, []).append(uuid)

    def channel_for(port: int):
        if tls is None:
            return grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        from .tls import channel_credentials

        options = [("grpc.ssl_target_name_override", tls.server_name)] if tls.server_name else []
        return grpc.aio.secure_channel(f"127.0.0.1:{port}", channel_credentials(tls), options=options)

    async def one(port: int, uuids: list[str]) -> None:
        if tls is not None and tls.mutual and tls.client_cert is None:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        async with channel_for(port) as channel:
            stub = swm_grpc.NativeSoftwareManagementServiceStub(channel)
            for uuid in uuids:
                await stub.GetSoftwareVersion(hw_pb2.HardwareID(uuid=hw_pb2.Uuid(uuid=uuid)),
                                              timeout=timeout, wait_for_ready=True)

    await asyncio.wait_for(asyncio.gather(*(one(p, u) for p, u in by_port.items())), timeout)
