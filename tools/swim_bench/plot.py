"""The PNG of ``make bench``: campaign wall time (with ideal and baseline) and ratio to ideal vs N."""
from __future__ import annotations

from pathlib import Path


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    n = [r["n"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(n, [r["wall_s"] for r in rows], "o-", label="rolling_upgrade (Ansible)")
    left.plot(n, [r["baseline_s"] if r["baseline_s"] is not None else float("nan") for r in rows], "s--",
              label="plain-Python baseline")
    left.plot(n, [r["ideal_s"] for r in rows], ":", color="grey", label="ideal (batches x device time)")
    left.set_xlabel("devices (N)")
    left.set_ylabel("campaign wall time (s)")
    left.set_ylim(bottom=0)
    left.legend()
    left.grid(alpha=0.3)
    right.plot(n, [r["ratio"] for r in rows], "o-", label="campaign / ideal")
    right.plot(n, [r["ratio_to_baseline"] if r["ratio_to_baseline"] is not None else float("nan") for r in rows],
               "s--", label="campaign / baseline")
    right.axhline(1.25, color="red", lw=0.8, ls=":", label="target 1.25 x ideal")
    right.set_xlabel("devices (N)")
    right.set_ylabel("ratio")
    right.set_ylim(bottom=0.9)
    right.legend()
    right.grid(alpha=0.3)
    s = results["settings"]["device_timings_s"]
    fig.suptitle(f"escalator.swim rolling_upgrade, {results['machine']['cores']} cores; device: download "
                 f"{s['download']:g}s, install {s['install']:g}s, reboot {s['reboot']:g}s; batches of 25%, "
                 f"{results['settings']['forks']} forks", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
