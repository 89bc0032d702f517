"""A small SSH jump host (bastion) for tests: it authenticates one user and forwards ``direct-tcpip``
channels (what ``ssh -J`` / OpenSSH ProxyJump opens) to loopback targets only.

Run ``python -m swim_sim.jumphost --port 2222 --user jump --password pw --state-dir DIR``: it writes its host
key (``DIR/jumphost_host_key``, created once) and a known_hosts line (``DIR/jumphost_known_hosts``), prints
``listening on 127.0.0.1:PORT`` and serves until SIGTERM/SIGINT. Tests use :class:`JumpHost` directly
(``start()``, ``.port``, ``stop()``). A target that is not a loopback address is refused (administratively
prohibited): the jump host can never be used to reach anything beyond this machine.

``python -m swim_sim.jumphost --relay HOST PORT`` is a ProxyCommand for tests (what ``nc HOST PORT`` does):
it connects to a loopback HOST:PORT and relays stdin/stdout to it.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import socket
import sys
import threading
from pathlib import Path

import paramiko

from .fetch import is_loopback
from .ssh_keys import load_or_create_ed25519, public_line, write_text_atomic

logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # probes and resets are not errors here
CHUNK = 32768


class _Server(paramiko.ServerInterface):
    def __init__(self, jump: "JumpHost"):
        self.jump = jump
        self.targets: dict[int, socket.socket] = {}

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_password(self, username, password):
        ok = username == self.jump.user and password == self.jump.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        ok = username == self.jump.user and (key.get_name(), key.get_base64()) in self.jump.authorized_keys
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED  # no shell, no exec: forwarding only

    def check_channel_direct_tcpip_request(self, chanid, origin, destination):
        host, port = destination
        if not is_loopback(host):
            self.jump.refused.append(f"{host}:{port}")
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        try:
            self.targets[chanid] = socket.create_connection((host, port), timeout=5)
        except OSError:
            return paramiko.OPEN_FAILED_CONNECT_FAILED
        self.jump.forwarded.append(f"{host}:{port}")
        return paramiko.OPEN_SUCCEEDED


def _pump(source_read, sink_write, on_end) -> None:
    try:
        while True:
            data = source_read(CHUNK)
            if not data:
                break
            sink_write(data)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        # Closing the other side can meet a transport the client already shut down: that is the end, too.
        try:
            on_end()
        except (OSError, EOFError, paramiko.SSHException):
            pass


class JumpHost:
    """One listening SSH jump host on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, host_key: paramiko.PKey, user: str = "jump", password: str = "jump-pw", port: int = 0,
                 authorized_keys: set | None = None):
        self.host_key, self.user, self.password = host_key, user, password
        self.authorized_keys = set(authorized_keys or ())
        self.forwarded: list[str] = []  # targets of accepted channels
        self.refused: list[str] = []  # non-loopback targets refused
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._thread = threading.Thread(target=self._accept, name="jumphost", daemon=True)

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {public_line(self.host_key)}\n"

    def start(self) -> "JumpHost":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        for transport in list(self._transports):
            transport.close()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        transport = paramiko.Transport(client)
        transport.add_server_key(self.host_key)
        server = _Server(self)
        self._transports.append(transport)
        try:
            transport.start_server(server=server)
        except (paramiko.SSHException, EOFError, OSError):
            transport.close()
            return
        while transport.is_active() and not self._stop.is_set():
            channel = transport.accept(timeout=1)
            if channel is None:
                continue
            target = server.targets.pop(channel.get_id(), None)
            if target is None:
                channel.close()
                continue
            self._forward(channel, target)
        transport.close()

    @staticmethod
    def _forward(channel, target: socket.socket) -> None:
        def close():
            for end in (channel, target):
                try:
                    end.close()
                except OSError:
                    pass

        threading.Thread(target=_pump, args=(channel.recv, target.sendall, close), daemon=True).start()
        threading.Thread(target=_pump, args=(target.recv, channel.sendall, close), daemon=True).start()


def relay(host: str, port: int) -> int:
    """stdin/stdout <-> a loopback host:port, until either side closes (an OpenSSH ProxyCommand)."""
    if not is_loopback(host):
        print(f"refusing {host}:{port}: loopback targets only", file=sys.stderr)
        return 2
    target = socket.create_connection((host, port), timeout=10)
    target.settimeout(None)
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    while True:
        ready, _, _ = select.select([stdin, target], [], [])
        if stdin in ready:
            data = os.read(stdin, CHUNK)
            if not data:
                return 0
            target.sendall(data)
        if target in ready:
            data = target.recv(CHUNK)
            if not data:
                return 0
            os.write(stdout, data)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swim_sim.jumphost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--relay", nargs=2, metavar=("HOST", "PORT"), help="act as a ProxyCommand to HOST:PORT")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="jump")
    parser.add_argument("--password", default="jump-pw")
    parser.add_argument("--state-dir", default=".", help="where the host key and the known_hosts line go")
    args = parser.parse_args(argv)
    if args.relay:
        return relay(args.relay[0], int(args.relay[1]))
    state = Path(args.state_dir)
    key = load_or_create_ed25519(state / "jumphost_host_key")
    jump = JumpHost(key, user=args.user, password=args.password, port=args.port)
    write_text_atomic(state / "jumphost_known_hosts", jump.known_hosts_line())
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    jump.start()
    print(f"listening on 127.0.0.1:{jump.port}", flush=True)
    done.wait()
    jump.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
