"""A fleet: N simulated devices behind one or more device managers (gRPC ports) in ONE
process and ONE asyncio loop, plus the inventory and fleet.json written for clients."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .ansible_inventory import write_inventory
from .device import Device
from .dmi_server import DeviceManager, DmiServer, wait_ready
from .kafka_events import DEFAULT_TOPIC, EventPublisher
from .persist import StateStore, read_json, write_json_atomic
from .spec import FleetSpec, SpecError, Timings

log = logging.getLogger("swim_sim.fleet")
TRANSPORTS = ("dmi", "netconf", "mixed")
FUTURE_TRANSPORTS: tuple[str, ...] = ()


@dataclass
class FleetConfig:
    count: int
    inventory: Path
    state_dir: Path
    faults: Path | None = None
    kafka: str | None = None
    kafka_topic: str = DEFAULT_TOPIC
    per_manager: int = 1
    base_port: int | None = None
    name_prefix: str = "olt-"
    groups: list[str] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    transport: str = "dmi"
    tls: object = None  # swim_sim.tls.TlsFiles: the device managers serve (mutual) TLS
    # NETCONF devices: SSH user, password (None = generated per run), extra authorized_keys file
    netconf_username: str = "swim"
    netconf_password: str | None = None
    authorized_keys: Path | None = None
    # NETCONF server behaviour of every device (a device's key in the faults YAML wins); None = the standard
    # (reference-server) default. host_key_type None: rsa, ecdsa, ed25519 in turn over the NETCONF devices.
    host_key_type: str | None = None
    legacy_hello: bool | None = None
    yang_library: str | None = None
    nmda: bool | None = None

    def device_options(self) -> dict:
        """The fleet-wide device keys given on the command line (FleetSpec ``options``)."""
        names = ("host_key_type", "legacy_hello", "yang_library", "nmda")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def validate(self) -> None:
        if self.count < 1:
            raise SpecError("--count must be >= 1")
        if self.per_manager < 1:
            raise SpecError("--per-manager must be >= 1")
        if self.transport in FUTURE_TRANSPORTS:
            raise SpecError(f"--transport {self.transport} is not available yet: only 'dmi' is implemented")
        if self.transport not in TRANSPORTS:
            raise SpecError(f"--transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if self.base_port is not None and not 0 < self.base_port < 65536 - self.managers:
            raise SpecError("--base-port out of range")
        if len(set(self.groups)) != len(self.groups) or any(not g for g in self.groups):
            raise SpecError("--groups must be distinct, non-empty names")

    @property
    def managers(self) -> int:
        return -(-self.count // self.per_manager)

    def names(self) -> list[str]:
        width = max(3, len(str(self.count)))
        return [f"{self.name_prefix}{i:0{width}d}" for i in range(1, self.count + 1)]


class Fleet:
    def __init__(self, config: FleetConfig):
        config.validate()
        self.config = config
        self.devices: list[Device] = []
        self.transports: dict[str, str] = {}  # device name -> dmi | netconf
        self.netconf = None  # NetconfFleet when the fleet has NETCONF devices
        self.managers: list[DeviceManager] = []
        self.servers: list[DmiServer] = []
        self.publisher = EventPublisher(config.kafka_topic)
        self.started_at: float | None = None
        self.startup_seconds: float | None = None

    @property
    def fleet_json(self) -> Path:
        return self.config.state_dir / "fleet.json"

    async def start(self) -> None:
        t0 = time.monotonic()
        cfg = self.config
        names = cfg.names()
        spec = FleetSpec.load(cfg.timings, cfg.faults, cfg.device_options())
        strangers = spec.unknown_devices(names)
        if strangers:
            raise SpecError(f"faults file names device(s) not in this fleet: {', '.join(strangers)}")
        store = StateStore(cfg.state_dir)
        self.devices = [Device(name, spec.for_device(name), store) for name in names]
        self.transports = {d.name: device_transport(cfg.transport, i, d.spec.transport)
                           for i, d in enumerate(self.devices)}
        dmi_devices = [d for d in self.devices if self.transports[d.name] == "dmi"]
        chunks = [dmi_devices[i:i + cfg.per_manager] for i in range(0, len(dmi_devices), cfg.per_manager)]
        self.managers = [DeviceManager(chunk, self.publisher, cfg.kafka or "") for chunk in chunks]
        previous = self._previous_ports(names)
        try:
            for index, manager in enumerate(self.managers):
                server = DmiServer(manager, tls=cfg.tls)
                if cfg.base_port is not None:
                    server.requested_port = cfg.base_port + index
                    await server.start()
                else:
                    server.requested_port = previous.get(index, 0)
                    try:
                        await server.start()
                    except OSError:
                        log.warning("previous port %s of manager %d is taken; picking a free one",
                                    server.requested_port, index)
                        server.requested_port = 0
                        await server.start()
                self.servers.append(server)
            netconf_devices = [d for d in self.devices if self.transports[d.name] == "netconf"]
            if netconf_devices:
                from .netconf_fleet import NetconfFleet

                self.netconf = NetconfFleet(cfg, netconf_devices, self._previous_netconf_ports(names),
                                           dmi_ports=len(self.managers))
                await self.netconf.start()
            await wait_ready([(s.port, d.uuid) for s, m in zip(self.servers, self.managers) for d in m.devices],
                             timeout=60, tls=cfg.tls)
        except BaseException:
            await self.stop()
            raise
        self.write_files()
        self.started_at = time.time()
        self.startup_seconds = time.monotonic() - t0
        log.info("fleet of %d devices behind %d device manager(s) ready in %.2fs", len(self.devices),
                 len(self.servers), self.startup_seconds)

    def _previous_ports(self, names: list[str]) -> dict[int, int]:
        """Reuse the ports of the last run with the same layout, so an inventory stays valid across restarts."""
        data = read_json(self.fleet_json) if self.fleet_json.exists() else None
        if not data or [d.get("name") for d in data.get("devices", [])] != names:
            return {}
        if data.get("per_manager") != self.config.per_manager:
            return {}
        return {int(m["index"]): int(m["port"]) for m in data.get("managers", [])}

    def _previous_netconf_ports(self, names: list[str]) -> dict[str, int]:
        """NETCONF devices keep their port across restarts (one port per device)."""
        data = read_json(self.fleet_json) if self.fleet_json.exists() else None
        if not data:
            return {}
        return {d["name"]: int(d["port"]) for d in data.get("devices", [])
                if d.get("transport") == "netconf" and d.get("name") in names and d.get("port")}

    def device_records(self) -> list[dict]:
        records = []
        groups = self.config.groups
        dmi_index = 0
        for index, device in enumerate(self.devices):
            record = {
                "name": device.name,
                "uuid": device.uuid,
                "host": "127.0.0.1",
                "transport": self.transports.get(device.name, self.config.transport),
                "group": groups[index % len(groups)] if groups else None,
                "faults": sorted(device.spec.faults),
            }
            if record["transport"] == "netconf":
                record.update(self.netconf.record(device.name))
            else:
                manager_index = dmi_index // self.config.per_manager
                dmi_index += 1
                record.update(port=self.servers[manager_index].port, manager=manager_index)
            records.append(record)
        return records

    def write_files(self) -> None:
        cfg = self.config
        records = self.device_records()
        write_inventory(cfg.inventory, records, cfg.groups or None,
                        extra_vars=cfg.tls.inventory_vars() if cfg.tls is not None else None)
        write_json_atomic(self.fleet_json, {
            "schema": 1,
            "transport": cfg.transport,
            "inventory": str(Path(cfg.inventory).resolve()),
            "state_dir": str(Path(cfg.state_dir).resolve()),
            "kafka": cfg.kafka,
            "kafka_topic": cfg.kafka_topic,
            "tls": cfg.tls.inventory_vars() if cfg.tls is not None else None,
            "per_manager": cfg.per_manager,
            "groups": cfg.groups,
            "managers": [{"index": i, "port": s.port, "devices": [d.name for d in m.devices]}
                         for i, (s, m) in enumerate(zip(self.servers, self.managers))],
            "devices": records,
            **({"netconf": self.netconf.summary()} if self.netconf else {}),
        })

    async def stop(self) -> None:
        await asyncio.gather(*(d.shutdown() for d in self.devices), return_exceptions=True)
        if self.netconf is not None:
            await self.netconf.stop()
        await asyncio.gather(*(s.stop(0.5) for s in self.servers), return_exceptions=True)
        self.servers = []
        await asyncio.to_thread(self.publisher.close, 5.0)


def device_transport(fleet_transport: str, index: int, spec_transport: str = "") -> str:
    """A device's protocol: its spec's ``transport`` key wins; ``mixed`` alternates dmi, netconf, dmi..."""
    if spec_transport:
        return spec_transport
    if fleet_transport == "mixed":
        return "dmi" if index % 2 == 0 else "netconf"
    return fleet_transport
