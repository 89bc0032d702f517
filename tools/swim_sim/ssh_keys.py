"""SSH keys of a NETCONF fleet: the persisted host keys (RSA 2048, ECDSA nistp256, Ed25519), a client key
for tests, authorized_keys and the known_hosts file clients verify the devices against."""
from __future__ import annotations

import os
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# host key type -> (key generator, paramiko class). RSA 2048 is Netopeer2's default host key.
_KEY_TYPES = {
    "rsa": (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), paramiko.RSAKey),
    "ecdsa": (lambda: ec.generate_private_key(ec.SECP256R1()), paramiko.ECDSAKey),
    "ed25519": (Ed25519PrivateKey.generate, paramiko.Ed25519Key),
}


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def load_or_create_ed25519(path: str | Path) -> paramiko.PKey:
    """Load the OpenSSH ed25519 private key at ``path``; create it (mode 0600, plus ``.pub``) if absent."""
    return load_or_create_key(path, "ed25519")


def load_or_create_key(path: str | Path, key_type: str) -> paramiko.PKey:
    """Load the OpenSSH private key of ``key_type`` (rsa, ecdsa, ed25519) at ``path``; create it (mode 0600,
    plus ``.pub``) if absent."""
    path = Path(path)
    generate, key_class = _KEY_TYPES[key_type]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                      serialization.NoEncryption()))
    pkey = key_class(filename=str(path))
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


def known_hosts_text(ports, host_key: paramiko.PKey | None = None, host: str = "127.0.0.1") -> str:
    """``[host]:port keytype base64`` lines. ``ports``: ports (all with ``host_key``) or (port, key) pairs."""
    pairs = [(p, host_key) if isinstance(p, int) else p for p in ports]
    return "".join(f"[{host}]:{port} {public_line(key)}\n" for port, key in pairs)


def write_text_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path
