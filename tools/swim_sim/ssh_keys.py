"""SSH keys of a NETCONF fleet: the persisted host key, a client key for tests, authorized_keys
and the known_hosts file clients verify the devices against."""
from __future__ import annotations

import os
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def load_or_create_ed25519(path: str | Path) -> paramiko.PKey:
    """Load the OpenSSH ed25519 private key at ``path``; create it (mode 0600, plus ``.pub``) if absent."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()))
    pkey = paramiko.Ed25519Key(filename=str(path))
    pub = path.with_name(path.name + ".pub")
    line = f"{pkey.get_name()} {pkey.get_base64()} swim-sim\n"
    if not pub.exists() or pub.read_text() != line:
        pub.write_text(line)
    return pkey


def public_line(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.get_base64()}"


def read_authorized_keys(path: str | Path) -> set[tuple[str, str]]:
    """(key type, base64) pairs of an OpenSSH authorized_keys file (options prefixes are not supported)."""
    keys = set()
    for raw in Path(path).read_text().splitlines():
        fields = raw.strip().split()
        if len(fields) >= 2 and not raw.lstrip().startswith("#"):
            keys.add((fields[0], fields[1]))
    return keys


def known_hosts_text(ports, host_key: paramiko.PKey, host: str = "127.0.0.1") -> str:
    return "".join(f"[{host}]:{port} {public_line(host_key)}\n" for port in ports)


def write_text_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path
