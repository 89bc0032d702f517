"""``python -m swim_bench`` (``make bench``): the rolling_upgrade campaign measured against the
devices' own time and against a plain-Python baseline.

For each fleet size N it starts a fresh ``swim-sim fleet`` (its own process, so its CPU is measured
apart from the controller's) with the documented device timings, writes a campaign plan (one step,
batches of 25% of the fleet, 10% from N = 500; forks at least the batch size), and runs:

- ``campaign``: the real ``ansible-playbook escalator.swim.rolling_upgrade`` from the repository root,
  the ``kafka_events`` callback off;
- ``baseline``: :mod:`swim_bench.baseline` (asyncio + the real DMI stubs, same RPCs, batches and
  concurrency, no Ansible) on a fresh fleet of the same size;
- for the sizes in ``--kafka-sizes``: the campaign again with the callback on, once with a Tansu
  broker up and once with the bootstrap address pointing at a closed port (broker down).

Before each size, :mod:`swim_bench.limits` checks that it fits the machine (memory, file descriptors, ports,
processes); a size that does not is recorded with what ran out and the largest size that fits is measured
instead. ``--profile`` runs ansible-playbook under :mod:`swim_bench.profiled_playbook` (cProfile).

Every campaign upgrades every device on a fresh fleet; a run counts only when ansible-playbook exits 0
and the simulator's own state files show every device on the target version.

Measured per run: wall time; controller CPU (user+system of ansible-playbook and all its forks, from
getrusage(RUSAGE_CHILDREN)); peak controller memory (sum of RSS and of PSS over the process tree,
sampled every 0.5 s); the simulator daemon's CPU (/proc/PID/stat). The ideal time is
batches x (download + install + reboot + sanity) from the simulator's timings: what the devices
themselves need with zero controller overhead.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import re
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from swim_sim.broker import TansuBroker, free_port
from swim_sim.images import make_image
from swim_sim.testing import SimFleet

from . import limits, measure

ROOT = Path(__file__).resolve().parents[2]
# The ansible.cfg of the measured tree (checkout() points it at the exported commit's own file).
ANSIBLE_CFG = {"path": ROOT / "ansible.cfg"}
BIN = Path(sys.executable).parent
IMAGE_NAME = "swim-olt"
TARGET = "2.0.0"


@dataclass(frozen=True)
class Profile:
    """Device timings (seconds) and campaign settings of one benchmark mode."""

    sizes: tuple[int, ...]
    kafka_sizes: tuple[int, ...]
    download_s: float
    install_s: float
    reboot_s: float
    sanity_s: float
    image_payload: int
    batch_percent: int = 25
    forks: int = 50
    large_from: int = 500            # from this N on: batches of large_batch_percent, forks sized to the batch
    large_batch_percent: int = 10

    @property
    def device_s(self) -> float:
        """Critical path of one device: its own download, install, reboot and bring-up checks."""
        return self.download_s + self.install_s + self.reboot_s + self.sanity_s

    def timings(self, image_bytes: int) -> dict:
        return {"download_rate": image_bytes / self.download_s, "install_time": self.install_s,
                "reboot_time": self.reboot_s, "sanity_time": self.sanity_s}

    def percent(self, n: int) -> int:
        """The plan's batch size of a fleet of *n*: 25%, 10% for the large fleets (500, 1000)."""
        return self.large_batch_percent if n >= self.large_from else self.batch_percent

    def batch_size(self, n: int) -> int:
        # The plan's percentage rule (plugins/module_utils/campaign/schema.py Size.of): floor, at least 1.
        return min(int(self.percent(n) / 100.0 * n) or 1, n)

    def forks_of(self, n: int) -> int:
        """Forks of a run: at least the largest batch (a batch with fewer forks runs in waves)."""
        return max(self.forks, self.batch_size(n))

    def batches(self, n: int) -> int:
        return math.ceil(n / self.batch_size(n))


# download 20 s, install 5 s, reboot 15 s: a real OLT's proportions (minutes) scaled down to seconds.
FULL = Profile(sizes=(10, 50, 100, 200, 500, 1000), kafka_sizes=(100,), download_s=20.0, install_s=5.0, reboot_s=15.0,
               sanity_s=0.0, image_payload=64 * 1024)
QUICK = Profile(sizes=(4,), kafka_sizes=(4,), download_s=1.0, install_s=0.3, reboot_s=0.7, sanity_s=0.0,
                image_payload=8 * 1024)


def ansible_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    for key in list(env):  # a developer's own callback/Kafka settings must not leak into a variant
        if key.startswith(("SWIM_KAFKA_", "ANSIBLE_KAFKA_EVENTS_")) or key == "ANSIBLE_CALLBACKS_ENABLED":
            del env[key]
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "ANSIBLE_CONFIG": str(ANSIBLE_CFG["path"]),
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0"})
    env.update(extra or {})
    return env


def write_plan(path: Path, image: dict, percent: int, campaign_id: str) -> None:
    long = 3600  # hang detection only: never the limiting factor here
    plan = {"campaign": {
        "id": campaign_id,
        "images": {"default": image},
        "groups": [{"name": "fleet", "group": "swim_fleet", "batch": {"size": f"{percent}%"}}],
        "timeouts": {"precheck": 120, "backup": 120, "download": long, "activate": long, "revert": long,
                     "postcheck": 120},
        "verification": {"expect_active_version": True},
        "recovery": {"policy": "revert_device", "failure_threshold": "100%"},
    }}
    path.write_text(yaml.safe_dump(plan, sort_keys=False))


class Bench:
    def __init__(self, profile: Profile, work: Path, log=print, cprofile: bool = False):
        self.profile = profile
        self.cprofile = cprofile  # --profile: ansible-playbook under swim_bench.profiled_playbook
        self.work = work
        self.log = log
        self.images = work / "images"
        path, sha = make_image(self.images / f"{IMAGE_NAME}-{TARGET}.img", IMAGE_NAME, TARGET,
                               size=profile.image_payload)
        self.image_bytes = path.stat().st_size
        self.image = {"name": IMAGE_NAME, "version": TARGET, "url": path.resolve().as_uri(), "sha256": sha}

    def fleet(self, n: int, tag: str) -> SimFleet:
        return SimFleet(self.work / f"n{n}-{tag}" / "fleet", n, timings=self.profile.timings(self.image_bytes),
                        start_timeout=300)

    def playbook_command(self, directory: Path) -> list[str]:
        if self.cprofile:
            return [sys.executable, "-m", "swim_bench.profiled_playbook", "--dump-dir", str(directory / "cprofile")]
        return [str(BIN / "ansible-playbook")]

    def _verify(self, fleet: SimFleet) -> int:
        return sum(fleet.state(d["name"])["partitions"]["active"]["version"] == TARGET for d in fleet.devices)

    def campaign(self, n: int, tag: str, kafka: str | None = None) -> dict:
        """One rolling_upgrade campaign on a fresh fleet. *kafka*: None (callback off) or a bootstrap address."""
        directory = self.work / f"n{n}-{tag}"
        fleet = self.fleet(n, tag).start()
        try:
            plan = directory / "plan.yml"
            campaign_id = f"bench-{tag}-{n}"
            write_plan(plan, self.image, self.profile.percent(n), campaign_id)
            extra = {"SWIM_STATE_DIR": str(directory / "state")}
            if kafka:
                extra.update({"ANSIBLE_CALLBACKS_ENABLED": "escalator.swim.kafka_events",
                              "SWIM_KAFKA_BOOTSTRAP_SERVERS": kafka, "SWIM_KAFKA_TOPIC": f"swim.bench.{n}",
                              "SWIM_KAFKA_SPOOL_DIR": str(directory / "spool")})
            command = [*self.playbook_command(directory), "-i", str(fleet.inventory),
                       "-f", str(self.profile.forks_of(n)),
                       "escalator.swim.rolling_upgrade",
                       "-e", json.dumps({"swim_plan": str(plan), "swim_auto_approve": True})]
            sim_cpu0 = measure.process_cpu_s(fleet.pid)
            run = measure.run_measured(command, cwd=ROOT, env=ansible_env(extra), timeout=3600)
            sim_cpu = measure.process_cpu_s(fleet.pid) - sim_cpu0
            sim_peak = measure.process_peak_rss_mb(fleet.pid)
            upgraded = self._verify(fleet)
            campaign_dir = directory / "state" / "campaigns" / campaign_id
            batches = len({json.loads(p.read_text()).get("batch") for p in (campaign_dir / "status").glob("*.json")})
            try:
                timeline = phases(campaign_dir, run.started_at, run.wall_s, self.profile.device_s)
            except (OSError, ValueError, KeyError) as exc:
                timeline = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            fleet.stop()
        (directory / "ansible.log").write_text(run.stdout + "\n--- stderr ---\n" + run.stderr)
        ok = run.returncode == 0 and upgraded == n
        if not ok:
            self.log(f"  !! campaign n={n} {tag}: exit {run.returncode}, {upgraded}/{n} upgraded; "
                     f"log {directory / 'ansible.log'}\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")
        return {"ok": ok, "returncode": run.returncode, "upgraded": upgraded, "wall_s": round(run.wall_s, 2),
                "cpu_s": round(run.cpu_s, 2), "main_cpu_s": round(run.main_cpu_s, 2),
                "peak_rss_mb": round(run.peak_tree_rss_mb, 1),
                "peak_pss_mb": round(run.peak_tree_pss_mb, 1), "max_process_rss_mb": round(run.max_rss_mb, 1),
                "peak_processes": run.peak_processes, "sim_cpu_s": round(sim_cpu, 2),
                "sim_peak_rss_mb": round(sim_peak, 1), "batches_recorded": batches, "phases": timeline,
                "host_tasks_per_device": host_tasks_per_device(run.stdout)}

    def baseline(self, n: int) -> dict:
        directory = self.work / f"n{n}-baseline"
        fleet = self.fleet(n, "baseline").start()
        try:
            command = [sys.executable, "-m", "swim_bench.baseline", "--fleet-json", str(fleet.state_dir / "fleet.json"),
                       "--image", json.dumps(self.image), "--batch-size", str(self.profile.batch_size(n)),
                       "--forks", str(self.profile.forks_of(n)), "--snapshots", str(directory / "snapshots")]
            sim_cpu0 = measure.process_cpu_s(fleet.pid)
            run = measure.run_measured(command, cwd=ROOT, env=ansible_env(), timeout=3600)
            sim_cpu = measure.process_cpu_s(fleet.pid) - sim_cpu0
            upgraded = self._verify(fleet)
        finally:
            fleet.stop()
        ok = run.returncode == 0 and upgraded == n
        detail = {}
        try:
            detail = json.loads(run.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
        if not ok:
            self.log(f"  !! baseline n={n}: exit {run.returncode}, {upgraded}/{n} upgraded\n{run.stdout[-2000:]}"
                     f"\n{run.stderr[-2000:]}")
        return {"ok": ok, "upgraded": upgraded, "wall_s": round(run.wall_s, 2), "cpu_s": round(run.cpu_s, 2),
                "peak_rss_mb": round(run.peak_tree_rss_mb, 1), "sim_cpu_s": round(sim_cpu, 2),
                "precheck_s": detail.get("precheck_s"), "batch_s": detail.get("batch_s")}

    def kafka(self, row: dict, broker: TansuBroker) -> None:
        """The same campaign with the kafka_events callback on: broker up, then broker down."""
        n = row["n"]
        kafka = {}
        self.log(f"n={n}: campaign with the kafka_events callback, broker up ...")
        kafka["up"] = self.campaign(n, "kafka-up", kafka=broker.bootstrap)
        self.log(f"  wall {kafka['up']['wall_s']}s, CPU {kafka['up']['cpu_s']}s")
        self.log(f"n={n}: campaign with the kafka_events callback, broker down ...")
        kafka["down"] = self.campaign(n, "kafka-down", kafka=f"127.0.0.1:{free_port()}")
        self.log(f"  wall {kafka['down']['wall_s']}s, CPU {kafka['down']['cpu_s']}s")
        for state in ("up", "down"):
            run = kafka[state]
            row[f"kafka_{state}_wall_s"] = run["wall_s"]
            row[f"kafka_{state}_overhead_pct"] = round(100 * (run["wall_s"] - row["wall_s"]) / row["wall_s"], 1)
            row[f"kafka_{state}_cpu_s"] = run["cpu_s"]
            row[f"kafka_{state}_cpu_overhead_pct"] = round(100 * (run["cpu_s"] - row["cpu_s"]) / row["cpu_s"], 1)
            row["ok"] = row["ok"] and run["ok"]
        row["kafka"] = kafka

    def row(self, n: int, with_baseline: bool = True) -> dict:
        p = self.profile
        ideal = p.batches(n) * p.device_s
        self.log(f"n={n}: campaign (callback off) ...")
        campaign = self.campaign(n, "campaign")
        self.log(f"  wall {campaign['wall_s']}s (ideal {ideal:g}s), controller CPU {campaign['cpu_s']}s, "
                 f"peak PSS {campaign['peak_pss_mb']} MB, simulator CPU {campaign['sim_cpu_s']}s")
        if with_baseline:
            self.log(f"n={n}: plain-Python baseline ...")
            baseline = self.baseline(n)
            self.log(f"  wall {baseline['wall_s']}s, CPU {baseline['cpu_s']}s")
        else:  # experiments only (--skip-baseline); make bench always runs it
            baseline = {"ok": True, "wall_s": None, "cpu_s": None, "sim_cpu_s": None}
        row = {
            "n": n, "batches": p.batches(n), "batch_size": p.batch_size(n), "batch_percent": p.percent(n),
            "forks": p.forks_of(n),
            "wall_s": campaign["wall_s"], "ideal_s": round(ideal, 2), "ratio": round(campaign["wall_s"] / ideal, 3),
            "baseline_s": baseline["wall_s"],
            "ratio_to_baseline": round(campaign["wall_s"] / baseline["wall_s"], 3) if baseline["wall_s"] else None,
            "baseline_ratio_to_ideal": round(baseline["wall_s"] / ideal, 3) if baseline["wall_s"] else None,
            "cpu_s": campaign["cpu_s"], "cpu_s_per_device": round(campaign["cpu_s"] / n, 3),
            "main_process_cpu_s": campaign["main_cpu_s"],
            "peak_rss_mb": campaign["peak_rss_mb"], "peak_pss_mb": campaign["peak_pss_mb"],
            "peak_pss_mb_per_device": round(campaign["peak_pss_mb"] / n, 2),
            "max_process_rss_mb": campaign["max_process_rss_mb"], "peak_processes": campaign["peak_processes"],
            "sim_cpu_s": campaign["sim_cpu_s"], "sim_peak_rss_mb": campaign["sim_peak_rss_mb"],
            "phases": campaign["phases"], "host_tasks_per_device": campaign["host_tasks_per_device"],
            "baseline_cpu_s": baseline["cpu_s"], "baseline_sim_cpu_s": baseline["sim_cpu_s"],
            "ok": campaign["ok"] and baseline["ok"], "campaign": campaign, "baseline": baseline,
        }
        return row


def settings(profile: Profile, image_bytes: int) -> dict:
    return {"device_timings_s": {"download": profile.download_s, "install": profile.install_s,
                                 "reboot": profile.reboot_s, "sanity": profile.sanity_s},
            "device_critical_path_s": profile.device_s, "image_bytes": image_bytes,
            "download_rate_bytes_s": round(image_bytes / profile.download_s, 1),
            "batch": f"{profile.batch_percent}% of the fleet (floor, at least 1); {profile.large_batch_percent}% "
                     f"from N = {profile.large_from}", "forks": profile.forks,
            "forks_rule": "max(forks, batch size)",
            "strategy": "linear", "playbook": "escalator.swim.rolling_upgrade", "kafka_sizes": list(profile.kafka_sizes),
            "ansible_core": importlib.metadata.version("ansible-core"), "grpcio": importlib.metadata.version("grpcio")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swim_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small fleet, short timings: proves the harness works")
    parser.add_argument("--sizes", help="comma-separated fleet sizes (default 10,50,100,200; quick: 4)")
    parser.add_argument("--kafka-sizes", help="sizes that also run the callback on/off variants (default 100; "
                                              "quick: 4; 'none' to skip)")
    parser.add_argument("--forks", type=int, help="ansible-playbook --forks and the baseline's concurrency (50)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench", help="results.json and bench.png go here")
    parser.add_argument("--work", type=Path, help="keep fleets, logs and campaign directories here")
    parser.add_argument("--note", default="one run per variant; the load averages tell how busy the machine was",
                        help="what else ran on the machine (recorded with the results)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="run ansible-playbook under cProfile (main process and every worker; "
                             "swim_bench.profiled_playbook) and print where the controller CPU went")
    parser.add_argument("--readme", type=Path, help="rewrite the results table of this README from the results")
    parser.add_argument("--skip-baseline", action="store_true", help="experiments only: no baseline run")
    parser.add_argument("--ref", help="measure this git commit (exported with git archive: collection and simulator) "
                                      "instead of the working tree")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    changes = {}
    if args.sizes:
        changes["sizes"] = tuple(int(s) for s in args.sizes.split(","))
    if args.kafka_sizes:
        changes["kafka_sizes"] = () if args.kafka_sizes == "none" else tuple(int(s) for s in args.kafka_sizes.split(","))
    if args.forks:
        changes["forks"] = args.forks
    if changes:
        profile = Profile(**{**profile.__dict__, **changes})

    work = args.work or Path(tempfile.mkdtemp(prefix="swim-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source = checkout(args.ref, work) if args.ref else {"tree": str(ROOT), "commit": _git("rev-parse", "HEAD"),
                                                         "dirty": bool(_git("status", "--porcelain", "plugins", "roles",
                                                                            "playbooks", "tools"))}
    bench = Bench(profile, work, log=lambda text: print(text, flush=True), cprofile=args.profile)
    started = datetime.datetime.now(datetime.timezone.utc)
    machine_before = measure.machine()
    rows: list[dict] = []
    args.out.mkdir(parents=True, exist_ok=True)

    def save() -> dict:
        """Written after every step: an interrupted run keeps what it measured."""
        results = {
            "schema": 1, "mode": "quick" if args.quick else "full",
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "complete": False,
            "machine": {**machine_before, "load_avg_after": os.getloadavg(),
                        "note": args.note},
            "settings": {**settings(profile, bench.image_bytes), "source": source}, "rows": rows,
        }
        (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        return results

    nofile = limits.raise_nofile()
    bench.log(f"RLIMIT_NOFILE soft/hard: {nofile[0]}/{nofile[1]}")
    for n in profile.sizes:
        fit = limits.fit(n, profile.forks_of, rows, limits.Machine.current())
        measure_n = n
        if not fit["fits"]:
            measure_n = fit["largest_fitting_n"]
            bench.log(f"n={n} does not fit this machine: {'; '.join(s['text'] for s in fit['ran_out'])}; "
                      f"measuring N = {measure_n} instead")
            rows.append({"n": n, "fits": False, "fit": fit, "measured_instead": measure_n})
            save()
            if measure_n < 1 or any(r["n"] == measure_n and r.get("fits", True) for r in rows):
                continue
        row = bench.row(measure_n, with_baseline=not args.skip_baseline)
        row.update(fits=True, fit=fit)
        if measure_n != n:
            row["instead_of"] = n
        rows.append(row)
        save()
    # The callback variants last: the main rows are kept even if these are cut short.
    kafka_rows = [row for row in rows if row["n"] in profile.kafka_sizes and row.get("fits", True)]
    if kafka_rows:
        with TansuBroker(log_path=work / "tansu.log") as broker:
            for row in kafka_rows:
                bench.kafka(row, broker)
                save()
    results = save()
    results["complete"] = True
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {args.out / 'results.json'}")
    if not args.no_plot:
        from .plot import plot

        plot(results, args.out / "bench.png")
        print(f"plot: {args.out / 'bench.png'}")
    from .report import table, update_readme

    print(table(results))
    if args.readme:
        update_readme(args.readme, results)
        print(f"table written into {args.readme}")
    if args.profile:
        from .cprofile_report import breakdown_of_work, markdown

        for row in rows:
            if row.get("fits", True):
                print(markdown(breakdown_of_work(work / f"n{row['n']}-campaign" / "cprofile"), row))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(row["ok"] for row in rows if row.get("fits", True)) else 1


def _git(*args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def checkout(ref: str, work: Path) -> dict:
    """Export *ref* and point this run at it: the collection (ANSIBLE_COLLECTIONS_PATH), its ansible.cfg and
    the simulator (PYTHONPATH of the swim-sim processes), so a tree others are editing cannot change a run half-way."""
    commit = _git("rev-parse", ref)
    if not commit:
        raise SystemExit(f"unknown git ref {ref!r}")
    base = work / "source"
    target = base / "ansible_collections" / "escalator" / "swim"
    shutil.rmtree(base, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, timeout=120, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True, timeout=120)
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(base)
    # The commit's settings too (forks, internal_poll_interval): the working tree's would measure another config.
    ANSIBLE_CFG["path"] = target / "ansible.cfg"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target / "tools"), os.environ.get("PYTHONPATH")]))
    return {"tree": str(target), "commit": commit, "ref": ref, "dirty": False}


RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")


def host_tasks_per_device(stdout: str) -> float | None:
    """Mean host-tasks a device went through (ok + failed + unreachable + skipped of its play recap line;
    ``changed`` is part of ``ok``), localhost's bookkeeping excluded: the controller pays per host-task."""
    counts = [sum(int(g) for g in m.groups()[1:]) for m in map(RECAP_LINE.match, stdout.splitlines())
              if m and m.group(1) != "localhost"]
    return round(sum(counts) / len(counts), 2) if counts else None


def _epoch(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def phases(campaign_dir: Path, started_at: float, wall_s: float, device_s: float) -> dict:
    """Where the wall time went, from the campaign's own structured log and status table.

    start-up: ansible-playbook start to the first precheck record; precheck: to the last backup record;
    each batch: its first download record to its last postcheck record (ideal: device_s);
    between batches: the gaps; tail: the last record to the end of the process.
    """
    log = [json.loads(line) for line in (campaign_dir / "campaign.log").read_text().splitlines() if line.strip()]
    batch_of = {}
    for path in (campaign_dir / "status").glob("*.json"):
        row = json.loads(path.read_text())
        batch_of[row.get("device", path.stem)] = row.get("batch")
    pre = [_epoch(e["time"]) for e in log if e["action"] in ("precheck", "backup")]
    spans: dict = {}
    for e in log:
        if e["action"] in ("download", "activate", "verify", "postcheck") and batch_of.get(e["device"]) is not None:
            t = _epoch(e["time"])
            first, last = spans.get(batch_of[e["device"]], (t, t))
            spans[batch_of[e["device"]]] = (min(first, t), max(last, t))
    batches = [spans[key] for key in sorted(spans)]
    end = started_at + wall_s
    result = {"startup_s": round(min(pre) - started_at, 2) if pre else None,
              "precheck_s": round(max(pre) - min(pre), 2) if pre else None,
              "batch_s": [round(b - a, 2) for a, b in batches],
              "between_batches_s": [round(batches[i + 1][0] - batches[i][1], 2) for i in range(len(batches) - 1)],
              "tail_s": round(end - batches[-1][1], 2) if batches else None}
    result["batch_overhead_s"] = [round(b - device_s, 2) for b in result["batch_s"]]
    return result
