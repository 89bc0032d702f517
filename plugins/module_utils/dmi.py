# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""DMI gRPC transport of the device API (VOLTHA Device Management Interface).

PRIVATE to the collection. Uses the published stubs of the ``device-management-interface``
package (``dmi``); nothing here re-declares a protobuf message.
"""

from __future__ import annotations

try:
    import grpc
    from dmi import hw_management_service_pb2 as hw_msgs
    from dmi import hw_management_service_pb2_grpc as hw_rpc
    from dmi import hw_pb2, sw_image_pb2
    from dmi import sw_management_service_pb2 as sw_msgs
    from dmi import sw_management_service_pb2_grpc as sw_rpc
    from dmi.commons_pb2 import ERROR_STATUS
    from google.protobuf import empty_pb2
except ImportError as exc:  # reported by open_device, only when a task uses the DMI transport
    GRPC_IMPORT_ERROR: ImportError | None = exc
    grpc = hw_msgs = hw_rpc = hw_pb2 = sw_image_pb2 = sw_msgs = sw_rpc = ERROR_STATUS = empty_pb2 = None
else:
    GRPC_IMPORT_ERROR = None

from .device import (
    ACTIVATION_COMPLETE, ACTIVATION_FAILED, REBOOTING_DEVICE, UPGRADE_COMPLETE, UPGRADE_FAILED,
    Budget, Device, DeviceError, Image, ImageSpec, SoftwareVersions, StatusCallback, StatusEvent,
)
from .dmi_managed import find_managed, initial_uuid, not_managed_detail
from .redaction import redact_url
from .transport_base import ProgressWatch, retrying

DEFAULT_PORT = 50051

# DMI response reasons that mean "the device manager cannot reach the box right now".
_UNREACHABLE_REASONS = {"DEVICE_UNREACHABLE", "DEVICE_NOT_REACHABLE"}
# gRPC status codes by cause (https://grpc.github.io/grpc/core/md_doc_statuscodes.html):
# - not reached: the manager (or the box hosting it) cannot be reached or did not answer in time -- retried
#   within connect_timeout, and ``unreachable`` while it never answered this Device;
# - "try again later" from a manager that answered: overloaded or a conflicting operation -- retried on reads;
# - everything else (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED, INTERNAL,
#   UNKNOWN, CANCELLED, ...) is the manager's answer: reported at once, never retried.
_NOT_REACHED_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED} if grpc else set()
_RETRYABLE_CODES = _NOT_REACHED_CODES | ({grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED}
                                         if grpc else set())

# Reconnect quickly after a reboot: gRPC's default back-off grows to 120 s between attempts.
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.enable_retries", 0),
]

_ALARM_SEVERITIES = {"COMP_ALARM_STATE_CRITICAL": "critical", "COMP_ALARM_STATE_MAJOR": "major",
                     "COMP_ALARM_STATE_MINOR": "minor", "COMP_ALARM_STATE_WARNING": "warning"}


def _read(path: str | None, what: str, device: str) -> bytes | None:
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise DeviceError(device, "connect", "ERROR_IN_REQUEST", f"cannot read {what} {path}: {exc.strerror}")


# gRPC connection errors that come from the TLS handshake: retrying cannot help, the setup is wrong.
_TLS_FAILURES = ("handshake failed", "certificate_verify_failed", "ssl_error", "peer name", "tsi_",
                 "verification check failed")


def _reason_name(message) -> str:
    """Name of ``message.reason`` from the message's own enum (each DMI response has its own)."""
    field = message.DESCRIPTOR.fields_by_name.get("reason")
    if field is None or not message.reason:
        return ""
    value = field.enum_type.values_by_number.get(message.reason)
    return value.name if value is not None else str(message.reason)


def _enum_name(enum_type, number: int, prefix: str = "") -> str:
    name = enum_type.Name(number) if number in enum_type.values() else str(number)
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


def open_device(params: dict) -> "DmiDevice":
    if GRPC_IMPORT_ERROR is not None:
        raise DeviceError(params.get("device_name") or params.get("host") or "?", "connect", "MISSING_LIBRARY",
                          "the dmi transport needs grpcio, protobuf and device-management-interface on the "
                          f"controller: {GRPC_IMPORT_ERROR}")
    return DmiDevice(params)


class DmiDevice(Device):
    transport = "dmi"
    reported_flags = {"active": ("committed",), "standby": ()}    # see versions()

    def __init__(self, params: dict):
        super().__init__(params["device_name"])
        self.uuid = params.get("device_uuid") or ""
        self.uri = params.get("device_uri") or params["host"]
        # only an address given as the device's own (device_uri) identifies it; the manager's host may be shared
        self.uri_given = bool(params.get("device_uri"))
        # only a task that may change the device, not in check mode, puts an unknown one under management
        self.may_manage = bool(params.get("manage_device"))
        self.rpc_timeout = float(params.get("rpc_timeout") or 30.0)
        self.connect_timeout = float(params.get("connect_timeout") or 10.0)
        self._answered = False  # the manager answered an RPC of this Device (unreachable is no longer possible)
        self._device_answered = False  # ... an RPC about the device itself (not the manager's own GetManagedDevices)
        self._inventory_cache = None
        host, port = params["host"], params.get("port") or DEFAULT_PORT
        target = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        self.target = target
        # given, cached (an earlier task found it), found or registered (dmi_managed.py); the manager's name for it
        self.uuid, self.uuid_source = initial_uuid(self.uuid, params.get("known_device"), target, self.name, self.uri)
        self.managed_as = ""
        self.tls = bool(params.get("tls"))
        self.ca_cert = params.get("ca_cert")
        self.client_cert = params.get("client_cert")
        options = list(_CHANNEL_OPTIONS)
        if bool(params.get("client_cert")) != bool(params.get("client_key")):
            raise DeviceError(self.name, "connect", "ERROR_IN_REQUEST",
                              "client_cert and client_key (swim_client_cert, swim_client_key) go together",
                              transport=self.transport)
        if params.get("tls"):
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_read(params.get("ca_cert"), "CA certificate", self.name),
                private_key=_read(params.get("client_key"), "client key", self.name),
                certificate_chain=_read(params.get("client_cert"), "client certificate", self.name),
            )
            if params.get("tls_server_name"):
                options.append(("grpc.ssl_target_name_override", params["tls_server_name"]))
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._hw = hw_rpc.NativeHWManagementServiceStub(self._channel)
        self._sw = sw_rpc.NativeSoftwareManagementServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    # -- plumbing ---------------------------------------------------------------------------
    def _error(self, operation: str, exc: grpc.RpcError, history=None) -> DeviceError:
        code = exc.code() if hasattr(exc, "code") else None
        reason = code.name if code is not None else "RPC_ERROR"
        detail = (exc.details() if hasattr(exc, "details") else str(exc)) or ""
        if code == grpc.StatusCode.UNAVAILABLE and "failed to connect" in detail:
            lowered = detail.lower()
            if self.tls and any(marker in lowered for marker in _TLS_FAILURES):
                trust = f"ca_cert {self.ca_cert}" if self.ca_cert else "the system CA store (no ca_cert given)"
                return DeviceError(self.name, operation, "TLS_HANDSHAKE_FAILED",
                                   f"TLS handshake with {self.target} failed: the device manager's certificate "
                                   f"is not trusted by {trust} or does not match the expected server name "
                                   f"(tls_server_name); {detail}", transport=self.transport, history=history)
            if "socket closed" not in lowered:
                pass  # refused, no route, ...: nothing TLS-specific to say
            elif self.tls and not self.client_cert:
                detail += (f"; TLS is on without a client certificate: if {self.target} requires mutual TLS, "
                           "set client_cert and client_key (swim_client_cert, swim_client_key)")
            elif not self.tls:
                detail += f"; if {self.target} serves TLS, set tls (swim_tls) and ca_cert (swim_ca_cert)"
        return DeviceError(self.name, operation, reason, detail, transport=self.transport,
                           history=history, retryable=code in _RETRYABLE_CODES,
                           # (a manager that closes the socket in the handshake was reached: TLS settings)
                           unreachable=code in _NOT_REACHED_CODES and not self._answered
                           and "socket closed" not in detail.lower())

    def _unary(self, operation: str, method, request, retry: bool = True, about_device: bool = True):
        """One unary RPC with a deadline; retried with back-off while the device is unreachable.

        *about_device*: the answer comes from the device (through its manager); False for the manager's own
        lookups, after which a DEVICE_UNREACHABLE still means the device never answered this Device.
        """
        def once():
            try:
                response = method(request, timeout=self.rpc_timeout)
            except grpc.RpcError as exc:
                raise self._error(operation, exc) from None
            if getattr(response, "status", None) != ERROR_STATUS:
                self._answered = True
                self._device_answered = self._device_answered or about_device
                return response
            reason = _reason_name(response)
            # the manager answers that it cannot reach the box: the device is unreachable, not failed
            raise DeviceError(self.name, operation, reason, getattr(response, "reason_detail", ""),
                              transport=self.transport, retryable=reason in _UNREACHABLE_REASONS,
                              unreachable=reason in _UNREACHABLE_REASONS and not self._device_answered)

        return retrying(once, self.connect_timeout if retry else 0.0)

    def _hardware_id(self) -> hw_pb2.HardwareID:
        return hw_pb2.HardwareID(uuid=hw_pb2.Uuid(uuid=self.device_uuid()))

    def device_uuid(self) -> str:
        """The DMI uuid: given, cached by an earlier task, found among the managed devices (by name, else by
        address), or -- only when this task may manage the device -- from StartManagingDevice."""
        if self.uuid:
            return self.uuid
        managed = self._unary("GetManagedDevices", self._hw.GetManagedDevices, empty_pb2.Empty(), about_device=False)
        device = find_managed(managed.devices, self.name, self.uri if self.uri_given else "")
        if device is not None:
            self.uuid, self.uuid_source, self.managed_as = device.device_uuid.uuid, "found", device.info.name
            return self.uuid
        if not self.may_manage:
            raise DeviceError(self.name, "GetManagedDevices", "UNKNOWN_DEVICE",
                              not_managed_detail(managed.devices, self.name, self.uri if self.uri_given else "",
                                                 self.target),
                              transport=self.transport)
        return self._start_managing()

    def _start_managing(self) -> str:
        request = hw_pb2.ModifiableComponent(name=self.name, uri=hw_pb2.Uri(uri=self.uri))
        try:
            for response in self._hw.StartManagingDevice(request, timeout=self.rpc_timeout):
                reason = _reason_name(response)
                # (a manager that already manages the device under another name says so, with its uuid)
                if response.status == ERROR_STATUS and not (reason == "DEVICE_ALREADY_MANAGED" and self.uri_given
                                                            and response.device_uuid.uuid):
                    raise DeviceError(self.name, "StartManagingDevice", reason,
                                      response.reason_detail, transport=self.transport)
                if response.device_uuid.uuid:
                    self.uuid, self.uuid_source, self.managed_as = response.device_uuid.uuid, "registered", self.name
                    return self.uuid
        except grpc.RpcError as exc:
            raise self._error("StartManagingDevice", exc)
        raise DeviceError(self.name, "StartManagingDevice", "NO_UUID",
                          "the device manager returned no uuid", transport=self.transport)

    # -- reads ------------------------------------------------------------------------------
    def versions(self, retry: bool = True) -> SoftwareVersions:
        try:
            response = self._unary("GetSoftwareVersion", self._sw.GetSoftwareVersion, self._hardware_id(), retry)
        except DeviceError as exc:
            if exc.reason != "UNKNOWN_DEVICE" or self.uuid_source != "cached":
                raise
            # the uuid an earlier task found is no longer the manager's (it restarted, re-registered): look again
            self.uuid, self.uuid_source = "", ""
            response = self._unary("GetSoftwareVersion", self._sw.GetSoftwareVersion, self._hardware_id(), retry)
        info = response.info
        return SoftwareVersions(
            # DMI has no separate commit: ActivateImage boots the standby and, once the device's checks pass,
            # marks it the active partition (the boot image). The active versions DMI reports are committed;
            # the standby ones it cannot tell (None).
            active=tuple(Image(v.image_name, v.version, committed=True) for v in info.active_versions),
            standby=tuple(Image(v.image_name, v.version) for v in info.standby_versions),
        )

    def startup_config(self) -> dict:
        request = sw_msgs.StartupConfigInfoRequest(device_uuid=hw_pb2.Uuid(uuid=self.device_uuid()))
        response = self._unary("GetStartupConfigurationInfo", self._sw.GetStartupConfigurationInfo, request)
        return {"config_url": redact_url(response.config_url), "version": response.version}

    def _physical_inventory(self):
        if self._inventory_cache is None:
            request = hw_msgs.PhysicalInventoryRequest(device_uuid=hw_pb2.Uuid(uuid=self.device_uuid()))
            try:
                for response in self._hw.GetPhysicalInventory(request, timeout=self.rpc_timeout):
                    if response.status == ERROR_STATUS:
                        raise DeviceError(self.name, "GetPhysicalInventory", _reason_name(response),
                                          response.reason_detail, transport=self.transport,
                                          retryable=_reason_name(response) in _UNREACHABLE_REASONS)
                    self._answered = self._device_answered = True
                    self._inventory_cache = response.inventory
                    break
            except grpc.RpcError as exc:
                raise self._error("GetPhysicalInventory", exc)
            if self._inventory_cache is None:
                raise DeviceError(self.name, "GetPhysicalInventory", "EMPTY_RESPONSE",
                                  "the inventory stream ended without an inventory", transport=self.transport)
        return self._inventory_cache

    @staticmethod
    def _walk(component):
        yield component
        for child in component.children:
            yield from DmiDevice._walk(child)

    def inventory(self) -> dict:
        components = []
        for comp in self._walk(self._physical_inventory().root):
            components.append({
                "name": comp.name,
                "class": _enum_name(hw_pb2.ComponentType, comp.__getattribute__("class"), "COMPONENT_TYPE_"),
                "parent": comp.parent,
                "description": comp.description,
                "serial_num": comp.serial_num,
                "model_name": comp.model_name,
                "mfg_name": comp.mfg_name,
                "hardware_rev": comp.hardware_rev,
                "firmware_rev": comp.firmware_rev,
                "software_rev": comp.software_rev,
                "uuid": comp.uuid.uuid,
                "is_fru": comp.is_fru,
            })
        return {"components": components}

    def health(self) -> dict:
        root = self._physical_inventory().root
        alarms, sensors = [], {}
        for comp in self._walk(root):
            alarm = hw_pb2.ComponentAlarmState.Name(comp.state.alarm_state) if comp.HasField("state") else ""
            if alarm in _ALARM_SEVERITIES:
                alarms.append({"component": comp.name, "severity": _ALARM_SEVERITIES[alarm]})
            for index, sensor in enumerate(comp.sensor_data):
                key = comp.name if len(comp.sensor_data) == 1 else f"{comp.name}.{sensor.data_type or index}"
                value = sensor.value / (10 ** sensor.precision) if sensor.precision else sensor.value
                sensors[key] = {"value": value, "units": sensor.units_display or ""}
        oper = hw_pb2.ComponentOperState.Name(root.state.oper_state) if root.HasField("state") else ""
        return {"reachable": True, "oper_state": oper.replace("COMP_OPER_STATE_", "").lower(),
                "alarms": alarms, "sensors": sensors}

    # -- image operations -------------------------------------------------------------------
    def _event(self, status) -> StatusEvent:
        return StatusEvent(
            state=sw_image_pb2.ImageStatus.ImageState.Name(status.state),
            reason=_reason_name(status) if status.reason else "",
            description=redact_url(status.description),
            reason_detail=redact_url(status.reason_detail),
            ok=status.status != ERROR_STATUS,
        )

    def download(self, image: ImageSpec, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        request = sw_msgs.DownloadImageRequest(
            device_uuid=hw_pb2.Uuid(uuid=self.device_uuid()),
            image_info=sw_image_pb2.ImageInformation(
                image=sw_image_pb2.ImageVersion(image_name=image.name, version=image.version),
                image_install_script=image.install_script,
                image_url=image.url,
                sha256sum=image.sha256,
            ),
        )
        return self._follow("DownloadImage", self._sw.DownloadImage, request, budget, on_status,
                            success=UPGRADE_COMPLETE, failure=UPGRADE_FAILED)

    def activate(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        return self._follow("ActivateImage", self._sw.ActivateImage, self._hardware_id(), budget, on_status,
                            success=ACTIVATION_COMPLETE, failure=ACTIVATION_FAILED, reboots=True)

    def revert(self, budget: Budget, on_status: StatusCallback) -> list[StatusEvent]:
        return self._follow("RevertToStandbyImage", self._sw.RevertToStandbyImage, self._hardware_id(), budget,
                            on_status, success=ACTIVATION_COMPLETE, failure=ACTIVATION_FAILED, reboots=True)

    def _follow(self, operation, method, request, budget: Budget, on_status: StatusCallback, *,
                success: str, failure: str, reboots: bool = False) -> list[StatusEvent]:
        """Consume an ImageStatus stream to its terminal state, with overall and stall deadlines.

        For operations that reboot the device, losing the stream after REBOOTING_DEVICE is the
        expected disconnect of a rebooting box, not a failure: the caller then verifies the
        outcome by asking the device which image it runs once it answers again.
        """
        history: list[StatusEvent] = []
        call = method(request, timeout=max(budget.remaining, 0.001))
        watch = ProgressWatch(budget)

        def rebooting() -> bool:
            return reboots and any(e.state == REBOOTING_DEVICE for e in history)

        try:
            watch.cancel_on_stall(call.cancel)
            for status in call:
                self._answered = self._device_answered = True
                watch.progress()
                event = self._event(status)
                history.append(event)
                on_status(event)
                if event.state == success and event.ok:
                    return history
                if not event.ok or event.state == failure:
                    raise DeviceError(self.name, operation, event.reason or event.state, event.reason_detail,
                                      transport=self.transport, history=history)
        except grpc.RpcError as exc:
            if watch.stall_fired.is_set():
                if rebooting():
                    return self._lost(history, on_status, f"no report for {budget.stall_timeout:g}s during reboot")
                last = history[-1] if history else None
                raise DeviceError(self.name, operation, "STALLED",
                                  f"no progress report for {budget.stall_timeout:g}s"
                                  + (f"; last state {last.state} {last.description}".rstrip() if last else ""),
                                  transport=self.transport, history=history)
            error = self._error(operation, exc, history)
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise DeviceError(self.name, operation, "TIMEOUT",
                                  f"not finished within {budget.timeout:g}s"
                                  + (f"; last state {history[-1].state}" if history else ""),
                                  transport=self.transport, history=history)
            if rebooting() and error.retryable:
                return self._lost(history, on_status, f"stream closed by the rebooting device ({error.reason})")
            raise error
        finally:
            watch.stop()
            call.cancel()
        if rebooting():
            return self._lost(history, on_status, "stream ended during reboot")
        raise DeviceError(self.name, operation, "STREAM_ENDED",
                          "the status stream ended without a terminal state"
                          + (f"; last state {history[-1].state}" if history else ""),
                          transport=self.transport, history=history)

    @staticmethod
    def _lost(history, on_status, why: str) -> list[StatusEvent]:
        event = StatusEvent(state=REBOOTING_DEVICE, description=f"{why}; waiting for the device to answer")
        history.append(event)
        on_status(event)
        return history
