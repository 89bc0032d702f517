"""A TLS-terminating loopback proxy in front of a real Tansu broker (Tansu 0.6 refuses ``--cert`` with
``--key``, so TLS is added in front of it): clients speak Kafka over TLS to the proxy, the proxy speaks
plain Kafka to Tansu, and Tansu advertises the proxy, so every connection a client opens is TLS.

asyncio in one daemon thread (one SSL object is never read and written from two threads at once);
every wait is bounded.
"""
from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path

from kafka_testing import ProxiedTansu


class TlsProxy:
    """127.0.0.1:port (TLS, *cert*/*key*) -> 127.0.0.1:target (plain TCP). ``connections`` counts the
    clients that completed the TLS handshake."""

    def __init__(self, target: int, cert: Path, key: Path, port: int = 0):
        from swim_sim.broker import free_port

        self.target = target
        self.port = port or free_port()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(cert), str(key))
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def up(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self.context,
                                                  ssl_handshake_timeout=10)

    async def _handle(self, reader, writer) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.target), 5)
        except (OSError, asyncio.TimeoutError):
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError, ConnectionError):
            pass
        finally:
            try:
                writer.close()
            except (OSError, RuntimeError):
                pass

    def down(self) -> None:
        if not self._thread.is_alive():
            return

        async def close():
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class TlsTansu(ProxiedTansu):
    """A real Tansu broker reachable only through a :class:`TlsProxy` (it advertises the proxy), whose
    certificate is signed by ``pki["ca_cert"]`` (tools/swim_sim/tls.py ``make_test_pki``)."""

    def __init__(self, log_path: Path, pki: dict):
        super().__init__(log_path)
        self.pki = pki
        self.proxy = TlsProxy(self.listen_port, pki["server_cert"], pki["server_key"])
        self.client_options = {"security_protocol": "SSL", "ssl_cafile": str(pki["ca_cert"])}
