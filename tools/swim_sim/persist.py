"""What survives a simulator restart: per-device state files and the reboot log."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` atomically (temp file in the same directory + rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None


class StateStore:
    """``<state-dir>/<device>.json`` per device and ``<state-dir>/reboots.jsonl``."""

    def __init__(self, state_dir: str | Path):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.reboot_log = self.dir / "reboots.jsonl"
        self._lock = threading.Lock()

    def device_path(self, name: str) -> Path:
        return self.dir / f"{name}.json"

    def load(self, name: str) -> dict[str, Any] | None:
        try:
            return read_json(self.device_path(name))
        except ValueError:
            return None  # a torn file cannot happen with atomic writes; treat garbage as absent

    def save(self, name: str, state: dict[str, Any]) -> None:
        write_json_atomic(self.device_path(name), state)

    def append_reboot(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock, open(self.reboot_log, "a") as handle:
            handle.write(line)

    def append_dmi_call(self, entry: dict[str, Any]) -> None:
        """``<state-dir>/dmi-calls.jsonl``: the DMI calls that change what a device manager manages
        (StartManagingDevice, StopManagingDevice), so tests can count them."""
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock, open(self.dir / "dmi-calls.jsonl", "a") as handle:
            handle.write(line)

    def reboots(self) -> list[dict[str, Any]]:
        try:
            text = self.reboot_log.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
