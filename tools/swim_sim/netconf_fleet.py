"""The NETCONF part of a fleet: host keys per device (RSA, ECDSA, Ed25519), the client key, credentials,
one SSH port per device, the known_hosts file and the per-host inventory variables."""
from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import paramiko

from .device import Device
from .netconf_server import Credentials, NetconfServer
from .ssh_keys import (known_hosts_text, load_or_create_ed25519, load_or_create_key, public_line,
                       read_authorized_keys, write_text_atomic)
from .spec import HOST_KEY_TYPES, SpecError

HOST_KEY_FILE = "ssh_host_{}_key"  # one per key type (rsa, ecdsa, ed25519), shared by the devices of that type
CLIENT_KEY_FILE = "netconf_client_key"
KNOWN_HOSTS_FILE = "known_hosts"


class NetconfFleet:
    def __init__(self, config, devices: list[Device], previous_ports: dict[str, int] | None = None,
                 dmi_ports: int = 0):
        self.config = config
        self.devices = devices
        self.previous_ports = previous_ports or {}
        self.dmi_ports = dmi_ports  # with --base-port, NETCONF ports follow the DMI manager ports
        self.state_dir = Path(config.state_dir).resolve()
        self.server: NetconfServer | None = None
        self.password = ""
        self.ports: dict[str, int] = {}
        self.key_types: dict[str, str] = {}  # device name -> rsa | ecdsa | ed25519
        self.host_keys: dict[str, paramiko.PKey] = {}  # key type -> host key

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / KNOWN_HOSTS_FILE

    @property
    def client_key(self) -> Path:
        return self.state_dir / CLIENT_KEY_FILE

    def host_key_type(self, index: int, device: Device) -> str:
        """The device's own ``host_key_type`` (faults YAML or --host-key-type), else rsa, ecdsa, ed25519 in turn
        over the NETCONF devices, so every fleet of three or more has each type."""
        return device.spec.host_key_type or HOST_KEY_TYPES[index % len(HOST_KEY_TYPES)]

    def _load_host_keys(self) -> None:
        self.key_types = {d.name: self.host_key_type(i, d) for i, d in enumerate(self.devices)}
        for key_type in sorted(set(self.key_types.values())):
            self.host_keys[key_type] = load_or_create_key(self.state_dir / HOST_KEY_FILE.format(key_type), key_type)

    def device_key(self, name: str) -> paramiko.PKey:
        return self.host_keys[self.key_types[name]]

    async def start(self) -> None:
        cfg = self.config
        await asyncio.to_thread(self._load_host_keys)  # an RSA key takes a moment to generate
        host_key = self.device_key(self.devices[0].name)
        client = load_or_create_ed25519(self.client_key)
        authorized = {(client.get_name(), client.get_base64())}
        if cfg.authorized_keys:
            try:
                authorized |= read_authorized_keys(cfg.authorized_keys)
            except OSError as exc:
                raise SpecError(f"cannot read --authorized-keys {cfg.authorized_keys}: {exc}") from None
        self.password = cfg.netconf_password or secrets.token_urlsafe(12)
        self.host_key = host_key
        self.server = NetconfServer(asyncio.get_running_loop(), host_key,
                                    Credentials(cfg.netconf_username, self.password, authorized))
        try:
            for index, device in enumerate(self.devices):
                key = self.device_key(device.name)
                if cfg.base_port is not None:
                    ncdev = self.server.add_device(device, cfg.base_port + self.dmi_ports + index, key)
                else:
                    try:
                        ncdev = self.server.add_device(device, self.previous_ports.get(device.name, 0), key)
                    except OSError:
                        ncdev = self.server.add_device(device, 0, key)
                self.ports[device.name] = ncdev.port
        except BaseException:
            self.server.stop()
            raise
        self.server.start()
        write_text_atomic(self.known_hosts, known_hosts_text(
            [(port, self.device_key(name)) for name, port in self.ports.items()]))

    def record(self, name: str) -> dict:
        """fleet.json fields of one NETCONF device; ``host_vars`` go into the inventory."""
        return {
            "port": self.ports[name],
            "manager": None,
            "host_key_type": self.key_types[name],
            "host_key": public_line(self.device_key(name)),
            "host_vars": {
                "ansible_user": self.config.netconf_username,
                "ansible_password": self.password,
                "swim_known_hosts_file": str(self.known_hosts),
            },
        }

    def summary(self) -> dict:
        return {
            "username": self.config.netconf_username,
            "password": self.password,
            "known_hosts_file": str(self.known_hosts),
            "client_key_file": str(self.client_key),
            "host_key": public_line(self.host_key),  # the first NETCONF device's; see host_keys
            "host_keys": {key_type: public_line(key) for key_type, key in sorted(self.host_keys.items())},
        }

    async def stop(self) -> None:
        if self.server is not None:
            await asyncio.to_thread(self.server.stop)
            self.server = None
