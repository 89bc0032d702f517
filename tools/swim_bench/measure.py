"""Process measurements from /proc and getrusage (Linux, stdlib only).

- CPU of a command and everything it forked: ``getrusage(RUSAGE_CHILDREN)`` before and after
  waiting for it. Exact, but it counts every child this process reaps in between, so nothing
  else may be started or reaped while a measured command runs (the runner makes sure of that).
- Memory of a process tree: sampled from /proc every ``interval`` seconds. Per sample the sum of
  RSS over the tree (shared pages counted once per process: an upper bound) and the sum of PSS
  (shared pages divided among the processes sharing them: the honest total). The peak of each sum
  is kept. Short-lived forks between two samples are missed.
- CPU of an unrelated process (the simulator daemon): utime + stime from /proc/PID/stat.
"""
from __future__ import annotations

import os
import platform
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def process_cpu_s(pid: int) -> float:
    """utime + stime of one process (not its children), seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / _TICKS


def process_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree(pid: int) -> list[int]:
    """*pid* and all its descendants alive now."""
    children = _children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    rss = pss = 0
    for line in text.splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


@dataclass
class TreeSampler:
    """Samples the memory of a process tree in a thread until :meth:`stop`."""

    pid: int
    interval: float = 0.5
    peak_rss_kb: int = 0
    peak_pss_kb: int = 0
    peak_processes: int = 0
    samples: int = 0
    root_cpu_s: float = 0.0   # the root process's own CPU at the last sample (ansible-playbook's main process)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "TreeSampler":
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree(self.pid)
            try:
                self.root_cpu_s = process_cpu_s(self.pid)
            except (OSError, IndexError, ValueError):
                pass
            rss = pss = 0
            for pid in pids:
                r, p = _rss_pss_kb(pid)
                rss += r
                pss += p
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self.peak_processes = max(self.peak_processes, len(pids))
            self.samples += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


@dataclass
class Measured:
    returncode: int
    started_at: float       # epoch seconds
    wall_s: float
    cpu_s: float            # user + system of the whole process tree
    main_cpu_s: float       # of which the root process itself (sampled: up to one interval short)
    max_rss_mb: float       # ru_maxrss: the largest single process of the tree
    peak_tree_rss_mb: float
    peak_tree_pss_mb: float
    peak_processes: int
    samples: int
    stdout: str
    stderr: str


def run_measured(command: list[str], *, cwd: str | Path | None = None, env: dict | None = None,
                 timeout: float = 3600, sample_interval: float = 0.5) -> Measured:
    """Run *command* to completion and measure it and everything it forks."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_at = time.time()
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid, sample_interval).start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        stderr += f"\n[swim_bench] killed after {timeout:.0f}s"
    finally:
        sampler.stop()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Measured(
        returncode=proc.returncode, started_at=started_at, wall_s=wall,
        cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), main_cpu_s=sampler.root_cpu_s,
        max_rss_mb=after.ru_maxrss / 1024,  # only meaningful if it grew; reported as a lower bound
        peak_tree_rss_mb=sampler.peak_rss_kb / 1024, peak_tree_pss_mb=sampler.peak_pss_kb / 1024,
        peak_processes=sampler.peak_processes, samples=sampler.samples, stdout=stdout, stderr=stderr)


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version(), "load_avg": os.getloadavg()}
