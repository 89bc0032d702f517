# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Read a campaign directory as it is on disk: status rows, campaign.log, snapshots, and campaign.json.

PRIVATE to the collection. ``campaign.json`` is written by the module escalator.swim.campaign_report: what the
directory alone does not know (the plan's batches, recovery policy, redundancy groups, the run's outcome), so
``swim report <dir>`` rebuilds the same report later. Everything here tolerates a directory a killed
controller left behind: an unreadable row or log line is reported in ``problems``, never raised.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ..atomic_file import write_atomic

META_FILE = "campaign.json"


@dataclass
class CampaignFiles:
    directory: str
    rows: list = field(default_factory=list)
    log: list = field(default_factory=list)
    snapshots: dict = field(default_factory=dict)      # {device: {"pre": dict|None, "post": dict|None}}
    meta: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


def _read_json(path: str, problems: list):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: unreadable ({exc})")
        return None


def _rows(directory: str, problems: list) -> list:
    status = os.path.join(directory, "status")
    rows = []
    if os.path.isdir(status):
        for name in sorted(os.listdir(status)):
            if name.endswith(".json") and not name.startswith("."):
                row = _read_json(os.path.join(status, name), problems)
                if isinstance(row, dict) and row.get("device"):
                    rows.append(row)
    return rows


def _log(directory: str, problems: list) -> list:
    entries = []
    try:
        with open(os.path.join(directory, "campaign.log"), encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    problems.append(f"campaign.log line {number}: not JSON (skipped)")
    except FileNotFoundError:
        pass
    except OSError as exc:
        problems.append(f"campaign.log: unreadable ({exc})")
    return entries


def _snapshots(directory: str, problems: list) -> dict:
    root = os.path.join(directory, "snapshots")
    found = {}
    if os.path.isdir(root):
        for device in sorted(os.listdir(root)):
            pair = {kind: _read_json(os.path.join(root, device, kind + ".json"), problems) for kind in ("pre", "post")}
            if any(pair.values()):
                found[device] = pair
    return found


def load_campaign(directory: str) -> CampaignFiles:
    """Everything the report needs from *directory*; raises ValueError when it is no campaign directory."""
    if not os.path.isdir(directory):
        raise ValueError(f"{directory}: no such campaign directory")
    problems: list = []
    files = CampaignFiles(directory=directory, rows=_rows(directory, problems), log=_log(directory, problems),
                          snapshots=_snapshots(directory, problems))
    meta = _read_json(os.path.join(directory, META_FILE), problems)
    files.meta = meta if isinstance(meta, dict) else {}
    if not files.rows and not files.log:
        raise ValueError(f"{directory}: not a campaign directory (no status/*.json rows, no campaign.log)")
    files.problems = problems
    return files


def write_text(path: str, text: str) -> None:
    """Replace *path* atomically (a report being read in a browser is never half written)."""
    write_atomic(path, text, prefix=".tmp-report-", mode=0o644)


def write_meta(directory: str, meta: dict) -> None:
    write_text(os.path.join(directory, META_FILE), json.dumps(meta, indent=2, sort_keys=True) + "\n")
