# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Offline validation of a campaign plan document: every problem, each with its path in the plan.

PRIVATE to the collection. ``check`` never stops at the first problem and never raises on bad
input, whatever its shape: an operator fixing a plan wants the whole list at once. Problems are
plain strings ``"<path>: <what is wrong>"`` with URL credentials redacted.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ..redaction import REDACTED
from ..ops.common import SHA256, URL
from . import schema as s
from .checks import (Problems, boolean, check_timeouts, duration, join, kind, mapping, number, size, string_list,
                     text)
from .inventory import Inventory, check_inventory
from .steps import check_steps


def _scrub(url: str) -> str:
    """A malformed URL for a message: redact_url needs a scheme, so hide everything up to the last @ too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    return (scheme + sep if sep else "") + (REDACTED + "@" + rest.rsplit("@", 1)[1] if "@" in rest else rest)


def check_image(value: t.Any, path: str, problems: Problems) -> s.Image | None:
    data = mapping(value, path, problems, ("name", "version", "url", "sha256", "install_script", "size"),
                   ("name", "version", "url", "sha256"))
    if data is None:
        return None
    before = len(problems.items)
    name = text(data.get("name"), join(path, "name"), problems) if "name" in data else None
    version = text(data.get("version"), join(path, "version"), problems) if "version" in data else None
    url = data.get("url")
    if "url" in data:
        if not isinstance(url, str):
            problems.add(join(path, "url"), f"must be a string, got {kind(url)}")
        elif not URL.fullmatch(url):     # fullmatch: `$` alone would let a trailing newline through
            problems.add(join(path, "url"), f"{_scrub(url)!r} is not a URL the device can fetch (expected "
                         "scheme://host/path with http, https, sftp, ftp, ftps, scp, tftp or file)")
    sha = data.get("sha256")
    if "sha256" in data and isinstance(sha, (int, float)) and not isinstance(sha, bool):
        # An unquoted checksum of digits only is a YAML number: its leading zeros are already lost.
        problems.add(join(path, "sha256"), "must be a string: YAML read this unquoted checksum as a number, "
                                           "quote it (sha256: \"...\")")
    elif "sha256" in data and not (isinstance(sha, str) and SHA256.fullmatch(sha)):
        problems.add(join(path, "sha256"), "must be 64 hexadecimal characters (the output of sha256sum)")
    image_size = data.get("size")
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1):
        problems.add(join(path, "size"), f"must be the image size in bytes (an integer >= 1), got {image_size!r}")
    script = data.get("install_script", "")
    if script is None:
        script = ""
    if not isinstance(script, str):
        problems.add(join(path, "install_script"), f"must be a string, got {kind(script)}")
    if len(problems.items) > before or None in (name, version) or "url" not in data or "sha256" not in data:
        return None
    return s.Image(name=name, version=version, url=url, sha256=sha.lower(), install_script=script, size=image_size)


def check_redundancy(value: t.Any, path: str, problems: Problems) -> tuple[s.RedundancyGroup, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, f"must be a list, got {kind(value)}")
        return ()
    result, seen = [], {}
    for index, item in enumerate(value):
        where = join(path, index)
        data = mapping(item, where, problems, ("name", "var", "groups", "max_down"), ("name",))
        if data is None:
            continue
        before = len(problems.items)
        name = text(data["name"], join(where, "name"), problems) if "name" in data else None
        if name is not None and name in seen:
            problems.add(join(where, "name"), f"duplicate redundancy group name {name!r} (also {seen[name]})")
        elif name is not None:
            seen[name] = where
        var, groups = None, ()
        if ("var" in data) == ("groups" in data):
            problems.add(where, "give exactly one of var (hosts sharing a value of this host variable) "
                                "or groups (the hosts of these inventory groups)")
        elif "var" in data:
            var = text(data["var"], join(where, "var"), problems)
            if var is not None and not s.VAR_NAME.match(var):
                problems.add(join(where, "var"), f"{var!r} is not a valid variable name")
        else:
            listed = len(problems.items)
            groups = tuple(string_list(data["groups"], join(where, "groups"), problems))
            if not groups and len(problems.items) == listed:
                problems.add(join(where, "groups"), "must name at least one inventory group")
        max_down = 1
        if "max_down" in data:
            max_down = number(data["max_down"], join(where, "max_down"), problems, integer=True)
            if max_down == 0:
                problems.add(join(where, "max_down"), "must be at least 1 (0 would forbid upgrading any member)")
        if len(problems.items) == before:
            result.append(s.RedundancyGroup(name=name, var=var, groups=groups, max_down=int(max_down)))
    return tuple(result)


def check_verification(value: t.Any, path: str, problems: Problems) -> dict:
    keys = ("expect_active_version", "compare_inventory", "compare_startup_config", "sensor_tolerance",
            "max_new_alarms")
    data = mapping(value, path, problems, keys) if value is not None else {}
    data = data or {}
    result = {key: boolean(data.get(key), join(path, key), problems, True) for key in keys[:3]}
    tolerance = data.get("sensor_tolerance") or {}
    result["sensor_tolerance"] = {}
    if not isinstance(tolerance, Mapping):
        problems.add(join(path, "sensor_tolerance"), f"must be a mapping of sensor name pattern to number, "
                                                     f"got {kind(tolerance)}")
        tolerance = {}
    for pattern, limit in tolerance.items():
        where = join(join(path, "sensor_tolerance"), pattern)
        if not isinstance(pattern, str) or not pattern:
            problems.add(where, "sensor name pattern must be a non-empty string")
        elif number(limit, where, problems) is not None:
            result["sensor_tolerance"][pattern] = limit
    result["max_new_alarms"] = 0
    if "max_new_alarms" in data:
        result["max_new_alarms"] = number(data["max_new_alarms"], join(path, "max_new_alarms"), problems,
                                          integer=True) or 0
    return result


def check_recovery(value: t.Any, path: str, problems: Problems) -> s.Recovery:
    data = mapping(value, path, problems, ("policy", "failure_threshold")) if value is not None else {}
    data = data or {}
    policy = data.get("policy", s.Recovery.policy)
    if policy not in s.POLICIES:
        problems.add(join(path, "policy"), f"must be one of {', '.join(s.POLICIES)}, got {policy!r}")
        policy = s.Recovery.policy
    threshold = s.Recovery.threshold
    if "failure_threshold" in data:
        threshold = size(data["failure_threshold"], join(path, "failure_threshold"), problems,
                         allow_zero=True) or threshold
    return s.Recovery(policy=policy, threshold=threshold)


def check_coordination(value: t.Any, path: str, problems: Problems, step_names: set[str]) -> s.Coordination:
    keys = ("pause_before_each_batch", "pause_before_batches", "pause_before_steps", "pause_after_canary", "message")
    data = mapping(value, path, problems, keys) if value is not None else {}
    data = data or {}
    indices = data.get("pause_before_batches") or []
    if not isinstance(indices, list):
        problems.add(join(path, "pause_before_batches"), f"must be a list of batch indices, got {kind(indices)}")
        indices = []
    good = []
    for index, item in enumerate(indices):
        if number(item, join(join(path, "pause_before_batches"), index), problems, integer=True) is not None:
            good.append(item)
    steps = string_list(data.get("pause_before_steps"), join(path, "pause_before_steps"), problems)
    for index, name in enumerate(steps):
        if step_names and name not in step_names:
            problems.add(join(join(path, "pause_before_steps"), index), f"unknown step {name!r}")
    message = s.DEFAULT_PAUSE_MESSAGE
    if "message" in data:
        message = text(data["message"], join(path, "message"), problems, max_len=1024) or message
        try:
            message.format(index=0, step="step", group="group", hosts="host", count=1)
        except Exception as exc:      # KeyError, IndexError, ValueError, TypeError...: any bad placeholder
            problems.add(join(path, "message"), f"placeholders can be {{index}}, {{step}}, {{group}}, "
                                                f"{{hosts}} and {{count}} ({type(exc).__name__}: {exc})")
            message = s.DEFAULT_PAUSE_MESSAGE
    return s.Coordination(
        pause_before_each_batch=boolean(data.get("pause_before_each_batch"), join(path, "pause_before_each_batch"),
                                        problems, False),
        pause_before_batches=tuple(sorted(set(good))), pause_before_steps=tuple(steps),
        pause_after_canary=boolean(data.get("pause_after_canary"), join(path, "pause_after_canary"), problems, False),
        message=message)


CAMPAIGN_KEYS = ("id", "description", "images", "groups", "redundancy_groups", "timeouts", "expected_duration",
                 "verification", "recovery", "coordination", "preflight")


def check_preflight(value: t.Any, path: str, problems: Problems) -> s.Preflight:
    data = mapping(value, path, problems, ("images", "timeout", "validate_certs")) if value is not None else {}
    data = data or {}
    timeout = s.Preflight.timeout
    if "timeout" in data:
        timeout = duration(data["timeout"], join(path, "timeout"), problems) or timeout
    return s.Preflight(images=boolean(data.get("images"), join(path, "images"), problems, True), timeout=timeout,
                       validate_certs=boolean(data.get("validate_certs"), join(path, "validate_certs"), problems,
                                              True))


def check_images(value: t.Any, path: str, problems: Problems) -> dict[str, s.Image]:
    images: dict[str, s.Image] = {}
    if not isinstance(value, Mapping) or not value:
        problems.add(path, f"must be a mapping of inventory group (or default) to image, got {kind(value)}"
                     + (" without entries" if isinstance(value, Mapping) else ""))
        return images
    for key, entry in value.items():
        where = join(path, key)
        if not isinstance(key, str) or not key.strip():
            problems.add(where, "image keys must be inventory group names (or default)")
            continue
        image = check_image(entry, where, problems)
        if image is not None:
            images[key] = image
    return images


def check(document: t.Any) -> tuple[s.Plan | None, list[str]]:
    """The plan built from *document* (``{"campaign": {...}}``) and its problems; the plan is None if any."""
    problems = Problems()
    if not isinstance(document, Mapping) or "campaign" not in document:
        problems.add("campaign", f"is required: the plan is a mapping with one key, campaign (got {kind(document)})")
    if not isinstance(document, Mapping):
        return None, problems.items
    mapping(document, "", problems, ("campaign",))
    if "campaign" not in document:
        return None, problems.items
    path = "campaign"
    data = mapping(document["campaign"], path, problems, CAMPAIGN_KEYS, ("id", "images", "groups"))
    if data is None:
        return None, problems.items
    plan_id = text(data["id"], join(path, "id"), problems, max_len=64) if "id" in data else None
    if plan_id is not None and not s.CAMPAIGN_ID.match(plan_id):
        problems.add(join(path, "id"), "must be 1-64 characters among a-z, 0-9, - and _, starting with a letter "
                                       "or digit (it names the campaign directory and locks)")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.add(join(path, "description"), f"must be a string, got {kind(description)}")
    images = check_images(data["images"], join(path, "images"), problems) if "images" in data else {}
    timeouts = check_timeouts(data.get("timeouts"), join(path, "timeouts"), problems, s.DEFAULT_TIMEOUTS)
    expected = None
    if "expected_duration" in data:
        expected = duration(data["expected_duration"], join(path, "expected_duration"), problems)
    raw_images = data.get("images") if isinstance(data.get("images"), Mapping) else {}
    steps = check_steps(data["groups"], join(path, "groups"), problems, raw_images, timeouts) \
        if "groups" in data else ()
    plan = s.Plan(
        id=plan_id or "", description=description if isinstance(description, str) else "",
        images=images, steps=steps,
        redundancy_groups=check_redundancy(data.get("redundancy_groups"), join(path, "redundancy_groups"), problems),
        timeouts=timeouts, expected_duration=expected,
        verification=check_verification(data.get("verification"), join(path, "verification"), problems),
        recovery=check_recovery(data.get("recovery"), join(path, "recovery"), problems),
        coordination=check_coordination(data.get("coordination"), join(path, "coordination"), problems,
                                        {step.name for step in steps}),
        preflight=check_preflight(data.get("preflight"), join(path, "preflight"), problems))
    return (None if problems.items else plan), problems.items


def validate(document: t.Any, inventory_groups: t.Any = None, hostvars: t.Any = None) -> list[str]:
    """Every problem of the plan; with *inventory_groups* (group -> hosts) also those of the plan on that
    inventory (unknown groups, redundancy groups no batching can protect). Empty list: the plan is valid."""
    plan, problems = check(document)
    if inventory_groups is None:
        return problems
    inventory, inventory_problems = Inventory.build(inventory_groups, hostvars)
    if plan is None or inventory is None:
        return problems + inventory_problems
    return problems + inventory_problems + check_inventory(plan, inventory)
