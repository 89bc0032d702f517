# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""What a NETCONF server implements: modules from ``<hello>`` and from the YANG library.

PRIVATE to the collection. RFC 7950 §5.6.4: a server lists its YANG 1.0 modules as ``module=``
capabilities in ``<hello>``; a YANG 1.1 module (every software-management model this collection drives)
is not listed there: the server announces the YANG library capability instead, and the client reads the
library. Two forms of it:

* ``urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04&content-id=ID`` (RFC 8526 §2):
  read ``/yang-library`` (RFC 8525), ``/modules-state`` when the server does not serve it;
* ``urn:ietf:params:netconf:capability:yang-library:1.0?revision=2016-06-21&module-set-id=ID`` (RFC 7895):
  read ``/modules-state``.

The library is read with ``<get-data>`` on ``ds:operational`` when the server implements
``ietf-netconf-nmda`` (RFC 8526), else with ``<get>``. The id in the capability changes whenever the module
set does: the transport keeps the parsed library with it, so a reconnect after a reboot reads the library
again only when the device changed it.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import parse_qs

from .netconf_dialects.base import NC_NS, qn, text

LIBRARY_NS = "urn:ietf:params:xml:ns:yang:ietf-yang-library"
NMDA_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda"
DATASTORES_NS = "urn:ietf:params:xml:ns:yang:ietf-datastores"
LIBRARY_CAP_1_1 = "urn:ietf:params:netconf:capability:yang-library:1.1"
LIBRARY_CAP_1_0 = "urn:ietf:params:netconf:capability:yang-library:1.0"
NMDA_MODULE = "ietf-netconf-nmda"

# subtree filters of the two library trees
YANG_LIBRARY_FILTER = f'<yang-library xmlns="{LIBRARY_NS}"/>'
MODULES_STATE_FILTER = f'<modules-state xmlns="{LIBRARY_NS}"/>'


@dataclass(frozen=True)
class Module:
    """One YANG module of the server. ``implemented`` is False for an import-only module. ``features`` is None
    when the server did not say (a ``<hello>`` capability without a ``features`` parameter)."""
    name: str
    revision: str = ""
    namespace: str = ""
    features: frozenset | None = frozenset()
    implemented: bool = True

    def describe(self) -> str:
        label = f"{self.name}@{self.revision}" if self.revision else self.name
        if not self.implemented:
            return f"{label} (import-only)"
        return f"{label} [{','.join(sorted(self.features))}]" if self.features else label


@dataclass(frozen=True)
class Library:
    """The modules a server announced, and where they were found (``hello``, ``yang-library``, ``modules-state``)."""
    modules: tuple = ()
    sources: tuple = ("hello",)
    content_id: str = ""

    def module(self, name: str = "", namespace: str = "", implemented: bool = True) -> Module | None:
        """The module named *name* (or with *namespace*), the implemented one unless told otherwise."""
        for module in self.modules:
            if (module.name == name or (namespace and module.namespace == namespace)) and \
                    (module.implemented or not implemented):
                return module
        return None

    @property
    def nmda(self) -> bool:
        """The server implements ietf-netconf-nmda: read with ``<get-data>`` on ``ds:operational``."""
        return self.module(NMDA_MODULE, NMDA_NS) is not None

    def describe(self) -> str:
        implemented = sorted(m.describe() for m in self.modules)
        return ", ".join(implemented) or "none"


@dataclass(frozen=True)
class LibraryCapability:
    """The YANG library capability of a hello: ``version`` 1.0 or 1.1, and its content-id / module-set-id."""
    version: str
    content_id: str


def hello_modules(capabilities: t.Iterable[str]) -> list[Module]:
    """The YANG 1.0 modules announced in ``<hello>`` (``NAMESPACE?module=NAME&revision=..&features=a,b``)."""
    modules = []
    for capability in capabilities:
        uri, _sep, query = capability.partition("?")
        params = parse_qs(query, keep_blank_values=True)
        name = (params.get("module") or [""])[0]
        if not name:
            continue
        features = params.get("features")
        modules.append(Module(name=name, revision=(params.get("revision") or [""])[0], namespace=uri,
                              features=None if features is None else
                              frozenset(f for f in features[0].split(",") if f)))
    return modules


def library_capability(capabilities: t.Iterable[str]) -> LibraryCapability | None:
    """The yang-library capability of a hello, 1.1 before 1.0 (None: the server has no YANG library)."""
    found = {}
    for capability in capabilities:
        uri, _sep, query = capability.partition("?")
        params = parse_qs(query, keep_blank_values=True)
        if uri == LIBRARY_CAP_1_1:
            found["1.1"] = LibraryCapability("1.1", (params.get("content-id") or [""])[0])
        elif uri == LIBRARY_CAP_1_0:
            found["1.0"] = LibraryCapability("1.0", (params.get("module-set-id") or [""])[0])
    return found.get("1.1") or found.get("1.0")


def _features(element) -> frozenset:
    return frozenset(f.text.strip() for f in element.findall(qn(LIBRARY_NS, "feature")) if (f.text or "").strip())


def _find(data, name: str):
    """The *name* container of the library in a ``<data>`` reply (or the element itself)."""
    if data is None:
        return None
    if data.tag == qn(LIBRARY_NS, name):
        return data
    return data.find(qn(LIBRARY_NS, name))


def _identity_local(value: str | None) -> str:
    return (value or "").strip().rpartition(":")[2]


def parse_yang_library(data) -> tuple[list[Module], str] | None:
    """RFC 8525 ``/yang-library``: (modules, content-id), None when the reply has no such tree.

    The module sets are those of the schema of the operational datastore (else of the running one) when
    the library names datastores, else every module set. An ``import-only-module`` is not implemented.
    """
    library = _find(data, "yang-library")
    if library is None:
        return None
    sets = {text(s, LIBRARY_NS, "name") or "": s for s in library.findall(qn(LIBRARY_NS, "module-set"))}
    schemas = {text(s, LIBRARY_NS, "name") or "": [m.text.strip() for m in s.findall(qn(LIBRARY_NS, "module-set")) if m.text]
               for s in library.findall(qn(LIBRARY_NS, "schema"))}
    datastores = {_identity_local(text(d, LIBRARY_NS, "name")): text(d, LIBRARY_NS, "schema") or ""
                  for d in library.findall(qn(LIBRARY_NS, "datastore"))}
    schema = datastores.get("operational") or datastores.get("running")
    chosen = [sets[name] for name in schemas.get(schema, []) if name in sets] if schema in schemas else []
    modules: dict[tuple, Module] = {}
    for module_set in chosen or list(sets.values()):
        for element in module_set.findall(qn(LIBRARY_NS, "module")):
            module = Module(name=text(element, LIBRARY_NS, "name") or "",
                            revision=text(element, LIBRARY_NS, "revision") or "",
                            namespace=text(element, LIBRARY_NS, "namespace") or "", features=_features(element))
            modules[(module.name, True)] = module
        for element in module_set.findall(qn(LIBRARY_NS, "import-only-module")):
            module = Module(name=text(element, LIBRARY_NS, "name") or "",
                            revision=text(element, LIBRARY_NS, "revision") or "",
                            namespace=text(element, LIBRARY_NS, "namespace") or "", implemented=False)
            modules.setdefault((module.name, False), module)
    return list(modules.values()), text(library, LIBRARY_NS, "content-id") or ""


def parse_modules_state(data) -> tuple[list[Module], str] | None:
    """RFC 7895 ``/modules-state``: (modules, module-set-id), None when the reply has no such tree.
    ``conformance-type`` ``import`` means not implemented."""
    state = _find(data, "modules-state")
    if state is None:
        return None
    modules = []
    for element in state.findall(qn(LIBRARY_NS, "module")):
        conformance = text(element, LIBRARY_NS, "conformance-type") or "implement"
        modules.append(Module(name=text(element, LIBRARY_NS, "name") or "",
                              revision=text(element, LIBRARY_NS, "revision") or "",
                              namespace=text(element, LIBRARY_NS, "namespace") or "",
                              features=_features(element), implemented=conformance != "import"))
    return modules, text(state, LIBRARY_NS, "module-set-id") or ""


def merge(hello: list[Module], read: list[Module], source: str, content_id: str) -> Library:
    """Hello and library modules together; the library's entry wins for a module found in both."""
    by_key = {(m.name, m.implemented): m for m in hello}
    by_key.update({(m.name, m.implemented): m for m in read})
    return Library(modules=tuple(by_key.values()), sources=("hello", source), content_id=content_id)


def get_data_element(subtree: str):
    """``<get-data>`` of RFC 8526 on ``ds:operational`` with a subtree filter (an lxml element for dispatch)."""
    from .netconf_dialects.base import etree, parse  # lxml is checked by the transport before any read
    rpc = etree.Element(qn(NMDA_NS, "get-data"), nsmap={None: NMDA_NS, "ds": DATASTORES_NS})
    datastore = etree.SubElement(rpc, qn(NMDA_NS, "datastore"))
    datastore.text = "ds:operational"
    subtree_filter = etree.SubElement(rpc, qn(NMDA_NS, "subtree-filter"))
    subtree_filter.append(parse(subtree))
    return rpc


def reply_data(root):
    """The ``<data>`` of a ``<get>`` (base namespace) or ``<get-data>`` (ietf-netconf-nmda namespace) reply."""
    found = root.find(qn(NC_NS, "data"))
    return found if found is not None else root.find(qn(NMDA_NS, "data"))
