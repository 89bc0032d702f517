"""TLS for the simulator's gRPC servers: server credentials from PEM files, and throw-away certificates.

``make_test_pki(directory)`` writes a private CA, a server certificate for ``127.0.0.1`` /
``localhost`` / ``swim-sim.test`` and a client certificate, all signed by that CA (for tests and
``swim-sim fleet --tls-generate``). Nothing here is meant for production keys.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

SERVER_NAME = "swim-sim.test"


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of a simulator's TLS setup. ``client_ca`` set = mutual TLS (client certificate required).

    ``ca_cert``, ``client_cert``, ``client_key`` and ``server_name`` are what *clients* use: they are
    written to the inventory (``swim_ca_cert``, ``swim_client_cert``, ``swim_client_key``,
    ``swim_tls_server_name``) and used by the fleet's own readiness check.
    """
    cert: Path
    key: Path
    client_ca: Path | None = None
    ca_cert: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    server_name: str | None = None

    @property
    def mutual(self) -> bool:
        return self.client_ca is not None

    def check(self) -> None:
        for label, path in (("--tls-cert", self.cert), ("--tls-key", self.key), ("--tls-client-ca", self.client_ca),
                            ("--tls-ca-cert", self.ca_cert), ("--tls-client-cert", self.client_cert),
                            ("--tls-client-key", self.client_key)):
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{label} {path}: no such file")
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("--tls-client-cert and --tls-client-key go together")

    def inventory_vars(self) -> dict:
        data: dict = {"swim_tls": True}
        for var, path in (("swim_ca_cert", self.ca_cert), ("swim_client_cert", self.client_cert),
                          ("swim_client_key", self.client_key)):
            if path is not None:
                data[var] = str(Path(path).resolve())
        if self.server_name:
            data["swim_tls_server_name"] = self.server_name
        return data


def server_credentials(files: TlsFiles):
    import grpc

    def read(path):
        return Path(path).read_bytes()

    return grpc.ssl_server_credentials(
        [(read(files.key), read(files.cert))],
        root_certificates=read(files.client_ca) if files.client_ca else None,
        require_client_auth=files.mutual,
    )


def channel_credentials(files: TlsFiles):
    """What a client of this server uses (the fleet's readiness check)."""
    import grpc

    return grpc.ssl_channel_credentials(
        root_certificates=Path(files.ca_cert).read_bytes() if files.ca_cert else Path(files.cert).read_bytes(),
        private_key=Path(files.client_key).read_bytes() if files.client_key else None,
        certificate_chain=Path(files.client_cert).read_bytes() if files.client_cert else None,
    )


# --------------------------------------------------------------------------- throw-away PKI
def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "swim-sim test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key) -> None:
    from cryptography.hazmat.primitives import serialization

    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write_cert(path: Path, cert) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def make_ca(directory: str | Path, name: str = "ca") -> tuple[Path, Path]:
    """A self-signed CA: (``<name>.pem``, ``<name>.key``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = _key()
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(f"swim-sim {name}")).issuer_name(_name(f"swim-sim {name}"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    _write_cert(cert_path, cert)
    _write_key(key_path, key)
    return cert_path, key_path


def issue(directory: str | Path, name: str, ca: tuple[Path, Path], *, server: bool) -> tuple[Path, Path]:
    """A leaf certificate signed by *ca*: (``<name>.pem``, ``<name>.key``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    directory = Path(directory)
    ca_cert = x509.load_pem_x509_certificate(Path(ca[0]).read_bytes())
    ca_key = serialization.load_pem_private_key(Path(ca[1]).read_bytes(), password=None)
    key = _key()
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(SERVER_NAME if server else name))
               .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName(SERVER_NAME), x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    _write_cert(cert_path, cert)
    _write_key(key_path, key)
    return cert_path, key_path


def make_test_pki(directory: str | Path) -> dict[str, Path]:
    """CA + server + client certificates in *directory*; returns their paths by role."""
    directory = Path(directory)
    ca = make_ca(directory, "ca")
    server = issue(directory, "server", ca, server=True)
    client = issue(directory, "client", ca, server=False)
    return {"ca_cert": ca[0], "ca_key": ca[1], "server_cert": server[0], "server_key": server[1],
            "client_cert": client[0], "client_key": client[1]}


def generated_files(directory: str | Path, mutual: bool) -> TlsFiles:
    """Throw-away PKI in *directory* (made once, reused across restarts) as the fleet's TlsFiles."""
    directory = Path(directory)
    if not all((directory / f).is_file() for f in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")):
        make_test_pki(directory)
    return TlsFiles(cert=directory / "server.pem", key=directory / "server.key",
                    client_ca=directory / "ca.pem" if mutual else None, ca_cert=directory / "ca.pem",
                    client_cert=directory / "client.pem" if mutual else None,
                    client_key=directory / "client.key" if mutual else None)
