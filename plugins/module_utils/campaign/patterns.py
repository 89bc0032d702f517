# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Host patterns of step selectors (``selector.limit``): the part of Ansible's pattern language a plan needs.

PRIVATE to the collection. Comma-separated terms; a term is a shell-style pattern (``olt-n*``) or a
regular expression after ``~`` (matched from the start, as Ansible does), and matches a host by its
name or by the name of an inventory group it belongs to. ``!term`` excludes, ``&term`` intersects.
Colons are not separators here (Ansible's legacy ``a:b`` form is ambiguous with IPv6 addresses).
"""

from __future__ import annotations

import fnmatch
import re
import typing as t


def terms(pattern: str) -> list[tuple[str, str]]:
    """``(operator, term)`` pairs; operator is ``""`` (union), ``"!"`` (exclude) or ``"&"`` (intersect)."""
    result = []
    for raw in pattern.split(","):
        term = raw.strip()
        operator = term[:1] if term[:1] in ("!", "&") else ""
        result.append((operator, term[len(operator):].strip()))
    return result


def pattern_problems(pattern: str) -> list[str]:
    problems = []
    for operator, term in terms(pattern):
        if not term:
            problems.append(f"empty term in host pattern {pattern!r}")
            continue
        if term.startswith("~"):
            try:
                re.compile(term[1:])
            except Exception as exc:     # re.error, RecursionError on absurd nesting...
                problems.append(f"invalid regular expression {term[1:]!r}: {exc}")
    return problems


def _compile(term: str) -> t.Callable[[str], bool]:
    if term.startswith("~"):
        regex = re.compile(term[1:])
        return lambda name: regex.match(name) is not None
    return lambda name: fnmatch.fnmatchcase(name, term)


def match(pattern: str, hosts: t.Iterable[str], groups_of: t.Callable[[str], t.Iterable[str]]) -> set[str]:
    """The hosts among *hosts* the (valid) *pattern* selects; *groups_of(host)* names a host's groups."""
    hosts = list(hosts)
    selected: set[str] | None = None
    include, intersect, exclude = [], [], []
    for operator, term in terms(pattern):
        test = _compile(term)
        chosen = {h for h in hosts if test(h) or any(test(g) for g in groups_of(h))}
        {"": include, "&": intersect, "!": exclude}[operator].append(chosen)
    selected = set().union(*include) if include else set(hosts)
    for chosen in intersect:
        selected &= chosen
    for chosen in exclude:
        selected -= chosen
    return selected
