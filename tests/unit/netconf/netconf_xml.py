"""Canned NETCONF XML (bbf-software-management, TR-383) for the NETCONF unit tests, and a scripted manager."""

from __future__ import annotations

import collections

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
HW = "urn:ietf:params:xml:ns:yang:ietf-hardware"
SWM = "urn:bbf:yang:bbf-software-management"
NMDA = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda"
YLIB = "urn:ietf:params:xml:ns:yang:ietf-yang-library"
SHA_NEW = "b" * 64
CAPABILITIES = [
    "urn:ietf:params:netconf:base:1.0",
    "urn:ietf:params:netconf:base:1.1",
    "urn:ietf:params:netconf:capability:notification:1.0",
    "urn:ietf:params:netconf:capability:interleave:1.0",
    "urn:ietf:params:xml:ns:yang:ietf-hardware?module=ietf-hardware&revision=2018-03-13",
    f"{SWM}?module=bbf-software-management&revision=2025-07-02&features=software-management-actions,"
    "download-target-selection-by-system",
]
NO_MODEL_CAPABILITIES = CAPABILITIES[:-1]


def revision(rid, state, version="", product="swim-olt", hash_="", valid=True, active=False, committed=False,
             changed="2026-01-01T00:00:00Z", last_committed="", url="", downloaded="", last_activated=""):
    parts = [f"<id>{rid}</id><state>{state}</state><last-changed>{changed}</last-changed>"]
    if downloaded:
        parts.append(f"<download-completed>{downloaded}</download-completed>")
    if version:
        parts.append(f"<version>{version}</version>")
    if version and product:
        parts.append(f"<product-code>{product}</product-code>")
    if hash_:
        parts.append(f"<hash>{hash_}</hash>")
    if url:
        parts.append(f"<source><url>{url}</url></source>")
    parts.append(f"<is-valid>{str(valid).lower()}</is-valid><is-active>{str(active).lower()}</is-active>"
                 f"<is-committed>{str(committed).lower()}</is-committed>")
    if state in ("available", "in-use"):
        parts.append(f"<activate><last-activated>{last_activated}</last-activated></activate>" if last_activated
                     else "<activate/>")
        parts.append(f"<commit><last-committed>{last_committed}</last-committed></commit>" if last_committed
                     else "<commit/>")
    return "<revision>" + "".join(parts) + "</revision>"


def state_reply(*revisions, component="olt-board", software="application-software",
                capabilities=("download-target-selection-by-system", "validate", "activate", "commit"),
                extra_software=""):
    caps = "".join(f"<capability>bbf-swm:{c}</capability>" for c in capabilities)
    return (f'<rpc-reply message-id="1" xmlns="{NC}"><data>'
            f'<hardware xmlns="{HW}"><component><name>{component}</name>'
            f'<software xmlns="{SWM}" xmlns:bbf-swm="{SWM}"><software><name>{software}</name>{caps}'
            f'<revisions><maximum-number-of-revisions>2</maximum-number-of-revisions>{"".join(revisions)}'
            f'</revisions></software>{extra_software}</software></component></hardware></data></rpc-reply>')


BEFORE = state_reply(
    revision(0, "in-use", "1.0.0", hash_="a" * 64, active=True, committed=True, last_committed="2026-01-01T00:00:00Z"),
    revision(1, "available", "0.9.0", hash_="c" * 64, changed="2025-12-01T00:00:00Z", downloaded="2025-12-01T00:00:00Z"),
)
DOWNLOADING = state_reply(
    revision(0, "in-use", "1.0.0", hash_="a" * 64, active=True, committed=True, last_committed="2026-01-01T00:00:00Z"),
    revision(1, "downloading", valid=False, changed="2026-01-02T00:00:00Z"),
)
DOWNLOADED = state_reply(
    revision(0, "in-use", "1.0.0", hash_="a" * 64, active=True, committed=True, last_committed="2026-01-01T00:00:00Z"),
    revision(1, "available", "2.0.0", hash_=SHA_NEW, changed="2026-01-02T00:00:01Z",
             url="http://127.0.0.1/images/swim-olt-2.0.0.img"),
)
DOWNLOAD_FAILED = state_reply(
    revision(0, "in-use", "1.0.0", hash_="a" * 64, active=True, committed=True, last_committed="2026-01-01T00:00:00Z"),
    revision(1, "not-available", valid=False, changed="2026-01-02T00:00:01Z"),
)
ACTIVE_NOT_COMMITTED = state_reply(
    revision(0, "in-use", "1.0.0", hash_="a" * 64, committed=True, last_committed="2026-01-01T00:00:00Z"),
    revision(1, "in-use", "2.0.0", hash_=SHA_NEW, active=True, changed="2026-01-02T00:00:05Z"),
)
ACTIVE_COMMITTED = state_reply(
    revision(0, "available", "1.0.0", hash_="a" * 64, last_committed="2026-01-01T00:00:00Z"),
    revision(1, "in-use", "2.0.0", hash_=SHA_NEW, active=True, committed=True, changed="2026-01-02T00:00:06Z",
             last_committed="2026-01-02T00:00:06Z"),
)
FELL_BACK = state_reply(
    revision(0, "in-use", "1.0.0", hash_="a" * 64, active=True, committed=True, last_committed="2026-01-01T00:00:00Z"),
    revision(1, "not-available", "2.0.0", valid=False, changed="2026-01-02T00:00:05Z"),
)
OK = f'<rpc-reply message-id="2" xmlns="{NC}"><ok/></rpc-reply>'
DOWNLOAD_OUTPUT = (f'<rpc-reply message-id="3" xmlns="{NC}"><target xmlns="{SWM}"><id>1</id>'
                   '<replaces><version>0.9.0</version></replaces></target></rpc-reply>')
BUSY = (f'<rpc-reply message-id="4" xmlns="{NC}"><rpc-error><error-type>application</error-type>'
        '<error-tag>operation-failed</error-tag><error-severity>error</error-severity>'
        '<error-app-tag>bbf-software-management:component-busy</error-app-tag>'
        '<error-message>another operation runs on olt-board</error-message></rpc-error></rpc-reply>')
TWO_ERRORS = (f'<rpc-reply message-id="5" xmlns="{NC}">'
              '<rpc-error><error-type>protocol</error-type><error-tag>unknown-element</error-tag>'
              '<error-severity>error</error-severity><error-path>/hw:hardware/x</error-path>'
              '<error-message>unexpected element x</error-message></rpc-error>'
              '<rpc-error><error-type>application</error-type><error-tag>operation-failed</error-tag>'
              '<error-severity>error</error-severity></rpc-error>'
              '<rpc-error><error-type>application</error-type><error-tag>partial-operation</error-tag>'
              '<error-severity>warning</error-severity></rpc-error></rpc-reply>')


def notification(rid, kind, container=None, tag="", message="", when="2099-01-01T00:00:00Z", prefix="bbf-swm"):
    error = ""
    if tag:
        error = (f'<error><tag xmlns:{prefix}="{SWM}">{prefix}:{tag}</tag>'
                 + (f"<message>{message}</message>" if message else "") + "</error>")
    body = f"<{kind}>{error}</{kind}>"
    if container:
        body = f"<{container}>{body}</{container}>"
    return ('<notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">'
            f'<eventTime>{when}</eventTime><hardware xmlns="{HW}"><component><name>olt-board</name>'
            f'<software xmlns="{SWM}"><software><name>application-software</name><revisions>'
            f'<revision><id>{rid}</id>{body}</revision></revisions></software></software></component></hardware>'
            '</notification>')


REPLAY_COMPLETE = ('<notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">'
                   '<eventTime>2099-01-01T00:00:00Z</eventTime>'
                   '<replayComplete xmlns="urn:ietf:params:xml:ns:netmod:notification"/></notification>')


NOT_SUPPORTED = (f'<rpc-reply message-id="6" xmlns="{NC}"><rpc-error><error-type>protocol</error-type>'
                 '<error-tag>operation-not-supported</error-tag><error-severity>error</error-severity>'
                 '</rpc-error></rpc-reply>')
BASE_CAPABILITIES = CAPABILITIES[:4]


def library_capability(content_id="1", version="1.1"):
    if version == "1.0":
        return f"urn:ietf:params:netconf:capability:yang-library:1.0?revision=2016-06-21&module-set-id={content_id}"
    return f"urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04&content-id={content_id}"


def ylib_module(name, revision="", namespace="", features=(), tag="module"):
    feats = "".join(f"<feature>{f}</feature>" for f in features)
    return (f"<{tag}><name>{name}</name>" + (f"<revision>{revision}</revision>" if revision else "")
            + f"<namespace>{namespace or 'urn:example:' + name}</namespace>{feats}</{tag}>")


SWM_FEATURES = ("software-management-actions", "download-target-selection-by-system")
STANDARD_MODULES = (ylib_module("ietf-hardware", "2018-03-13", HW)
                    + ylib_module("bbf-software-management", "2025-07-02", SWM, SWM_FEATURES)
                    + ylib_module("ietf-netconf-nmda", "2019-01-07", NMDA))


def yang_library(*module_sets, content_id="1", datastores=""):
    """RFC 8525 /yang-library: module_sets = (name, modules xml) pairs."""
    sets = "".join(f"<module-set><name>{name}</name>{body}</module-set>" for name, body in module_sets)
    return (f'<rpc-reply message-id="7" xmlns="{NC}"><data xmlns="{NMDA}"><yang-library xmlns="{YLIB}" '
            f'xmlns:ds="urn:ietf:params:xml:ns:yang:ietf-datastores">{sets}{datastores}'
            f"<content-id>{content_id}</content-id></yang-library></data></rpc-reply>")


def modules_state(*modules, set_id="1"):
    """RFC 7895 /modules-state: modules = (name, revision, namespace, features, conformance)."""
    body = "".join(f"<module><name>{n}</name><revision>{r}</revision><namespace>{ns}</namespace>"
                   + "".join(f"<feature>{f}</feature>" for f in feats)
                   + f"<conformance-type>{conf}</conformance-type></module>" for n, r, ns, feats, conf in modules)
    return (f'<rpc-reply message-id="8" xmlns="{NC}"><data><modules-state xmlns="{YLIB}">'
            f"<module-set-id>{set_id}</module-set-id>{body}</modules-state></data></rpc-reply>")


STANDARD_LIBRARY = yang_library(("complete", STANDARD_MODULES))


class Reply:
    def __init__(self, xml):
        self.xml = xml


class Raw:
    def __init__(self, xml):
        self.notification_xml = xml


class ScriptedManager:
    """Stands in for ncclient's Manager: replies to get/dispatch from scripts, queues notifications.

    ``gets``: replies to successive ``get`` calls (the last one repeats). ``actions``: verb -> reply.
    ``on_action``: verb -> callable(manager) run when the action is sent (e.g. drop the session).
    """

    def __init__(self, gets, actions=None, notifications=(), capabilities=CAPABILITIES, on_action=None,
                 library=None):
        self.library = dict(library or {})  # ("get"|"get-data", "yang-library"|"modules-state") -> reply xml
        self.gets = collections.deque(gets)
        self.actions = dict(actions or {})
        self.on_action = dict(on_action or {})
        self.notifications = collections.deque(notifications)
        self.server_capabilities = list(capabilities)
        self.connected = True
        self.sent = []
        self.subscriptions = []
        self.timeout = 30
        self._session = self

    def _library(self, verb, subtree):
        for tree in ("yang-library", "modules-state"):
            if f"<{tree} " in subtree:
                self.sent.append((f"{verb} {tree}", subtree))
                reply = self.library.get((verb, tree), NOT_SUPPORTED)
                if isinstance(reply, Exception):
                    raise reply
                return Reply(reply)
        return None

    def get(self, filter=None):
        library = self._library("get", filter[1])
        if library is not None:
            return library
        self.sent.append(("get", filter))
        return self._state()

    def _state(self, nmda=False):
        reply = self.gets[0] if len(self.gets) == 1 else self.gets.popleft()
        if isinstance(reply, Exception):
            raise reply
        if nmda:  # <get-data> answers <data> in the ietf-netconf-nmda namespace
            reply = reply.replace("<data>", f'<data xmlns="{NMDA}">', 1)
        return Reply(reply)

    def dispatch(self, element):
        from lxml import etree
        xml = etree.tostring(element).decode()
        if etree.QName(element).localname == "get-data":
            library = self._library("get-data", xml)
            if library is not None:
                return library
            self.sent.append(("get-data", xml))
            return self._state(nmda=True)
        names = {etree.QName(e).localname for e in element.iter() if isinstance(e.tag, str)}
        verb = next((v for v, spelled in (("abort-download", "abort-download"), ("download", "download-software"),
                                         ("download", "download"), ("activate", "activate"), ("commit", "commit"))
                    if spelled in names), etree.QName(element).localname)
        self.sent.append((verb, xml))
        if verb in self.on_action:
            self.on_action[verb](self)
        reply = self.actions.get(verb, OK)
        if isinstance(reply, Exception):
            raise reply
        return Reply(reply)

    def create_subscription(self, stream_name=None, start_time=None, **_):
        self.subscriptions.append(start_time)
        return Reply(OK)

    def take_notification(self, block=True, timeout=None):
        if self.notifications:
            return Raw(self.notifications.popleft())
        return None

    def close_session(self):
        self.connected = False

    def close(self):
        self.connected = False
