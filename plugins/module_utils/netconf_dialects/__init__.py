# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Software-management YANG dialects of the NETCONF transport, chosen by capability at hello.

PRIVATE to the collection. One file per YANG model; each defines ``DIALECT`` (a subclass of
:class:`base.Dialect`). Adding a dialect is one new file plus its import below (explicit imports:
AnsiballZ bundles only what is imported by name). The first dialect whose module the device
advertises wins, so list the standard before the pre-standard ones.
"""

from __future__ import annotations

import typing as t

from . import bbf_software_image_management_one_dot_one, bbf_software_management, o_ran_software_management
from .base import Dialect

DIALECTS: tuple[type[Dialect], ...] = (
    bbf_software_management.DIALECT,
    bbf_software_image_management_one_dot_one.DIALECT,
    o_ran_software_management.DIALECT,
)


def select(capabilities: t.Iterable[str]) -> Dialect | None:
    """The dialect for a device advertising *capabilities* (its hello), or None."""
    capabilities = list(capabilities)
    for dialect in DIALECTS:
        if dialect.matches(capabilities):
            return dialect()
    return None


def supported_modules() -> list[str]:
    return [dialect.module for dialect in DIALECTS]
