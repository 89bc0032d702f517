# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Software-management YANG dialects of the NETCONF transport, chosen from the modules the server announces (hello, YANG library).

PRIVATE to the collection. One file per YANG model; each defines ``DIALECT`` (a subclass of
:class:`base.Dialect`). Adding a dialect is one new file plus its import below (explicit imports:
AnsiballZ bundles only what is imported by name). The first dialect whose module the device
implements (with the features it needs) wins, so list the standard before the pre-standard ones.
"""

from __future__ import annotations

from . import bbf_software_image_management_one_dot_one, bbf_software_management, o_ran_software_management
from .base import Dialect

DIALECTS: tuple[type[Dialect], ...] = (
    bbf_software_management.DIALECT,
    bbf_software_image_management_one_dot_one.DIALECT,
    o_ran_software_management.DIALECT,
)


def select(found) -> Dialect | None:
    """The dialect for a server whose modules are *found*: a :class:`netconf_discovery.Library`, or the
    capabilities of a hello (its ``module=`` entries). None when no supported model is usable."""
    return choose(found)[0]


def choose(found) -> tuple[Dialect | None, list[str]]:
    """``(dialect or None, why each supported model found was not usable)``."""
    if not hasattr(found, "modules"):
        from ..netconf_discovery import Library, hello_modules  # late: that module imports this package
        found = Library(modules=tuple(hello_modules(found)))
    problems = []
    for dialect in DIALECTS:
        module = dialect.find(found)
        if module is None:
            imported = found.module(dialect.module, dialect.namespace, implemented=False)
            if imported is not None:
                problems.append(f"{imported.describe()} is not implemented")
            continue
        why = dialect.unusable(module)
        if why:
            problems.append(why)
            continue
        return dialect(module), problems
    return None, problems


def supported_modules() -> list[str]:
    return [dialect.module for dialect in DIALECTS]
