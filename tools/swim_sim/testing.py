"""Helpers for tests that need a real simulator fleet (used by tests/conftest.py).

:class:`SimFleet` drives the real ``swim-sim fleet ... --detach --pidfile`` /
``swim-sim stop --pidfile`` command line in subprocesses: no mocks, real sockets.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import yaml

TIMING_FLAGS = {"download_rate": "--download-rate", "install_time": "--install-time",
                "reboot_time": "--reboot-time", "sanity_time": "--sanity-time"}
# Small timings that keep test suites fast (seconds; bytes/s).
FAST_TIMINGS = {"download_rate": 8 * 1024 * 1024, "install_time": 0.2, "reboot_time": 0.3, "sanity_time": 0.2}


def swim_sim_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "swim_sim.cli", *args]


class SimFleet:
    """A ``swim-sim fleet`` process.

    ``faults`` is a dict (written as the faults YAML) or a path to one; ``timings``
    maps download_rate/install_time/reboot_time/sanity_time to CLI defaults
    (missing keys take :data:`FAST_TIMINGS`).
    """

    def __init__(self, workdir: str | Path, count: int = 1, *, faults: dict | str | Path | None = None,
                 timings: dict[str, float] | None = None, per_manager: int = 1, groups: Iterable[str] | None = None,
                 kafka: str | None = None, kafka_topic: str | None = None, name_prefix: str | None = None,
                 base_port: int | None = None, transport: str = "dmi", state_dir: str | Path | None = None,
                 extra_args: Iterable[str] = (), start_timeout: float = 120.0):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.count = count
        self.inventory = self.workdir / "inventory.yml"
        self.state_dir = Path(state_dir) if state_dir else self.workdir / "state"
        self.pidfile = self.workdir / "fleet.pid"
        self.log_path = self.state_dir / "swim-sim.log"
        self.faults_path: Path | None = None
        if isinstance(faults, dict):
            self.faults_path = self.workdir / "faults.yml"
            self.faults_path.write_text(yaml.safe_dump(faults, sort_keys=False))
        elif faults:
            self.faults_path = Path(faults)
        self.timings = {**FAST_TIMINGS, **(timings or {})}
        self.per_manager = per_manager
        self.groups = list(groups or [])
        self.kafka = kafka
        self.kafka_topic = kafka_topic
        self.name_prefix = name_prefix
        self.base_port = base_port
        self.transport = transport
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.devices: list[dict[str, Any]] = []
        self.ready_message = ""
        self.running = False

    # ------------------------------------------------------------ process control
    def command(self) -> list[str]:
        args = ["fleet", "--count", str(self.count), "--inventory", str(self.inventory),
                "--state-dir", str(self.state_dir), "--transport", self.transport,
                "--per-manager", str(self.per_manager), "--detach", "--pidfile", str(self.pidfile),
                "--start-timeout", str(self.start_timeout)]
        for key, flag in TIMING_FLAGS.items():
            args += [flag, str(self.timings[key])]
        if self.faults_path:
            args += ["--faults", str(self.faults_path)]
        if self.groups:
            args += ["--groups", ",".join(self.groups)]
        if self.kafka:
            args += ["--kafka", self.kafka]
        if self.kafka_topic:
            args += ["--kafka-topic", self.kafka_topic]
        if self.name_prefix:
            args += ["--name-prefix", self.name_prefix]
        if self.base_port:
            args += ["--base-port", str(self.base_port)]
        return swim_sim_command(*args, *self.extra_args)

    def start(self) -> "SimFleet":
        proc = subprocess.run(self.command(), capture_output=True, text=True, timeout=self.start_timeout + 30)
        if proc.returncode != 0:
            raise RuntimeError(f"swim-sim fleet failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        self.ready_message = proc.stdout.strip()
        self.running = True
        self.devices = json.loads((self.state_dir / "fleet.json").read_text())["devices"]
        return self

    def stop(self, timeout: float = 30.0) -> int:
        """Stop via ``swim-sim stop``; returns its exit code (0 = stopped cleanly or not running)."""
        if not self.pidfile.exists():
            self.running = False
            return 0
        proc = subprocess.run(swim_sim_command("stop", "--pidfile", str(self.pidfile), "--timeout", str(timeout)),
                              capture_output=True, text=True, timeout=timeout + 30)
        self.running = False
        return proc.returncode

    def restart(self) -> "SimFleet":
        self.stop()
        return self.start()

    @property
    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    # ------------------------------------------------------------ what the fleet wrote
    @property
    def fleet_json(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "fleet.json").read_text())

    def device(self, name: str) -> dict[str, Any]:
        for device in self.devices:
            if device["name"] == name:
                return device
        raise KeyError(name)

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.device(name)['port']}"

    def state(self, name: str) -> dict[str, Any]:
        """The device's state file (flash view: partitions, startup config, managed)."""
        return json.loads((self.state_dir / f"{name}.json").read_text())

    def reboots(self) -> list[dict[str, Any]]:
        path = self.state_dir / "reboots.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "SimFleet":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FleetFactory:
    """Callable that starts fleets in fresh directories and stops all of them on :meth:`close`."""

    def __init__(self, make_dir):
        self._make_dir = make_dir
        self.fleets: list[SimFleet] = []

    def __call__(self, count: int = 1, **kwargs) -> SimFleet:
        fleet = SimFleet(self._make_dir(), count, **kwargs)
        self.fleets.append(fleet)
        return fleet.start()

    def close(self) -> None:
        for fleet in self.fleets:
            try:
                fleet.stop()
            except Exception:  # noqa: BLE001 -- teardown must try every fleet
                pass
        self.fleets.clear()
