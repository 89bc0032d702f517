# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The NETCONF session of one device: connect (netconf_ssh), hello and discovery, RPCs, notifications.

PRIVATE to the collection. :class:`NetconfSession` is the one place where ncclient's exceptions and
``<rpc-error>`` replies become :class:`DeviceError` (``netconf_ssh`` classifies the connection failures);
the device (``netconf.py``) and the operation followers (``netconf_followers.py``) only see DeviceError.
"""

from __future__ import annotations

import datetime
import time

try:
    from ncclient.operations import errors as nc_operation_errors
except ImportError:  # netconf_ssh.SSH_IMPORT_ERROR reports the missing library when a task uses NETCONF
    nc_operation_errors = None

from . import netconf_ssh
from .clock import parse_time, rfc3339
from .device import DeviceError
from .netconf_dialects import choose, supported_modules
from .netconf_dialects.base import Notice, Software, parse, rpc_errors
from .netconf_discovery import (
    MODULES_STATE_FILTER, YANG_LIBRARY_FILTER, Library, get_data_element, hello_modules, library_capability, merge,
    parse_modules_state, parse_yang_library, reply_data,
)
from .netconf_ssh import close_manager, nc_transport_errors
from .transport_base import retrying


REPLAY_MARGIN = 2.0  # seconds of clock slack when replayed notifications are matched to an operation
NOTIFICATION_CAP = "urn:ietf:params:netconf:capability:notification:1.0"
INTERLEAVE_CAP = "urn:ietf:params:netconf:capability:interleave:1.0"
BASE_1_1 = "urn:ietf:params:netconf:base:1.1"


class NetconfSession:
    """One device's NETCONF session, reopened on demand (a rebooting device drops it).

    ``opener(operation)`` returns a connected ncclient Manager (after the hello) or raises DeviceError;
    ``connections`` counts the sessions opened, ``drops`` those lost; ``lost_by_peer`` says whether the last
    one was closed by the device (a restart) rather than given up on our side (no reply in time)."""

    def __init__(self, name: str, settings, opener=None, transport: str = "netconf"):
        self.name, self.ssh, self.transport = name, settings, transport
        self.rpc_timeout, self.connect_timeout = settings.rpc_timeout, settings.connect_timeout
        self.opener = opener or self.open_ssh
        self.dialect = None
        self.library: Library | None = None  # the modules the server announced (hello, YANG library)
        self.framing = ""  # "1.0" or "1.1" once connected
        self.connections = self.drops = 0
        self.lost_by_peer = False
        self.manager = None  # the ncclient Manager of the open session
        self.subscribe = False  # the running operation wants notifications
        self.replay_since: datetime.datetime | None = None  # replay from here after a reconnect
        self._seen: set = set()
        self._notifications_ok = False  # the device offers :notification and :interleave
        self._subscribed = None  # the manager that holds this operation's subscription

    def error(self, operation: str, reason: str, detail: str, retryable: bool = False, history=None,
              unreachable: bool = False) -> DeviceError:
        return DeviceError(self.name, operation, reason, detail, transport=self.transport, retryable=retryable,
                           history=history, unreachable=unreachable)

    # -- connection ---------------------------------------------------------------------------
    def open_ssh(self, operation: str):
        """TCP, SSH and the hello exchange (netconf_ssh), every failure a DeviceError classified by cause."""
        try:
            return netconf_ssh.open_manager(self.ssh)
        except netconf_ssh.ConnectFailure as failure:
            raise self.error(operation, failure.reason, failure.detail, retryable=failure.retryable,
                             unreachable=not failure.reached and self.connections == 0) from None

    def _connect(self, operation: str):
        """One connection attempt: SSH and hello, discovery and the model check."""
        manager = self.opener(operation)
        try:
            capabilities = list(manager.server_capabilities)
            library = self._discover(operation, manager, capabilities)
            # the same library (same content-id): keep the dialect, it may hold the running operation's state
            dialect = self.dialect if library is self.library and self.dialect is not None else None
            problems: list[str] = []
            if dialect is None:
                dialect, problems = choose(library)
            if dialect is None:
                raise self.error(operation, "MODEL_NOT_SUPPORTED", self._no_model(library, problems))
        except BaseException:
            close_manager(manager)
            raise
        self.library, self.dialect = library, dialect
        self.framing = "1.1" if BASE_1_1 in capabilities else "1.0"
        self._notifications_ok = NOTIFICATION_CAP in capabilities and INTERLEAVE_CAP in capabilities
        self.connections += 1
        return manager

    def _discover(self, operation: str, manager, capabilities: list[str]) -> Library:
        """The server's modules: those of ``<hello>`` and, when it announces one, of its YANG library
        (read once per content-id / module-set-id: a reconnect with the same id reuses it)."""
        hello = hello_modules(capabilities)
        announced = library_capability(capabilities)
        if announced is None:
            return Library(modules=tuple(hello), sources=("hello",))
        cached = self.library
        if cached is not None and announced.content_id and cached.content_id == announced.content_id:
            return cached
        # RFC 8526 2: the yang-library:1.1 capability is an NMDA server's; try <get-data> first there
        attempts = [("get-data", YANG_LIBRARY_FILTER), ("get", YANG_LIBRARY_FILTER), ("get", MODULES_STATE_FILTER)]
        if announced.version == "1.0":
            attempts = [("get", MODULES_STATE_FILTER), ("get", YANG_LIBRARY_FILTER)]
        tried = []
        for verb, subtree in attempts:
            where = "/yang-library" if subtree == YANG_LIBRARY_FILTER else "/modules-state"
            try:
                data = self.read_on(manager, operation, f"{verb} {where}", subtree, nmda=verb == "get-data")
            except DeviceError as exc:
                if exc.retryable:
                    raise
                tried.append(f"{verb} {where}: {exc.reason}")
                continue
            parsed = parse_yang_library(data) if subtree == YANG_LIBRARY_FILTER else parse_modules_state(data)
            if parsed is not None and parsed[0]:
                modules, content_id = parsed
                return merge(hello, modules, f"YANG library {where}", announced.content_id or content_id)
            tried.append(f"{verb} {where}: no data")
        unreadable = f"YANG library {announced.version} (unreadable: {'; '.join(tried)})"
        return Library(modules=tuple(hello), sources=("hello", unreadable))

    def _no_model(self, library: Library, problems: list[str]) -> str:
        names = sorted({f"{m.name}@{m.revision}" if m.revision else m.name for m in library.modules if m.implemented})
        shown = ", ".join(names[:60]) + (f" (+{len(names) - 60} more)" if len(names) > 60 else "")
        why = f"; {'; '.join(problems)}" if problems else ""
        return (f"{self.ssh.where} implements no software-management model this collection drives "
                f"({', '.join(supported_modules())}); looked in {' and '.join(library.sources)}{why}; "
                f"its modules: {shown or 'none'}")

    def ensure(self, operation: str):
        """The open session, or a new one (one attempt). Re-subscribes for the running operation."""
        if self.manager is not None and self.manager.connected:
            return self.manager
        if self.manager is not None:
            self.drop(by_peer=True)
        self.manager = self._connect(operation)
        if self.subscribe:
            self._start_subscription(operation, replay=self.connections > 1 or self.drops > 0)
        return self.manager

    def drop(self, by_peer: bool = False) -> None:
        if self.manager is not None:
            self.drops += 1
            self.lost_by_peer = by_peer
            close_manager(self.manager, polite=False)
            self.manager = None

    def retrying(self, operation: str, call, retry: bool = True):
        """*call(manager)*, retried with back-off for connect_timeout while the device is unreachable."""
        return retrying(lambda: call(self.ensure(operation)), self.connect_timeout if retry else 0.0)

    def close(self) -> None:
        self.subscribe = False
        if self.manager is not None:
            close_manager(self.manager)
            self.manager = None

    # -- RPCs -----------------------------------------------------------------------------------
    def rpc(self, operation: str, what: str, send):
        """One RPC on the session (``send(manager)`` -> RPCReply); its rpc-errors raise DeviceError."""
        return self.rpc_on(self.ensure(operation), operation, what, send)

    def rpc_on(self, manager, operation: str, what: str, send):
        try:
            reply = send(manager)
        except nc_operation_errors.TimeoutExpiredError:
            self.drop()
            raise self.error(operation, "RPC_TIMEOUT", f"{what}: no reply within {self.rpc_timeout:g}s",
                             retryable=True)
        except (nc_transport_errors.TransportError, OSError, EOFError) as exc:
            self.drop(by_peer=True)
            raise self.error(operation, "SESSION_CLOSED", f"{what}: NETCONF session lost ({exc or type(exc).__name__})",
                             retryable=True)
        except nc_operation_errors.OperationError as exc:
            raise self.error(operation, "NETCONF_ERROR", f"{what}: {exc}")
        root = parse(reply.xml)
        errors = rpc_errors(root)
        if errors:
            first = errors[0]
            more = f" (+{len(errors) - 1} more rpc-error)" if len(errors) > 1 else ""
            raise self.error(operation, first.reason, f"{what} refused: {first.detail or first.tag}{more}")
        return root

    def read_on(self, manager, operation: str, what: str, subtree: str, nmda: bool):
        """The ``<data>`` of a read: ``<get-data>`` on ds:operational (RFC 8526) or ``<get>``, subtree-filtered.
        (ncclient 0.7.1 has no get-data operation: the element is dispatched.)"""
        if nmda:
            root = self.rpc_on(manager, operation, what, lambda m: m.dispatch(get_data_element(subtree)))
        else:
            root = self.rpc_on(manager, operation, what, lambda m: m.get(filter=("subtree", subtree)))
        return reply_data(root)

    def get(self, operation: str, subtree: str, retry: bool = True):
        """State read: ``<get-data>`` on ds:operational when the server implements ietf-netconf-nmda (RFC
        8342: config nodes known only to the operational datastore, such as hardware ``class``/``parent``,
        are not in a ``<get>``), ``<get>`` otherwise."""
        def call(manager):
            nmda = self.library is not None and self.library.nmda
            return self.read_on(manager, operation, "get-data" if nmda else "get", subtree, nmda)
        return self.retrying(operation, call, retry)

    def action(self, operation: str, what: str, element, retry: bool = False):
        reply = self.retrying(operation, lambda m: self.rpc(operation, what, lambda mm: mm.dispatch(element)), retry)
        refused = self.dialect.refused(reply)
        if refused is not None:
            raise self.error(operation, refused[0], f"{what} refused: {refused[1]}")
        return reply

    # -- notifications ----------------------------------------------------------------------------
    def _start_subscription(self, operation: str, replay: bool) -> None:
        if not self._notifications_ok or self.manager is None or self._subscribed is self.manager:
            return
        self._subscribed = self.manager
        start = rfc3339(self.replay_since) if replay and self.replay_since is not None else None
        try:
            self.rpc(operation, "create-subscription",
                     lambda m: m.create_subscription(stream_name="NETCONF", start_time=start))
        except DeviceError as exc:
            if exc.retryable:
                raise
            if start is not None:  # a stream without replay support: live notifications still help
                self._subscribed = None
                self._start_subscription(operation, replay=False)
                return
            self._notifications_ok = False  # the revision state is polled anyway

    def begin(self, operation: str) -> None:
        """Notifications from now on (live), and replayed from now after a reconnect."""
        self.replay_since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=REPLAY_MARGIN)
        self._seen.clear()
        self.subscribe = False
        self.retrying(operation, lambda manager: manager)
        self._start_subscription(operation, replay=False)
        self.subscribe = True

    def next_notice(self, wait: float) -> Notice | None:
        """The next software-management notification within *wait* seconds (None: none, or session lost)."""
        manager = self.manager
        if manager is None or not manager.connected or not self._notifications_ok:
            time.sleep(max(0.0, wait))
            if manager is not None and not manager.connected:
                self.drop(by_peer=True)
            return None
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            raw = manager.take_notification(block=True, timeout=max(0.01, remaining))
            if raw is None:
                if not manager.connected:
                    self.drop(by_peer=True)
                return None
            try:
                notice = self.dialect.parse_notification(parse(raw.notification_xml))
            except Exception:  # noqa: BLE001 -- a notification we cannot read is skipped
                notice = None
            if notice is not None and notice.identity not in self._seen and self._recent(notice):
                self._seen.add(notice.identity)
                return notice
            if time.monotonic() >= deadline:
                return None

    def wait_for(self, wanted, wait: float) -> Notice | None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            notice = self.next_notice(deadline - time.monotonic())
            if notice is not None and wanted(notice):
                return notice
        return None

    def _recent(self, notice: Notice) -> bool:
        stamp = parse_time(notice.event_time)
        return stamp is None or self.replay_since is None or stamp >= self.replay_since

    @staticmethod
    def about(notice: Notice, software: Software, key: str | None) -> bool:
        return ((not notice.component or notice.component == software.component)
                and (not notice.software or notice.software == software.name)
                and (key is None or not notice.key or notice.key == str(key)))
