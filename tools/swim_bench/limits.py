"""Does a fleet size fit this machine? Checked before a size is started, so a run that cannot fit is
recorded with what ran out (and the setting that moves it) instead of failing half-way.

What a run of N devices with F forks needs (the simulator runs one gRPC device manager, i.e. one
listening socket, per device; ``swim_bench.baseline`` keeps one channel per device open):

- memory: N x the per-device peak (controller PSS + simulator RSS) measured at the largest smaller N of
  this run, or :data:`ASSUMED_MB_PER_DEVICE` before any measurement, with :data:`MEMORY_HEADROOM`;
  against MemAvailable.
- file descriptors, per process (RLIMIT_NOFILE is per process and inherited): the simulator holds
  N listeners + the open connections (N when the baseline runs) + gRPC's own descriptors per server;
  the baseline N channels; ansible-playbook's main process a pipe set per live worker. The biggest of
  these against the soft limit (the runner raises the soft limit to the hard one first).
- loopback ports: the simulator's N listeners come from the ephemeral range (it binds port 0), and
  every device task's connection leaves a client port in TIME_WAIT for 60 s: N x (1 +
  :data:`CONNECTIONS_PER_DEVICE`) against the size of ``net.ipv4.ip_local_port_range`` (an upper
  bound: Linux reuses a local port towards different destinations).
- processes: F workers + a few against RLIMIT_NPROC.
"""
from __future__ import annotations

import os
import resource
from dataclasses import asdict, dataclass
from pathlib import Path

ASSUMED_MB_PER_DEVICE = 8.0      # before anything was measured: last full run's 6.0 MB PSS + simulator, rounded up
MEMORY_HEADROOM = 1.25           # peaks are sampled (lower bounds) and the system needs room of its own
FDS_PER_SIM_DEVICE = 4           # listener + accepted connection + gRPC server internals (measured: see docs)
FDS_PER_MAIN_WORKER = 4          # ansible-playbook main process: pipes and sentinel per live worker
FDS_BASE = 200                   # interpreter, logs, state files, gRPC's epoll and wakeup descriptors
CONNECTIONS_PER_DEVICE = 5       # device-I/O host-tasks per device (snapshot x 3, download, activate)
UNLIMITED = resource.RLIM_INFINITY


@dataclass(frozen=True)
class Machine:
    """The limits of the machine (or of a test's invented machine)."""

    mem_available_mb: float
    nofile_soft: int
    nofile_hard: int
    ephemeral_ports: int
    nproc_soft: int

    @classmethod
    def current(cls) -> "Machine":
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
        nproc = resource.getrlimit(resource.RLIMIT_NPROC)
        return cls(mem_available_mb=_mem_available_mb(), nofile_soft=nofile[0], nofile_hard=nofile[1],
                   ephemeral_ports=_ephemeral_ports(), nproc_soft=nproc[0])


@dataclass(frozen=True)
class Shortfall:
    """One resource a fleet size needs more of than the machine has."""

    resource: str
    needed: float
    available: float
    setting: str

    def text(self) -> str:
        return f"{self.resource}: needs {self.needed:g}, {self.available:g} available ({self.setting})"


def _mem_available_mb(meminfo: Path = Path("/proc/meminfo")) -> float:
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _ephemeral_ports(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    low, high = (int(x) for x in path.read_text().split())
    return high - low + 1


def raise_nofile() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (inherited by everything the bench starts); the new pair."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def mb_per_device(rows: list[dict], n: int) -> tuple[float, str]:
    """Controller PSS + simulator RSS per device at the largest measured N below *n*, and where it came from."""
    measured = [r for r in rows if r.get("n", 0) < n and r.get("peak_pss_mb") and r.get("fits", True)]
    if not measured:
        return ASSUMED_MB_PER_DEVICE, "assumed (nothing measured yet in this run)"
    row = max(measured, key=lambda r: r["n"])
    per_device = (row["peak_pss_mb"] + (row.get("sim_peak_rss_mb") or 0.0)) / row["n"]
    return per_device, f"measured at N = {row['n']}"


def needs(n: int, forks: int, per_device_mb: float) -> dict:
    """What N devices with *forks* forks need, per resource (same keys as :func:`shortfalls` checks)."""
    return {
        "memory_mb": round(n * per_device_mb * MEMORY_HEADROOM, 1),
        "fds_per_process": FDS_BASE + max(n * FDS_PER_SIM_DEVICE, forks * FDS_PER_MAIN_WORKER),
        "ephemeral_ports": n * (1 + CONNECTIONS_PER_DEVICE),
        "processes": forks + 20,
    }


def shortfalls(n: int, forks: int, per_device_mb: float, machine: Machine) -> list[Shortfall]:
    """Every resource N devices would run out of on *machine* (empty: it fits)."""
    need = needs(n, forks, per_device_mb)
    found = []
    if need["memory_mb"] > machine.mem_available_mb:
        found.append(Shortfall("memory MB", need["memory_mb"], round(machine.mem_available_mb, 1),
                               "MemAvailable in /proc/meminfo: stop other work, add memory, or fewer forks"))
    if need["fds_per_process"] > machine.nofile_soft:
        found.append(Shortfall("file descriptors per process", need["fds_per_process"], machine.nofile_soft,
                               f"RLIMIT_NOFILE (ulimit -n; hard limit {machine.nofile_hard}, raised by root in "
                               "/etc/security/limits.conf or LimitNOFILE= of the service)"))
    if need["ephemeral_ports"] > machine.ephemeral_ports:
        found.append(Shortfall("loopback ports", need["ephemeral_ports"], machine.ephemeral_ports,
                               "sysctl net.ipv4.ip_local_port_range"))
    if machine.nproc_soft != UNLIMITED and need["processes"] > machine.nproc_soft:
        found.append(Shortfall("processes", need["processes"], machine.nproc_soft, "RLIMIT_NPROC (ulimit -u)"))
    return found


def largest_fitting(n: int, forks_of, per_device_mb: float, machine: Machine, step: int = 10) -> int:
    """The largest multiple of *step* (or 1) not above *n* that fits; *forks_of(n)* gives a size's forks."""
    candidate = n - n % step if n >= step else n
    while candidate > step and shortfalls(candidate, forks_of(candidate), per_device_mb, machine):
        candidate -= step
    if shortfalls(candidate, forks_of(candidate), per_device_mb, machine):
        candidate = 1 if not shortfalls(1, forks_of(1), per_device_mb, machine) else 0
    return candidate


def fit(n: int, forks_of, rows: list[dict], machine: Machine) -> dict:
    """The fit record of one requested size (stored in results.json as the row's ``fit``)."""
    per_device, source = mb_per_device(rows, n)
    found = shortfalls(n, forks_of(n), per_device, machine)
    record = {"requested_n": n, "fits": not found, "needs": needs(n, forks_of(n), per_device),
              "mb_per_device": round(per_device, 2), "mb_per_device_source": source,
              "machine": asdict(machine), "ran_out": [asdict(s) | {"text": s.text()} for s in found]}
    if found:
        record["largest_fitting_n"] = largest_fitting(n, forks_of, per_device, machine)
    return record
