# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The SSH leg of the NETCONF transport: socket (direct, ProxyJump, ProxyCommand), host keys, authentication.

PRIVATE to the collection. :func:`open_manager` returns an ncclient ``Manager`` after the hello, or raises
:class:`DeviceError` with a reason that says what failed, classified by cause:

* the device could not be reached (refused, timeout, no route, DNS, SSH cut before or during the
  authentication: a restarting device) -> ``CONNECTION_REFUSED``, ``CONNECT_TIMEOUT``, ``UNREACHABLE``,
  ``UNKNOWN_HOST``, ``SSH_ERROR``, ``CONNECTION_LOST``, retryable (DNS excepted); ``unreachable`` is set by the
  caller while the device never answered a hello to this Device;
* the device answered and refused -> ``HOST_KEY_MISMATCH``, ``HOST_KEY_UNKNOWN``, ``AUTHENTICATION_FAILED``
  (only when the server rejected the credentials), ``SSH_NEGOTIATION_FAILED`` (no common algorithm).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field

try:
    import paramiko
    from ncclient import manager as nc_manager
    from ncclient.operations import RaiseMode
    from ncclient.transport import SSHSession
    from ncclient.transport import errors as nc_transport_errors
except ImportError as exc:  # reported by the transport, only when a task uses NETCONF
    SSH_IMPORT_ERROR: ImportError | None = exc
    paramiko = nc_manager = nc_transport_errors = RaiseMode = None
    SSHSession = HostKeysBase = object
else:
    SSH_IMPORT_ERROR = None
    HostKeysBase = paramiko.HostKeys

DEFAULT_PORT = 830

# ncclient logs every RPC it sends at INFO (a download action carries the image URL with its credentials),
# and paramiko's transport thread logs a failed negotiation as an ERROR with a traceback (ncclient names
# that log channel ncclient.transport.ssh). Every failure becomes a DeviceError with a clear message, so
# neither library's records may reach the host's handlers: Ansible shows them as warnings.
for _name in ("ncclient", "paramiko"):
    _logger = logging.getLogger(_name)
    _logger.setLevel(logging.WARNING)
    _logger.addHandler(logging.NullHandler())
    _logger.propagate = False

# The host-key algorithms a known_hosts key type is used with (RFC 8332: an ssh-rsa key signs with
# rsa-sha2-512/256; paramiko >= 4 has no SHA-1 ssh-rsa signatures any more).
_KEY_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256")}
# what ends an authentication without a server's rejection: the transport went away under it
_LOST_DURING_AUTH = ("transport shut down or saw EOF", "Authentication timeout", "No existing session", "EOFError",
                     "ConnectionResetError", "BrokenPipeError", "Connection reset", "Socket is closed")
_REJECTED = ("Authentication failed.'", "BadAuthenticationType", "No authentication methods available",
             "PasswordRequiredException")


class ConnectFailure(Exception):
    """A classified connection failure; the transport turns it into a DeviceError."""

    def __init__(self, reason: str, detail: str, retryable: bool = False, reached: bool = False):
        super().__init__(detail)
        self.reason, self.detail, self.retryable, self.reached = reason, detail, retryable, reached


@dataclass
class SshSettings:
    """The SSH options of one device (the connection options of the task, ssh_config applied)."""
    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None
    key_files: list = field(default_factory=list)
    host_key_checking: bool = True
    known_hosts_file: str | None = None
    proxy_jump: str | None = None
    proxy_command: str | None = None
    connect_timeout: float = 10.0
    rpc_timeout: float = 30.0
    ssh_config: str | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_params(cls, params: dict) -> "SshSettings":
        settings = cls(host=params["host"], port=int(params.get("port") or 0),
                       username=params.get("username") or None, password=params.get("password") or None,
                       key_files=[params["ssh_key_file"]] if params.get("ssh_key_file") else [],
                       host_key_checking=params.get("host_key_checking") is not False,
                       known_hosts_file=params.get("known_hosts_file") or None,
                       proxy_jump=params.get("proxy_jump") or None,
                       connect_timeout=float(params.get("connect_timeout") or 10.0),
                       rpc_timeout=float(params.get("rpc_timeout") or 30.0),
                       ssh_config=params.get("ssh_config") or None)
        if settings.ssh_config:
            settings.apply_config(_read_config(settings.ssh_config))
        settings.port = settings.port or DEFAULT_PORT
        return settings

    def apply_config(self, config) -> None:
        """What an OpenSSH client config says for this host; the task's explicit options win."""
        found = _lookup(config, self.host, self.port or DEFAULT_PORT)
        self.host = found.get("hostname", self.host)
        self.port = self.port or int(found.get("port") or 0)
        self.username = self.username or found.get("user")
        self.key_files = self.key_files or [os.path.expanduser(f) for f in found.get("identityfile", [])]
        if not self.known_hosts_file and found.get("userknownhostsfile"):
            self.known_hosts_file = os.path.expanduser(found["userknownhostsfile"].split()[0])
        if not self.proxy_jump and found.get("proxyjump", "none").lower() != "none":
            self.proxy_jump = found["proxyjump"]
        if not self.proxy_jump and found.get("proxycommand", "none").lower() != "none":
            self.proxy_command = found["proxycommand"]


_CONFIG_LOCK = threading.Lock()


def _lookup(config, host: str, port: int) -> dict:
    """``config.lookup(host)`` with ``%p`` standing for *port* when the file gives none: paramiko expands it
    to its module default (22), not to the NETCONF port (ncclient works around it the same way)."""
    with _CONFIG_LOCK:
        saved, paramiko.config.SSH_PORT = paramiko.config.SSH_PORT, port
        try:
            return config.lookup(host)
        finally:
            paramiko.config.SSH_PORT = saved


def _read_config(path: str):
    try:
        return paramiko.SSHConfig.from_path(os.path.expanduser(path))
    except OSError as exc:
        raise ConnectFailure("ERROR_IN_REQUEST", f"ssh_config file {path} cannot be read: {exc.strerror}")


class PreferringHostKeys(HostKeysBase):
    """known_hosts entries whose :meth:`lookup` orders the host-key algorithms ncclient offers.

    WORKAROUND for ncclient 0.7.1 (``SSHSession.connect``): it sets paramiko's offered host-key algorithms to
    the *key type names* of the host's known_hosts entries. An RSA entry's type is ``ssh-rsa``, but an RSA host
    key signs with ``rsa-sha2-512``/``rsa-sha2-256`` (RFC 8332), and servers built on current OpenSSH or libssh
    (paramiko >= 4 too) have no SHA-1 ``ssh-rsa``: "no acceptable host key". Fixed on ncclient's main branch by
    ncclient/ncclient#661 ("Preserve RSA-SHA2 host key algorithms for RSA known_hosts entries"), not released
    in 0.7.1; once a release with it is required, the alias part of this class can go. The other part stays:
    like OpenSSH, the known key types come first and every other algorithm after them, so a server whose key
    is of another type than the recorded one is seen, and refused as HOST_KEY_MISMATCH, instead of failing the
    negotiation with an empty reason.
    """

    def lookup(self, hostname):
        known = super().lookup(hostname)
        if not known:
            return None
        order: dict = {}
        for key_type in known.keys():
            for algorithm in _KEY_ALGORITHMS.get(key_type, (key_type,)):
                order.setdefault(algorithm, known[key_type])
        for algorithm in paramiko.Transport._preferred_keys:
            order.setdefault(algorithm, None)
        return order

    def recorded(self, *names: str) -> dict:
        """The entries really recorded for any of *names* (key type -> key)."""
        found: dict = {}
        for name in names:
            found.update(dict(super().lookup(name) or {}))
        return found

    def check(self, hostname, key) -> bool:
        recorded = self.recorded(hostname).get(key.get_name())
        return recorded is not None and recorded.asbytes() == key.asbytes()


class CheckedSession(SSHSession):
    """An ncclient SSH session that verifies host keys against one known_hosts file (the option) and keeps
    the jump-host connections its socket runs through, closing them with the session."""

    def __init__(self, device_handler, known_hosts_file: str | None):
        super().__init__(device_handler)
        self._host_keys = PreferringHostKeys()
        self._known_hosts_file = known_hosts_file
        self.jump_clients: list = []

    def load_known_hosts(self, filename=None):
        path = filename or self._known_hosts_file or os.path.expanduser("~/.ssh/known_hosts")
        if os.path.exists(path):
            self._host_keys.load(path)

    def close(self):
        try:
            super().close()
        finally:
            close_all(self.jump_clients)


def close_all(clients) -> None:
    for client in reversed(clients):
        try:
            client.close()
        except Exception:  # noqa: BLE001 -- best effort while tearing down
            pass
    clients.clear()


def tcp_socket(host: str, port: int, timeout: float, what: str = "NETCONF/SSH port") -> socket.socket:
    where = f"{host}:{port}"
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        raise ConnectFailure("CONNECTION_REFUSED", f"{what} {where} refused the connection", retryable=True)
    except socket.gaierror as exc:
        raise ConnectFailure("UNKNOWN_HOST", f"cannot resolve {host}: {exc.strerror}")
    except (socket.timeout, TimeoutError):
        raise ConnectFailure("CONNECT_TIMEOUT", f"no answer from {what} {where}", retryable=True)
    except OSError as exc:
        raise ConnectFailure("UNREACHABLE", f"cannot connect to {what} {where}: {exc.strerror or exc}",
                             retryable=True)


def parse_jump(spec: str) -> list[tuple[str | None, str, int]]:
    """OpenSSH ProxyJump ``[user@]host[:port][,...]`` -> [(user, host, port)] (port 22 by default)."""
    hops = []
    for hop in (part.strip() for part in spec.split(",")):
        if not hop:
            continue
        hop = hop[len("ssh://"):] if hop.startswith("ssh://") else hop
        user, _sep, rest = hop.rpartition("@")
        if rest.startswith("["):
            host, _sep, tail = rest[1:].partition("]")
            port = tail[1:] if tail.startswith(":") else ""
        else:
            host, _sep, port = rest.partition(":")
        if not host or (port and not port.isdigit()):
            raise ConnectFailure("ERROR_IN_REQUEST", f"proxy_jump {spec!r}: expected [user@]host[:port]")
        hops.append((user or None, host, int(port or 22)))
    return hops


def _jump_host_failure(exc: Exception, where: str, target: str) -> ConnectFailure:
    if isinstance(exc, ConnectFailure):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return ConnectFailure("HOST_KEY_MISMATCH", f"the SSH host key of jump host {where} does not match the "
                              "recorded one; refusing to connect", reached=True)
    if isinstance(exc, paramiko.AuthenticationException) and "transport shut down" not in str(exc):
        return ConnectFailure("AUTHENTICATION_FAILED", f"jump host {where} refused the SSH login ({exc})",
                              reached=True)
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return ConnectFailure("HOST_KEY_UNKNOWN", f"the SSH host key of jump host {where} is not in the "
                              "known_hosts file; add it (ssh-keyscan)", reached=True)
    if isinstance(exc, paramiko.ChannelException):
        # OPEN_FAILED_CONNECT_FAILED (2): the device does not answer the jump host now; 1 (administratively
        # prohibited): the jump host will never forward there
        return ConnectFailure("UNREACHABLE", f"jump host {where} could not open the connection to {target}: "
                              f"{exc.text}", retryable=exc.code != paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED)
    return ConnectFailure("SSH_ERROR", f"SSH session to jump host {where} failed: {type(exc).__name__}: {exc}",
                          retryable=True)


def jump_socket(settings: SshSettings, session: CheckedSession):
    """A channel to the device through the ProxyJump hops (each one an SSH client, host keys checked)."""
    config = _read_config(settings.ssh_config) if settings.ssh_config else None
    hops = parse_jump(settings.proxy_jump or "")
    timeout = max(1.0, min(settings.rpc_timeout, settings.connect_timeout))
    sock = None
    for index, (user, host, port) in enumerate(hops):
        key_files = list(settings.key_files)
        if config is not None:
            found = config.lookup(host)
            host, port = found.get("hostname", host), int(found.get("port") or port)
            user = user or found.get("user")
            key_files = [os.path.expanduser(f) for f in found.get("identityfile", [])] or key_files
        where = f"{host}:{port}"
        nxt = (hops[index + 1][1], hops[index + 1][2]) if index + 1 < len(hops) else (settings.host, settings.port)
        client = paramiko.SSHClient()
        session.jump_clients.append(client)
        if settings.host_key_checking:
            known = settings.known_hosts_file or os.path.expanduser("~/.ssh/known_hosts")
            if os.path.exists(known):
                client.load_host_keys(known)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        else:
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            if sock is None:
                sock = tcp_socket(host, port, timeout, what="jump host")
            client.connect(host, port=port, username=user or settings.username, password=settings.password,
                           key_filename=key_files or None, allow_agent=not (key_files or settings.password),
                           look_for_keys=not (key_files or settings.password), sock=sock, timeout=timeout,
                           banner_timeout=timeout, auth_timeout=timeout)
            sock = client.get_transport().open_channel("direct-tcpip", nxt, ("127.0.0.1", 0), timeout=timeout)
        except Exception as exc:  # noqa: BLE001 -- every paramiko failure is classified here
            close_all(session.jump_clients)
            raise _jump_host_failure(exc, where, f"{nxt[0]}:{nxt[1]}") from None
    return sock


def _auth_failure(exc: Exception, session, settings: SshSettings) -> ConnectFailure:
    """A server's rejection (AUTHENTICATION_FAILED), or a transport that went away during authentication."""
    text = str(exc)
    transport = getattr(session, "_transport", None)
    alive = transport is not None and transport.is_active()
    rejected = any(marker in text for marker in _REJECTED)
    if any(marker in text for marker in _LOST_DURING_AUTH) or (not alive and not rejected):
        return ConnectFailure("CONNECTION_LOST", f"the SSH session to {settings.where} closed during the "
                              "authentication, before the server accepted or rejected the login (the device "
                              "may be restarting)", retryable=True)
    how = " and ".join(w for w, v in (("password", settings.password), ("key file", settings.key_files)) if v)
    return ConnectFailure("AUTHENTICATION_FAILED", f"{settings.where} refused SSH user "
                          f"{settings.username or '(default)'} ({how or 'agent/default keys'})", reached=True)


def _host_key_failure(exc, session: CheckedSession, settings: SshSettings) -> ConnectFailure:
    recorded = session._host_keys.recorded(settings.host, f"[{settings.host}]:{settings.port}")
    source = settings.known_hosts_file or "~/.ssh/known_hosts"
    if recorded:
        server = session._transport.get_remote_server_key() if session._transport is not None else None
        kind = f"{server.get_name()} key" if server is not None else "key"
        other = (f"; {source} records a key of another type ({', '.join(sorted(recorded))})"
                 if server is not None and server.get_name() not in recorded else "")
        return ConnectFailure("HOST_KEY_MISMATCH", f"the SSH host {kind} of {settings.where} (fingerprint "
                              f"{exc.fingerprint}) does not match the one recorded in {source}{other}; refusing "
                              "to connect", reached=True)
    return ConnectFailure("HOST_KEY_UNKNOWN", f"the SSH host key of {settings.where} (fingerprint {exc.fingerprint}) "
                          f"is not in {source}; add it (ssh-keyscan) or set swim_known_hosts_file", reached=True)


def _session_failure(exc: Exception, settings: SshSettings) -> ConnectFailure:
    text = str(exc) or type(exc).__name__
    if "Incompatible ssh peer" in text or "no acceptable" in text or "no matching" in text:
        return ConnectFailure("SSH_NEGOTIATION_FAILED", f"no SSH algorithm in common with {settings.where}: {text}",
                              reached=True)
    return ConnectFailure("SSH_ERROR", f"NETCONF session to {settings.where} failed: {type(exc).__name__}: {text}",
                          retryable=True)


def _check_files(settings: SshSettings) -> None:
    if settings.host_key_checking and settings.known_hosts_file:
        try:
            with open(settings.known_hosts_file, "rb"):
                pass
        except OSError as exc:
            raise ConnectFailure("ERROR_IN_REQUEST",
                                 f"known_hosts file {settings.known_hosts_file} cannot be read: {exc.strerror}")
    for key_file in settings.key_files:
        if not os.access(key_file, os.R_OK):
            raise ConnectFailure("ERROR_IN_REQUEST", f"SSH key file {key_file} cannot be read")


def open_manager(settings: SshSettings):
    """TCP (direct or through the jump hosts), SSH (host key, authentication) and the hello exchange."""
    _check_files(settings)
    handler = nc_manager.make_device_handler({"name": "default"})
    session = CheckedSession(handler, settings.known_hosts_file if settings.host_key_checking else None)
    timeout = max(1.0, min(settings.rpc_timeout, settings.connect_timeout))
    sock = None
    try:
        if settings.proxy_jump:
            sock = jump_socket(settings, session)
        elif settings.proxy_command:
            sock = paramiko.ProxyCommand(settings.proxy_command)
        else:
            sock = tcp_socket(settings.host, settings.port, timeout)
        credentials = bool(settings.password or settings.key_files)
        session.connect(host=settings.host, port=settings.port, sock=sock, username=settings.username,
                        password=settings.password, key_filename=settings.key_files or None,
                        hostkey_verify=settings.host_key_checking, allow_agent=not credentials,
                        look_for_keys=not credentials, timeout=settings.rpc_timeout)
    except ConnectFailure:
        _close(session, sock)
        raise
    except nc_transport_errors.SSHUnknownHostError as exc:
        failure = _host_key_failure(exc, session, settings)
        _close(session, sock)
        raise failure from None
    except nc_transport_errors.AuthenticationError as exc:
        failure = _auth_failure(exc, session, settings)
        _close(session, sock)
        raise failure from None
    except Exception as exc:  # noqa: BLE001 -- paramiko raises its own types during a handshake cut by a reboot
        _close(session, sock)
        raise _session_failure(exc, settings) from None
    return nc_manager.Manager(session, handler, timeout=settings.rpc_timeout, raise_mode=RaiseMode.NONE)


def _close(session, sock) -> None:
    try:
        session.close()
    except Exception:  # noqa: BLE001 -- closing a half-open session must not hide the real error
        pass
    close_all(session.jump_clients)
    try:
        if sock is not None:
            sock.close()
    except Exception:  # noqa: BLE001
        pass


def close_manager(manager, polite: bool = True) -> None:
    try:
        if polite and manager.connected:
            manager.timeout = 2
            manager.close_session()
    except Exception:  # noqa: BLE001 -- best effort
        pass
    try:
        manager._session.close()
    except Exception:  # noqa: BLE001
        pass
