"""What a simulated NETCONF server says it implements: the ``<hello>`` capabilities and the YANG library.

The standard mode follows RFC 7950 §5.6.4 as the reference server (Netopeer2 2.1 / libnetconf2 /
sysrepo) does: ``<hello>`` lists only YANG 1.0 modules as ``module=`` capabilities; every module (1.0 and
1.1) is in the YANG library, announced by ``yang-library:1.1?revision=2019-01-04&content-id=`` (RFC 8526
§2) and served as RFC 8525 ``/yang-library`` plus the deprecated RFC 7895 ``/modules-state``. The
per-device options of :class:`NetconfProfile` give the older behaviours (docs/simulator.md).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree

BASE_10 = "urn:ietf:params:netconf:base:1.0"
BASE_11 = "urn:ietf:params:netconf:base:1.1"
BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NOTIF_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
NETMOD_NOTIF_NS = "urn:ietf:params:xml:ns:netmod:notification"
HW_NS = "urn:ietf:params:xml:ns:yang:ietf-hardware"
IANA_HW_NS = "urn:ietf:params:xml:ns:yang:iana-hardware"
SWM_NS = "urn:bbf:yang:bbf-software-management"
SWM_MODULE = "bbf-software-management"
SWM_REVISION = "2025-07-02"
YANGLIB_NS = "urn:ietf:params:xml:ns:yang:ietf-yang-library"
DS_NS = "urn:ietf:params:xml:ns:yang:ietf-datastores"
NMDA_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda"
WITH_DEFAULTS_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"

NOTIFICATION_CAP = "urn:ietf:params:netconf:capability:notification:1.0"
INTERLEAVE_CAP = "urn:ietf:params:netconf:capability:interleave:1.0"
# RFC 6243: every leaf in the data is set explicitly (the simulator has no default-valued leaves), so
# report-all returns the same data as explicit.
WITH_DEFAULTS_CAP = "urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=report-all"
WITH_DEFAULTS_MODES = ("explicit", "report-all")
YANG_LIBRARY_11_CAP = "urn:ietf:params:netconf:capability:yang-library:1.1"
YANG_LIBRARY_10_CAP = "urn:ietf:params:netconf:capability:yang-library:1.0"


@dataclass(frozen=True)
class Module:
    name: str
    revision: str
    namespace: str
    yang_version: str  # "1" or "1.1": only YANG 1.0 modules may be announced in <hello>
    features: tuple[str, ...] = ()
    implemented: bool = True  # False: import-only (RFC 8525 import-only-module, RFC 7895 conformance import)

    def capability(self) -> str:
        cap = f"{self.namespace}?module={self.name}&revision={self.revision}"
        return cap + (f"&features={','.join(self.features)}" if self.features else "")


@dataclass(frozen=True)
class NetconfProfile:
    """The NETCONF server behaviour of one device (from its DeviceSpec)."""

    framing: str = "1.1"
    legacy_hello: bool = False
    yang_library: str = "1.1"  # "1.1", "1.0"; "" with legacy_hello (no library)
    nmda: bool = True
    swm: str = "implement"  # implement | import (import-only: no data, no actions) | absent
    target_selection: tuple[str, ...] = ("by-system",)

    @classmethod
    def of(cls, spec) -> "NetconfProfile":
        library = "" if spec.legacy_hello else spec.yang_library
        nmda = spec.nmda if spec.nmda is not None else library == "1.1"
        swm = "implement"
        if spec.has("no_swm_model"):
            swm = "import" if spec.param("no_swm_model", "import_only") else "absent"
        return cls(framing=spec.netconf_framing, legacy_hello=spec.legacy_hello, yang_library=library,
                   nmda=bool(nmda and library == "1.1"), swm=swm,
                   target_selection=tuple(spec.download_target_selection))

    @property
    def swm_implemented(self) -> bool:
        return self.swm == "implement"

    @property
    def canonical(self) -> bool:
        """Netopeer2-style values: date-and-time with ``+00:00``, identityref prefixes declared on the
        element. The legacy mode keeps the old simulator's ``Z`` and ancestor declarations."""
        return not self.legacy_hello

    @property
    def swm_capabilities(self) -> tuple[str, ...]:
        """The bbf-swm ``capability`` leaf-list (identities) of the device's software."""
        return tuple(f"download-target-selection-{s}" for s in self.target_selection) + ("validate", "activate",
                                                                                         "commit")

    @property
    def swm_features(self) -> tuple[str, ...]:
        return ("software-management-actions",) + tuple(f"download-target-selection-{s}"
                                                        for s in self.target_selection)

    # ------------------------------------------------------------ module set
    def modules(self) -> list[Module]:
        """Every module of the device's YANG library, implemented ones first."""
        mods = [
            Module("ietf-netconf", "2011-06-01", BASE_NS, "1"),
            Module("ietf-netconf-with-defaults", "2011-06-01", WITH_DEFAULTS_NS, "1"),
            Module("notifications", "2008-07-14", NOTIF_NS, "1"),
            Module("nc-notifications", "2008-07-14", NETMOD_NOTIF_NS, "1"),
        ]
        if self.yang_library == "1.0":
            mods.append(Module("ietf-yang-library", "2016-06-21", YANGLIB_NS, "1"))
        else:
            mods += [Module("ietf-yang-library", "2019-01-04", YANGLIB_NS, "1.1"),
                     Module("ietf-datastores", "2018-02-14", DS_NS, "1.1")]
        if self.nmda:
            mods += [Module("ietf-netconf-nmda", "2019-01-07", NMDA_NS, "1.1", ("with-defaults",)),
                     Module("ietf-origin", "2018-02-14", "urn:ietf:params:xml:ns:yang:ietf-origin", "1.1",
                            implemented=False)]
        mods += [Module("ietf-hardware", "2018-03-13", HW_NS, "1.1", ("hardware-sensor",)),
                 Module("iana-hardware", "2018-03-13", IANA_HW_NS, "1.1")]
        if self.swm != "absent":
            implemented = self.swm == "implement"
            mods += [Module(SWM_MODULE, SWM_REVISION, SWM_NS, "1.1", self.swm_features if implemented else (),
                            implemented=implemented),
                     Module("bbf-yang-types", "2022-03-01", "urn:bbf:yang:bbf-yang-types", "1.1", implemented=False)]
        mods += [Module("ietf-inet-types", "2013-07-15", "urn:ietf:params:xml:ns:yang:ietf-inet-types", "1",
                        implemented=False),
                 Module("ietf-yang-types", "2013-07-15", "urn:ietf:params:xml:ns:yang:ietf-yang-types", "1",
                        implemented=False)]
        return sorted(mods, key=lambda m: not m.implemented)

    def content_id(self) -> str:
        """content-id / module-set-id: a hash of the module set, so it changes exactly when the set does."""
        text = "\n".join(f"{m.name}@{m.revision}:{','.join(m.features)}:{int(m.implemented)}" for m in self.modules())
        return hashlib.sha256(f"{self.yang_library}\n{text}".encode()).hexdigest()[:16]

    def datastores(self) -> tuple[str, ...]:
        return ("running", "operational") if self.nmda else ("running",)

    # ------------------------------------------------------------ <hello>
    def capabilities(self) -> list[str]:
        caps = [BASE_10] + ([BASE_11] if self.framing == "1.1" else []) + [NOTIFICATION_CAP, INTERLEAVE_CAP]
        if self.legacy_hello:
            return caps + _legacy_module_capabilities(self.swm_features if self.swm_implemented else ())
        caps.append(WITH_DEFAULTS_CAP)
        caps += [m.capability() for m in self.modules() if m.implemented and m.yang_version == "1"]
        if self.yang_library == "1.0":
            caps.append(f"{YANG_LIBRARY_10_CAP}?revision=2016-06-21&module-set-id={self.content_id()}")
        else:
            caps.append(f"{YANG_LIBRARY_11_CAP}?revision=2019-01-04&content-id={self.content_id()}")
        return caps

    # ------------------------------------------------------------ library data
    def library_data(self, parent: etree._Element) -> None:
        """Append ``/yang-library`` (RFC 8525, library 1.1 only) and ``/modules-state`` (RFC 7895) to ``parent``."""
        if not self.yang_library:
            return
        if self.yang_library == "1.1":
            self._yang_library(parent)
        self._modules_state(parent)

    def _yang_library(self, parent: etree._Element) -> None:
        lib = etree.SubElement(parent, _q("yang-library"), nsmap={None: YANGLIB_NS})
        module_set = etree.SubElement(lib, _q("module-set"))
        _leaf(module_set, "name", "complete")
        for mod in self.modules():
            entry = etree.SubElement(module_set, _q("module" if mod.implemented else "import-only-module"))
            _leaf(entry, "name", mod.name)
            _leaf(entry, "revision", mod.revision)
            _leaf(entry, "namespace", mod.namespace)
            for feature in mod.features:
                _leaf(entry, "feature", feature)
        schema = etree.SubElement(lib, _q("schema"))
        _leaf(schema, "name", "complete")
        _leaf(schema, "module-set", "complete")
        for name in self.datastores():
            datastore = etree.SubElement(lib, _q("datastore"))
            etree.SubElement(datastore, _q("name"), nsmap={"ds": DS_NS}).text = f"ds:{name}"
            _leaf(datastore, "schema", "complete")
        _leaf(lib, "content-id", self.content_id())

    def _modules_state(self, parent: etree._Element) -> None:
        state = etree.SubElement(parent, _q("modules-state"), nsmap={None: YANGLIB_NS})
        _leaf(state, "module-set-id", self.content_id())
        for mod in self.modules():
            entry = etree.SubElement(state, _q("module"))
            _leaf(entry, "name", mod.name)
            _leaf(entry, "revision", mod.revision)
            _leaf(entry, "namespace", mod.namespace)
            for feature in mod.features:
                _leaf(entry, "feature", feature)
            _leaf(entry, "conformance-type", "implement" if mod.implemented else "import")


def _legacy_module_capabilities(swm_features: tuple[str, ...]) -> list[str]:
    """The old simulator's module capabilities: YANG 1.1 modules in <hello> (RFC 7950 §5.6.4 says they are not)."""
    caps = [
        f"{HW_NS}?module=ietf-hardware&revision=2018-03-13",
        f"{IANA_HW_NS}?module=iana-hardware&revision=2018-03-13",
        f"{NOTIF_NS}?module=notifications&revision=2008-07-14",
        f"{NETMOD_NOTIF_NS}?module=nc-notifications&revision=2008-07-14",
    ]
    if swm_features:
        caps.append(f"{SWM_NS}?module={SWM_MODULE}&revision={SWM_REVISION}&features={','.join(swm_features)}")
    return caps


def _q(name: str) -> str:
    return f"{{{YANGLIB_NS}}}{name}"


def _leaf(parent: etree._Element, name: str, text: str) -> etree._Element:
    elem = etree.SubElement(parent, _q(name))
    elem.text = text
    return elem
