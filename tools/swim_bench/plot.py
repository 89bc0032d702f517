"""The PNG of ``make bench``: the scale curve, wall/ideal and controller CPU-s per device against N."""
from __future__ import annotations

from pathlib import Path

from .report import measured

NAN = float("nan")


def series(results: dict) -> dict[str, list]:
    """The plotted values, one per measured size in N order (a size that did not fit is left out)."""
    rows = sorted(measured(results), key=lambda r: r["n"])
    return {
        "n": [r["n"] for r in rows],
        "wall_over_ideal": [r["ratio"] for r in rows],
        "baseline_over_ideal": [r["baseline_s"] / r["ideal_s"] if r.get("baseline_s") else NAN for r in rows],
        "cpu_s_per_device": [r["cpu_s_per_device"] for r in rows],
        "main_cpu_s_per_device": [r["main_process_cpu_s"] / r["n"] if r.get("main_process_cpu_s") is not None
                                  else NAN for r in rows],
    }


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = series(results)
    n = data["n"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(n, data["wall_over_ideal"], "o-", label="rolling_upgrade (Ansible) / ideal")
    left.plot(n, data["baseline_over_ideal"], "s--", label="plain-Python baseline / ideal")
    left.axhline(1.0, color="grey", lw=0.8, ls=":", label="ideal (batches x device time)")
    left.set_xlabel("devices (N)")
    left.set_ylabel("campaign wall time / ideal")
    left.set_ylim(bottom=0.9)
    right.plot(n, data["cpu_s_per_device"], "o-", label="controller (ansible-playbook + forks)")
    right.plot(n, data["main_cpu_s_per_device"], "s--", label="of which the main process")
    right.set_xlabel("devices (N)")
    right.set_ylabel("controller CPU-s per device")
    right.set_ylim(bottom=0)
    for axis in (left, right):
        if n and max(n) >= 10 * min(n):
            axis.set_xscale("log")
        axis.set_xticks(n, [str(v) for v in n])
        axis.minorticks_off()
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    skipped = [r["n"] for r in results["rows"] if not r.get("fits", True)]
    s = results["settings"]["device_timings_s"]
    fig.suptitle(f"escalator.swim rolling_upgrade, {results['machine']['cores']} cores; device: download "
                 f"{s['download']:g}s, install {s['install']:g}s, reboot {s['reboot']:g}s; "
                 f"{results['settings']['batch']}; forks {results['settings'].get('forks_rule', 'fixed')}"
                 + (f"; N = {', '.join(map(str, skipped))} did not fit the machine" if skipped else ""), fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
