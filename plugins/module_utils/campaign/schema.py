# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The campaign plan as the rest of the collection sees it once validated (docs/campaign-plan.md).

PRIVATE to the collection. ``validate.check`` builds these objects from the plan document; nothing
else does, so code holding a :class:`Plan` may rely on every invariant the validation enforces.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from ..redaction import redact_url

CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Step names end up in group names and file names: no spaces, no path separators.
STEP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")

# `default` in `images` is the image of every step whose group has no entry of its own.
DEFAULT_IMAGE = "default"
STAGES = ("precheck", "backup", "download", "activate", "revert", "postcheck")
# `stall`: seconds without any progress report from a download before it fails as stalled.
TIMEOUT_KEYS = STAGES + ("stall",)
# Seconds. download/activate/stall match the defaults of the download_image/activate_image modules.
DEFAULT_TIMEOUTS = {"precheck": 300, "backup": 300, "download": 1800, "activate": 900, "revert": 900,
                    "postcheck": 600, "stall": 300}
POLICIES = ("revert_device", "stop_campaign", "rollback_campaign")
DEFAULT_PAUSE_MESSAGE = "Continue the campaign with batch {index} ({step}: {hosts})?"


@dataclass(frozen=True)
class Size:
    """A count of hosts, or a percentage of some total (``percent`` set, ``count`` None)."""

    count: int | None = None
    percent: float | None = None

    def of(self, total: int) -> int:
        """Hosts this size stands for out of *total*: Ansible's ``serial`` rule (floor, at least 1)."""
        if total <= 0:
            return 0
        if self.percent is None:
            return min(int(self.count or 0), total)
        return min(int(self.percent / 100.0 * total) or 1, total)

    def as_data(self) -> int | str:
        return self.count if self.percent is None else f"{self.percent:g}%"


@dataclass(frozen=True)
class Image:
    name: str
    version: str
    url: str
    sha256: str
    install_script: str = ""
    size: int | None = None       # bytes; checked by the controller's image preflight when given

    def as_dict(self) -> dict:
        # `url` is what the device needs (credentials included); `url_redacted` is what a human may see.
        return {"name": self.name, "version": self.version, "url": self.url, "url_redacted": redact_url(self.url),
                "sha256": self.sha256, "install_script": self.install_script, "size": self.size}


@dataclass(frozen=True)
class Selector:
    """Extra filter on a step's group: a host pattern and/or a host variable test (both must hold)."""

    limit: str | None = None
    var: str | None = None
    values: tuple = ()            # `equals: x` is stored as (x,), `in: [..]` as the tuple

    def as_dict(self) -> dict:
        data: dict = {}
        if self.limit is not None:
            data["limit"] = self.limit
        if self.var is not None:
            data.update(var=self.var, values=list(self.values))
        return data


@dataclass(frozen=True)
class Step:
    name: str
    group: str
    image: str                    # key of Plan.images
    batch: Size
    canary: Size | None = None
    selector: Selector | None = None
    depends_on: tuple[str, ...] = ()
    timeouts: dict = field(default_factory=dict)     # every stage, campaign defaults filled in


@dataclass(frozen=True)
class RedundancyGroup:
    """Hosts never down together beyond ``max_down``: by shared host var value, or inventory groups."""

    name: str
    var: str | None = None
    groups: tuple[str, ...] = ()
    max_down: int = 1


@dataclass(frozen=True)
class Recovery:
    policy: str = "stop_campaign"
    threshold: Size = Size(count=0)


@dataclass(frozen=True)
class Coordination:
    pause_before_each_batch: bool = False
    pause_before_batches: tuple[int, ...] = ()
    pause_before_steps: tuple[str, ...] = ()
    pause_after_canary: bool = False
    message: str = DEFAULT_PAUSE_MESSAGE


@dataclass(frozen=True)
class Preflight:
    """The controller's image preflight (``preflight.py``): off only for images the controller cannot reach."""

    images: bool = True
    timeout: float = 300
    validate_certs: bool = True


@dataclass(frozen=True)
class Plan:
    id: str
    description: str
    images: dict[str, Image]
    steps: tuple[Step, ...]
    redundancy_groups: tuple[RedundancyGroup, ...] = ()
    timeouts: dict = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    expected_duration: float | None = None
    verification: dict = field(default_factory=dict)
    recovery: Recovery = Recovery()
    coordination: Coordination = Coordination()
    preflight: Preflight = Preflight()

    def host_vars(self) -> list[str]:
        """Host variables the plan reads (selectors, redundancy groups): what resolution needs per host."""
        names = {s.selector.var for s in self.steps if s.selector is not None and s.selector.var}
        names |= {r.var for r in self.redundancy_groups if r.var}
        return sorted(names)


def parse_duration(value: t.Any) -> float | None:
    """Seconds from ``90``, ``90.5``, ``"90s"``, ``"15m"`` or ``"2h"``; None when unusable or not positive."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and DURATION.match(value):
        number, unit = DURATION.match(value).groups()
        seconds = float(number) * DURATION_UNITS[unit]
    else:
        return None
    if not 0 < seconds < 10 ** 7:   # ~115 days: anything longer is a typo, not a timeout
        return None
    return int(seconds) if seconds == int(seconds) else seconds


def parse_size(value: t.Any, *, allow_zero: bool) -> Size | None:
    """A count (int) or ``"N%"`` with 0 < N <= 100; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Size(count=value) if value > 0 or (allow_zero and value == 0) else None
    if isinstance(value, str):
        match = PERCENT.match(value)
        if match:
            percent = float(match.group(1))
            if 0 < percent <= 100 or (allow_zero and percent == 0):
                return Size(percent=percent)
            return None
        if value.strip().isdigit():     # "3" from a survey or an extra var is still a count
            return parse_size(int(value), allow_zero=allow_zero)
    return None
