"""NETCONF-over-SSH front end (RFC 6241/6242, RFC 5277, RFC 7950 actions) over the device model.

Threading model:
  * the device model (device.py) lives in the fleet's asyncio loop; this module never touches it
    from another thread: requests are handed over with ``asyncio.run_coroutine_threadsafe``;
  * ONE accept thread serves the listening sockets of every device of the process (selectors);
  * per SSH connection paramiko runs one transport thread, and the ``netconf`` subsystem handler
    one session thread (RPCs are answered in order, in that thread);
  * notifications are produced in the loop thread and written by a small shared thread pool,
    one writer at a time per session (a per-session queue keeps their order); every write to a
    channel holds the session's write lock.

A device that is down (rebooting, ``never_returns``) or ``unreachable`` refuses TCP connections:
its listening socket is replaced by a bound, non-listening socket holding the port. Going down
drops every SSH connection of the device.
"""
from __future__ import annotations

import asyncio
import collections
import hmac
import itertools
import json
import logging
import os
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import paramiko
from lxml import etree

from .device import ACTIVATE, COMMIT, DOWNLOAD, Device, Refused, State, StatusEvent
from .netconf_framing import FrameReader, FramingError, frame
from .netconf_library import NMDA_NS, WITH_DEFAULTS_NS, NetconfProfile
from .netconf_nmda import GetDataRequest, check_with_defaults, parse_get_data
from .netconf_swm import (BASE_11, BASE_NS, NOTIF_NS, SWM_MODULE, YANG_NS, ActionError, ActionRequest,
                          download_output, netmod_notification, notification, parse_action, parse_date_time, q,
                          render_config, render_data, revision_notification, subtree_filter)
from .netconf_xml import RpcError, compose

log = logging.getLogger("swim_sim.netconf")
# paramiko logs every probe/reset connection as an ERROR with a traceback (one record per line); the
# simulator logs sessions and authentication failures itself. Its own records show at --log-level DEBUG.
if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

NOTIFICATION_LOG_SIZE = 256  # per device, for create-subscription startTime replay (kept across restarts)
MAX_CONNECTIONS_PER_DEVICE = 16
MAX_THREADS = 1200  # refuse new connections above this many threads in the process (2 per connection)
SEND_TIMEOUT = 30.0  # a peer that does not read for this long loses its session
HELLO_TIMEOUT = 60.0  # a client that sends no <hello> for this long loses its session
RPC_TIMEOUT = 60.0
# OpenSSH-like offers (as current OpenSSH/libssh servers make them): no SHA-1 ``ssh-rsa`` signatures for RSA host
# keys or RSA client keys (RFC 8332: rsa-sha2-512/256 only), no DSA, no CBC ciphers, no MD5 or truncated MACs, no
# SHA-1 key exchange.
DISABLED_ALGORITHMS = {
    "keys": ["ssh-rsa", "ssh-dss"],
    "pubkeys": ["ssh-rsa", "ssh-dss"],
    "ciphers": ["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc", "blowfish-cbc"],
    "macs": ["hmac-md5", "hmac-md5-96", "hmac-sha1-96"],
    "kex": ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1"],
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=False)
_session_ids = itertools.count(1)


@dataclass
class Credentials:
    username: str
    password: str | None = None
    authorized_keys: set[tuple[str, str]] = field(default_factory=set)


def refused_error(exc: Refused) -> RpcError:
    return RpcError("data-missing" if exc.missing else "operation-failed", exc.message,
                    app_tag=f"{SWM_MODULE}:{exc.tag}")


# ------------------------------------------------------------------ SSH server side
class _SshServer(paramiko.ServerInterface):
    def __init__(self, credentials: Credentials, device_name: str):
        self.credentials = credentials
        self.device_name = device_name

    def get_allowed_auths(self, username):
        methods = []
        if self.credentials.authorized_keys:
            methods.append("publickey")
        if self.credentials.password:
            methods.append("password")
        return ",".join(methods)

    def check_auth_password(self, username, password):
        cred = self.credentials
        if cred.password and hmac.compare_digest(username.encode(), cred.username.encode()) \
                and hmac.compare_digest(password.encode(), cred.password.encode()):
            return paramiko.AUTH_SUCCESSFUL
        log.info("%s: NETCONF password authentication failed for user %r", self.device_name, username)
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        if username == self.credentials.username and (key.get_name(), key.get_base64()) in self.credentials.authorized_keys:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class NetconfSession(paramiko.SubsystemHandler):
    """One NETCONF session (the ``netconf`` subsystem of one SSH channel)."""

    def __init__(self, channel, name, server, ncdev: "NetconfDevice"):
        super().__init__(channel, name, server)
        self.ncdev = ncdev
        self.channel = channel
        self.session_id = next(_session_ids)
        self.chunked = False
        self.closing = False
        self._wlock = threading.Lock()
        # notification delivery
        self._qlock = threading.Lock()
        self._queue: collections.deque = collections.deque()
        self._draining = False
        self._enabled = False
        self.subscribed = False
        self._filter: etree._Element | None = None
        self._stop_time: float | None = None

    # ---------------------------------------------------------- output
    def send(self, message: bytes) -> None:
        with self._wlock:
            self.channel.sendall(frame(message, self.chunked))

    def push(self, message: bytes) -> None:
        """Queue a notification (any thread); it is written after earlier ones, never concurrently."""
        with self._qlock:
            self._queue.append(message)
            self._schedule()

    def _schedule(self) -> None:  # holds _qlock
        if self._enabled and not self._draining and self._queue and not self.closing:
            self._draining = True
            self.ncdev.server.executor.submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._qlock:
                if not self._queue or self.closing:
                    self._draining = False
                    return
                message = self._queue.popleft()
            try:
                message = self._filtered(message)
                if message is not None:
                    self.send(message)
            except Exception as exc:  # the session is gone (or its peer stopped reading)
                log.info("%s: session %d: notification not delivered (%s); dropping the session",
                         self.ncdev.name, self.session_id, exc or type(exc).__name__)
                with self._qlock:
                    self._queue.clear()
                    self._draining = False
                self.kill()
                return

    def _filtered(self, message: bytes) -> bytes | None:
        if self._filter is None and self._stop_time is None:
            return message
        envelope = etree.fromstring(message, _PARSER)
        if etree.QName(envelope[-1]).namespace == "urn:ietf:params:xml:ns:netmod:notification":
            return message
        if self._stop_time is not None:
            stamp = parse_date_time(envelope.findtext(q(NOTIF_NS, "eventTime")) or "")
            if stamp > self._stop_time:
                return None
        if self._filter is not None:
            kept = list(subtree_filter(envelope, self._filter))  # without eventTime: no filter node selects it
            if not kept:
                return None
            head = etree.Element(envelope.tag, nsmap=envelope.nsmap)
            head.append(envelope[0])  # eventTime
            return compose(head, kept)
        return message

    def kill(self) -> None:
        """Drop the SSH connection of this session (any thread; does not block)."""
        self.closing = True
        transport = self.channel.get_transport()
        self.ncdev.server.drop_transport(transport)

    # ---------------------------------------------------------- main loop
    def start_subsystem(self, name, transport, channel):
        ncdev = self.ncdev
        ncdev.add_session(self)
        log.info("%s: NETCONF session %d opened", ncdev.name, self.session_id)
        try:
            self._serve()
        except (EOFError, OSError, socket.error, paramiko.SSHException) as exc:
            log.debug("%s: session %d: connection ended: %s", ncdev.name, self.session_id, exc)
        except FramingError as exc:
            log.warning("%s: session %d: framing error, closing: %s", ncdev.name, self.session_id, exc)
        except Exception:
            log.exception("%s: session %d crashed", ncdev.name, self.session_id)
        finally:
            self.closing = True
            ncdev.remove_session(self)
            log.info("%s: NETCONF session %d closed", ncdev.name, self.session_id)
            try:
                channel.close()
            except Exception:
                pass

    def _serve(self) -> None:
        caps = self.ncdev.capabilities()
        hello = etree.Element(q(BASE_NS, "hello"), nsmap={None: BASE_NS})
        cap_list = etree.SubElement(hello, q(BASE_NS, "capabilities"))
        for cap in caps:
            etree.SubElement(cap_list, q(BASE_NS, "capability")).text = cap
        etree.SubElement(hello, q(BASE_NS, "session-id")).text = str(self.session_id)
        self.send(etree.tostring(hello))
        reader = FrameReader()
        got_hello = False
        self.channel.settimeout(min(SEND_TIMEOUT, HELLO_TIMEOUT))  # bounds sendall; recv timeouts are idle time
        started = time.monotonic()
        while not self.closing:
            try:
                data = self.channel.recv(65536)
            except socket.timeout:
                if not got_hello and time.monotonic() - started > HELLO_TIMEOUT:
                    log.info("%s: session %d: no client hello within %.0fs; closing", self.ncdev.name,
                             self.session_id, HELLO_TIMEOUT)
                    return
                continue
            if not data:
                return
            messages = reader.feed(data)
            while messages and not self.closing:
                for message in messages:
                    if not got_hello:
                        if not self._client_hello(message, caps):
                            return
                        got_hello = True
                        if self.chunked:
                            reader.switch_to_chunked()
                    else:
                        self._rpc(message)
                    if self.closing:
                        return
                messages = reader.feed(b"")

    def _client_hello(self, message: bytes, caps: list[str]) -> bool:
        try:
            root = etree.fromstring(message, _PARSER)
        except etree.XMLSyntaxError:
            log.info("%s: session %d: client hello is not XML; closing", self.ncdev.name, self.session_id)
            return False
        if root.tag != q(BASE_NS, "hello") or root.find(q(BASE_NS, "session-id")) is not None:
            log.info("%s: session %d: bad client hello; closing", self.ncdev.name, self.session_id)
            return False
        client_caps = {(c.text or "").strip() for c in root.iter(q(BASE_NS, "capability"))}
        if not any(c.startswith("urn:ietf:params:netconf:base:1.") for c in client_caps):
            log.info("%s: session %d: client supports no common base version; closing", self.ncdev.name,
                     self.session_id)
            return False
        self.chunked = BASE_11 in client_caps and BASE_11 in caps
        log.debug("%s: session %d: framing %s", self.ncdev.name, self.session_id, "1.1" if self.chunked else "1.0")
        return True

    # ---------------------------------------------------------- RPCs
    def _reply(self, rpc: etree._Element | None, body: list) -> bytes:
        reply = etree.Element(q(BASE_NS, "rpc-reply"), nsmap={None: BASE_NS})
        if rpc is not None:
            for key, value in rpc.attrib.items():
                reply.set(key, value)
        return compose(reply, body)

    def _rpc(self, message: bytes) -> None:
        try:
            rpc = etree.fromstring(message, _PARSER)
        except etree.XMLSyntaxError as exc:
            self.send(self._reply(None, [RpcError("malformed-message", f"not well-formed XML: {exc}",
                                                  "rpc").element()]))
            return
        if rpc.tag != q(BASE_NS, "rpc"):
            self.send(self._reply(None, [RpcError("unknown-element", f"expected <rpc>, got {rpc.tag}", "rpc",
                                                  bad_element=etree.QName(rpc).localname).element()]))
            return
        after = None
        try:
            if rpc.get("message-id") is None:
                raise RpcError("missing-attribute", "<rpc> has no message-id attribute", "rpc",
                               bad_element="rpc")
            ops = [c for c in rpc if isinstance(c.tag, str)]
            if len(ops) != 1:
                raise RpcError("malformed-message" if not ops else "bad-element",
                               "an <rpc> must contain exactly one operation", "rpc")
            body, after = self._dispatch(ops[0])
        except RpcError as exc:
            body = [exc.element()]
        self.send(self._reply(rpc, body))
        if after is not None:
            after()

    def _in_loop(self, coro_factory):
        """Run ``coro_factory()`` in the model's loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coro_factory(), self.ncdev.server.loop)
        return future.result(RPC_TIMEOUT)

    def _dispatch(self, op: etree._Element):
        qname = etree.QName(op)
        ns, name = qname.namespace, qname.localname
        ok = [etree.Element(q(BASE_NS, "ok"), nsmap={None: BASE_NS})]
        if ns == BASE_NS and name == "get":
            flt = self._filter_arg(op)
            self._with_defaults(op)
            return [self._in_loop(lambda: self.ncdev.get_data(flt))], None
        if ns == NMDA_NS and name == "get-data" and self.ncdev.profile.nmda:
            request = parse_get_data(op, self.ncdev.profile)
            return [self._in_loop(lambda: self.ncdev.get_datastore(request))], None
        if ns == BASE_NS and name == "get-config":
            source = op.find(q(BASE_NS, "source"))
            if source is None or len(source) != 1:
                raise RpcError("missing-element", "get-config needs <source>", "protocol", bad_element="source")
            if etree.QName(source[0]).localname != "running":
                raise RpcError("invalid-value", f"datastore {etree.QName(source[0]).localname} is not supported",
                               "protocol", bad_element=etree.QName(source[0]).localname)
            flt = self._filter_arg(op)
            self._with_defaults(op)
            return [self._in_loop(lambda: self.ncdev.get_config(flt))], None
        if ns == BASE_NS and name == "close-session":
            self.closing = True
            return ok, None
        if ns == BASE_NS and name == "kill-session":
            target = (op.findtext(q(BASE_NS, "session-id")) or "").strip()
            if not target.isdigit():
                raise RpcError("missing-element", "kill-session needs a session-id", "protocol",
                               bad_element="session-id")
            if int(target) == self.session_id:
                raise RpcError("invalid-value", "a session cannot kill itself; use close-session", "protocol",
                               bad_element="session-id")
            victim = self.ncdev.session(int(target))
            if victim is None:
                raise RpcError("invalid-value", f"no session {target} on this device", "protocol",
                               bad_element="session-id")
            victim.kill()
            return ok, None
        if ns == NOTIF_NS and name == "create-subscription":
            return self._subscribe(op)
        if ns == YANG_NS and name == "action":
            return self._action(op)
        if ns == BASE_NS and name in ("lock", "unlock", "edit-config", "copy-config", "delete-config", "validate",
                                      "commit", "discard-changes", "cancel-commit"):
            raise RpcError("operation-not-supported", f"<{name}> is not supported by this simulated device",
                           "protocol")
        raise RpcError("operation-not-supported", f"unknown operation {qname.text}", "protocol")

    def _with_defaults(self, op: etree._Element) -> None:
        if not self.ncdev.profile.legacy_hello:  # the old simulator announced no with-defaults capability
            check_with_defaults(op, WITH_DEFAULTS_NS)

    def _filter_arg(self, op: etree._Element) -> etree._Element | None:
        flt = op.find(q(BASE_NS, "filter"))
        if flt is None:
            return None
        kind = flt.get("type", "subtree")
        if kind != "subtree":
            raise RpcError("invalid-value", f"filter type {kind!r} is not supported (only subtree)", "protocol",
                           bad_element="filter")
        return flt

    def _subscribe(self, op: etree._Element):
        if self.subscribed:
            raise RpcError("operation-failed", "this session already has a subscription", "protocol")
        stream = (op.findtext(q(NOTIF_NS, "stream")) or "NETCONF").strip()
        if stream != "NETCONF":
            raise RpcError("invalid-value", f"no stream {stream!r} (only NETCONF)", "protocol", bad_element="stream")
        flt = op.find(q(NOTIF_NS, "filter"))
        if flt is not None and flt.get("type", "subtree") != "subtree":
            raise RpcError("invalid-value", "only subtree filters are supported", "protocol", bad_element="filter")
        now = time.time()
        try:
            start = op.findtext(q(NOTIF_NS, "startTime"))
            stop = op.findtext(q(NOTIF_NS, "stopTime"))
            start_time = parse_date_time(start) if start else None
            stop_time = parse_date_time(stop) if stop else None
        except ValueError as exc:
            raise RpcError("bad-element", str(exc), "protocol") from None
        if stop_time is not None and start_time is None:
            raise RpcError("missing-element", "stopTime requires startTime", "protocol", bad_element="startTime")
        if start_time is not None and start_time > now + 1.0:
            raise RpcError("bad-element", "startTime is in the future", "protocol", bad_element="startTime")
        if stop_time is not None and stop_time < start_time:
            raise RpcError("bad-element", "stopTime is before startTime", "protocol", bad_element="stopTime")
        self._filter = flt if flt is not None and len(flt) else None
        self._stop_time = stop_time
        replay = self.ncdev.subscribe(self, start_time, stop_time)
        with self._qlock:
            for message in replay:
                self._queue.append(message)
            if start_time is not None:
                canonical = self.ncdev.profile.canonical
                self._queue.append(netmod_notification("replayComplete", time.time(), canonical))
                if stop_time is not None and stop_time <= now:
                    self._queue.append(netmod_notification("notificationComplete", time.time(), canonical))

        def enable():
            with self._qlock:
                self._enabled = True
                self._schedule()

        return [etree.Element(q(BASE_NS, "ok"), nsmap={None: BASE_NS})], enable

    def _action(self, op: etree._Element):
        try:
            request = parse_action(op)
        except ActionError as exc:
            raise RpcError(exc.error_tag, exc.message, "application" if exc.error_tag == "data-missing" else "protocol",
                           bad_element=exc.bad_element) from None
        if not self.ncdev.swm_model:
            raise RpcError("unknown-element", f"{SWM_MODULE} is not implemented by this device", "protocol",
                           bad_element="software")
        profile = self.ncdev.profile
        if request.name == "download" and not profile.legacy_hello:
            selection = "by-user" if request.user_replace_id is not None else "by-system"
            if selection not in profile.target_selection:  # the choice's case is if-feature gated
                raise RpcError("unknown-element", f"selected-{selection} needs the {SWM_MODULE} feature "
                               f"download-target-selection-{selection}, which this device does not announce",
                               "protocol", bad_element=f"selected-{selection}")
        loop = self.ncdev.server.loop
        holder: dict = {}

        async def run():
            gate = loop.create_future()
            holder["gate"] = gate
            return self.ncdev.run_action(request, gate)

        try:
            output = self._in_loop(run)
        except Refused as exc:
            raise refused_error(exc) from None
        finally:
            gate = holder.get("gate")

        def release():
            if gate is not None:
                loop.call_soon_threadsafe(lambda: gate.done() or gate.set_result(None))

        return ([output] if output is not None else [etree.Element(q(BASE_NS, "ok"), nsmap={None: BASE_NS})]), release


# ------------------------------------------------------------------ one device
class NetconfDevice:
    """The NETCONF face of one :class:`Device`: its port, sessions and notification log."""

    def __init__(self, server: "NetconfServer", device: Device, host_key: paramiko.PKey | None = None):
        self.server = server
        self.device = device
        self.name = device.name
        self.host_key = host_key or server.host_key
        self.port: int = 0
        self.sock: socket.socket | None = None
        self.listening = False
        self.profile = NetconfProfile.of(device.spec)
        self.framing = self.profile.framing
        self.swm_model = self.profile.swm_implemented
        self.transports: set[paramiko.Transport] = set()
        self._sessions: dict[int, NetconfSession] = {}
        self._lock = threading.Lock()  # sessions, subscriptions and the notification log
        self._log: collections.deque = collections.deque(maxlen=NOTIFICATION_LOG_SIZE)
        # the replay log survives simulator restarts: <state-dir>/<name>.notifications.jsonl
        self._log_path = device.store.dir / f"{device.name}.notifications.jsonl" if device.store else None
        self._log_lines = 0
        self._load_log()
        device.add_listener(self._on_event)
        device.add_power_listener(self._on_power)

    def capabilities(self) -> list[str]:
        return self.profile.capabilities()

    # ---------------------------------------------------------- sessions
    def add_session(self, session: NetconfSession) -> None:
        with self._lock:
            self._sessions[session.session_id] = session

    def remove_session(self, session: NetconfSession) -> None:
        with self._lock:
            self._sessions.pop(session.session_id, None)

    def session(self, session_id: int) -> NetconfSession | None:
        with self._lock:
            return self._sessions.get(session_id)

    def subscribe(self, session: NetconfSession, start: float | None, stop: float | None) -> list[bytes]:
        """Register ``session`` for live notifications; return the replayed ones (atomically)."""
        with self._lock:
            replay = [] if start is None else [m for t, m in self._log if t >= start and (stop is None or t <= stop)]
            if stop is None or stop > time.time():
                session.subscribed = True
            return replay

    # ---------------------------------------------------------- loop-thread work
    async def get_data(self, flt) -> etree._Element:
        """``<get>``: running + config-false nodes (on an NMDA device, the components without their
        system-set config leaves)."""
        self._check_up()
        return subtree_filter(render_data(self.device, self.profile), flt)

    async def get_config(self, flt) -> etree._Element:
        self._check_up()
        return subtree_filter(render_config(self.device, self.profile), flt)

    async def get_datastore(self, request: GetDataRequest) -> etree._Element:
        """``<get-data>`` (RFC 8526) of ``running`` or ``operational``."""
        self._check_up()
        if request.datastore == "running":  # get-data's output <data> is in ietf-netconf-nmda's namespace
            data = render_config(self.device, self.profile, NMDA_NS)
        else:
            data = render_data(self.device, self.profile, request.view, NMDA_NS)
        return subtree_filter(data, request.filter)

    def _check_up(self) -> None:
        if not self.device.available:
            raise RpcError("resource-denied", f"device {self.name} is going down", "application")

    def run_action(self, request: ActionRequest, gate) -> etree._Element | None:
        """Loop thread. Raises Refused / RpcError; returns the action output element or None (<ok/>)."""
        self._check_up()
        device = self.device
        if request.name == "download":
            if request.user_replace_id == -1:
                raise Refused("maximum-number-of-revisions-reached",
                              f"{device.name} already has the maximum number of revisions (2); use replace")
            slot, old = device.bbf_download(request.url, replace_slot=request.user_replace_id,
                                            not_available_only=request.not_available_only, gate=gate)
            return download_output(slot, old)
        if request.name == "activate":
            device.bbf_activate(request.revision, gate)
        elif request.name == "commit":
            device.bbf_commit(request.revision)
        elif request.name == "abort-download":
            device.bbf_abort_download(request.revision)
        else:  # delete: the 'delete' capability is not offered
            raise Refused("request-not-supported", f"revision delete is not supported by {device.name}", missing=True)
        return None

    def _load_log(self) -> None:
        if self._log_path is None or not self._log_path.exists():
            return
        for line in self._log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
                self._log.append((float(entry["t"]), entry["xml"].encode()))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a torn last line after a crash
        self._log_lines = len(self._log)

    def _save_log(self, stamp: float, message: bytes) -> None:
        """Append to the log file; rewrite it (atomically) when it holds twice the bound."""
        if self._log_path is None:
            return
        try:
            if self._log_lines >= 2 * NOTIFICATION_LOG_SIZE:
                tmp = self._log_path.with_name(f".{self._log_path.name}.{os.getpid()}.tmp")
                tmp.write_text("".join(json.dumps({"t": t, "xml": m.decode()}) + "\n" for t, m in self._log))
                os.replace(tmp, self._log_path)
                self._log_lines = len(self._log)
            else:
                with open(self._log_path, "a") as handle:
                    handle.write(json.dumps({"t": stamp, "xml": message.decode()}) + "\n")
                self._log_lines += 1
        except OSError as exc:
            log.warning("%s: cannot write the notification log: %s", self.name, exc)

    def _on_event(self, device: Device, kind: str, event: StatusEvent) -> None:
        canonical = self.profile.canonical
        body = _event_notification(kind, event, canonical)
        if body is None or not self.swm_model:
            return
        message = notification(body, event.timestamp, canonical)
        with self._lock:
            self._log.append((event.timestamp, message))
            targets = [s for s in self._sessions.values() if s.subscribed]
        self._save_log(event.timestamp, message)
        for session in targets:
            session.push(message)

    def _on_power(self, device: Device, up: bool) -> None:
        self.server.set_listening(self, up)
        if not up:
            with self._lock:
                sessions = list(self._sessions.values())
            for session in sessions:
                session.closing = True
            for transport in self.transport_list():
                self.server.drop_transport(transport)

    def transport_list(self) -> list[paramiko.Transport]:
        with self._lock:
            return list(self.transports)

    def add_transport(self, transport: paramiko.Transport) -> bool:
        """Track a new connection; False when the device has too many live ones."""
        with self._lock:
            self.transports = {t for t in self.transports if t.is_active()}
            if len(self.transports) >= MAX_CONNECTIONS_PER_DEVICE:
                return False
            self.transports.add(transport)
            return True


def _event_notification(kind: str, event: StatusEvent, canonical: bool) -> etree._Element | None:
    """The nested bbf-swm notification of a procedure event (None: the event has none)."""
    if event.slot is None:
        return None
    name, tag, message = "", "", ""
    if kind == DOWNLOAD:
        if event.state is State.UPGRADE_COMPLETE:
            name = "revision-downloaded"
        elif event.state is State.UPGRADE_FAILED and event.tag == "action-aborted":
            name = "download-revision-aborted"
        elif event.state is State.UPGRADE_FAILED:
            name, tag, message = "download-revision-failed", event.tag or "unexpected-error", event.reason_detail
    elif kind == ACTIVATE:
        if event.state is State.ACTIVATION_COMPLETE:
            name = "revision-activated"
        elif event.state is State.ACTIVATION_FAILED:
            name, tag, message = "activate-failed", event.tag or "unexpected-error", event.reason_detail
    elif kind == COMMIT and event.state is State.ACTIVATION_COMPLETE:
        name = "revision-committed"
    return revision_notification(event.slot, name, tag, message, canonical) if name else None


# ------------------------------------------------------------------ the server of a process
class NetconfServer:
    """SSH/NETCONF for many devices: one listening port per device, one accept thread in all."""

    def __init__(self, loop: asyncio.AbstractEventLoop, host_key: paramiko.PKey, credentials: Credentials,
                 host: str = "127.0.0.1", notify_workers: int = 8):
        self.loop = loop
        self.host_key = host_key
        self.credentials = credentials
        self.host = host
        self.devices: list[NetconfDevice] = []
        self.executor = ThreadPoolExecutor(max_workers=notify_workers, thread_name_prefix="swim-nc-io")
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._commands: collections.deque = collections.deque()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------- sockets
    def _socket(self, port: int, listen: bool) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
            if listen:
                sock.listen(64)
                sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

    def add_device(self, device: Device, port: int = 0, host_key: paramiko.PKey | None = None) -> NetconfDevice:
        """Bind the device's port (``0`` = a free one). Call before :meth:`start`, from the loop thread.
        ``host_key``: the device's own SSH host key (default: the server's)."""
        ncdev = NetconfDevice(self, device, host_key)
        up = device.available
        ncdev.sock = self._socket(port, up)
        ncdev.port = ncdev.sock.getsockname()[1]
        ncdev.listening = up
        if up:
            self._selector.register(ncdev.sock, selectors.EVENT_READ, ncdev)
        self.devices.append(ncdev)
        return ncdev

    def set_listening(self, ncdev: NetconfDevice, up: bool) -> None:
        """Open/close the device's port (any thread; done by the accept thread)."""
        self._commands.append((ncdev, up and ncdev.device.available))
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _apply(self, ncdev: NetconfDevice, up: bool) -> None:
        if up == ncdev.listening or self._stopping:
            return
        if ncdev.listening:
            self._selector.unregister(ncdev.sock)
        ncdev.sock.close()
        for attempt in range(50):
            try:
                ncdev.sock = self._socket(ncdev.port, up)
                break
            except OSError as exc:
                if attempt == 49:
                    log.error("%s: cannot re-bind port %d: %s", ncdev.name, ncdev.port, exc)
                    ncdev.listening = False
                    return
                time.sleep(0.02)
        ncdev.listening = up
        if up:
            self._selector.register(ncdev.sock, selectors.EVENT_READ, ncdev)
        log.debug("%s: NETCONF port %d %s", ncdev.name, ncdev.port, "open" if up else "refusing connections")

    # ---------------------------------------------------------- accept loop
    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, name="swim-nc-accept", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                events = self._selector.select(timeout=1.0)
            except OSError:
                if self._stopping:
                    return
                raise
            for key, _ in events:
                if key.data is None:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                    continue
                self._accept(key.data)
            while self._commands:
                ncdev, up = self._commands.popleft()
                try:
                    self._apply(ncdev, up)
                except Exception:
                    log.exception("%s: cannot change the listening state", ncdev.name)

    def _accept(self, ncdev: NetconfDevice) -> None:
        try:
            conn, _ = ncdev.sock.accept()
        except (BlockingIOError, InterruptedError, OSError):
            return
        conn.setblocking(True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not ncdev.device.available:
            conn.close()
            return
        if threading.active_count() > MAX_THREADS:
            log.warning("%s: %d threads in the simulator; refusing a NETCONF connection", ncdev.name,
                        threading.active_count())
            conn.close()
            return
        try:
            transport = paramiko.Transport(conn, disabled_algorithms=DISABLED_ALGORITHMS)
        except Exception as exc:
            log.warning("%s: SSH start failed: %s", ncdev.name, exc)
            conn.close()
            return
        if not ncdev.add_transport(transport):
            log.warning("%s: too many NETCONF connections (%d); refusing one", ncdev.name,
                        MAX_CONNECTIONS_PER_DEVICE)
            conn.close()
            return
        try:
            transport.add_server_key(ncdev.host_key)
            transport.set_subsystem_handler("netconf", NetconfSession, ncdev)
            transport.start_server(event=threading.Event(), server=_SshServer(self.credentials, ncdev.name))
        except Exception as exc:
            log.warning("%s: SSH start failed: %s", ncdev.name, exc)
            transport.close()
            conn.close()

    def drop_transport(self, transport: paramiko.Transport | None) -> None:
        """Cut an SSH connection at once (shutdown the socket) and clean it up in the background."""
        if transport is None:
            return
        try:
            transport.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.executor.submit(transport.close)
        except RuntimeError:  # executor shut down
            transport.close()

    # ---------------------------------------------------------- stop
    def stop(self) -> None:
        self._stopping = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        for ncdev in self.devices:
            for transport in ncdev.transport_list():
                try:
                    transport.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            try:
                ncdev.sock.close()
            except OSError:
                pass
        for ncdev in self.devices:
            for transport in ncdev.transport_list():
                transport.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
