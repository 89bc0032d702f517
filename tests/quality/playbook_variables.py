"""The variables a collection playbook documents in its header, as the AWX surveys must offer them.

A playbook's header holds a block

    # Variables (all can be AWX job template survey questions):
    #   <name>   (<type>[, <default> | required | optional])   <description, continued on
    #                                                             more indented lines>

where <type> is str, path, bool, int or a|b|c (a choice); a default is written as in YAML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ENTRY = re.compile(r"^#\s{2,}(?P<name>[a-z_][a-z0-9_]*)\s+\((?P<spec>[^)]*)\)\s+(?P<text>.*)$")
CONTINUATION = re.compile(r"^#\s{4,}(?P<text>\S.*)$")


@dataclass
class Variable:
    name: str
    type: str                 # str, path, bool, int, choice
    choices: list[str]
    required: bool
    default: object           # None when there is none
    description: str


def documented_variables(playbook: Path) -> dict[str, Variable]:
    lines = playbook.read_text().splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("# Variables"))
    except StopIteration:
        return {}
    variables: dict[str, Variable] = {}
    current = None
    for line in lines[start + 1:]:
        if (match := ENTRY.match(line)):
            spec = [part.strip() for part in match["spec"].split(",", 1)]
            kind, rest = spec[0], (spec[1] if len(spec) > 1 else "")
            choices = kind.split("|") if "|" in kind else []
            default = None if rest in ("", "required", "optional") else yaml.safe_load(rest)
            current = Variable(match["name"], "choice" if choices else kind, choices, rest == "required", default,
                               match["text"].strip())
            variables[current.name] = current
        elif current and (match := CONTINUATION.match(line)):
            current.description += " " + match["text"].strip()
        else:
            break
    return variables
