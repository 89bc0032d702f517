"""Markdown table of bench/results.json (pasted into README.md and docs/performance.md)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _num(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(results: dict) -> str:
    lines = ["| N | batches | wall s | ideal s | wall/ideal | baseline s | wall/baseline | controller CPU-s/device "
             "| peak controller PSS MB (RSS sum) | simulator CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        lines.append(f"| {r['n']} | {r['batches']} | {r['wall_s']:.1f} | {r['ideal_s']:.0f} | {r['ratio']:.2f} "
                     f"| {_num(r['baseline_s'], '.1f')} | {_num(r['ratio_to_baseline'], '.2f')} | {r['cpu_s_per_device']:.2f} "
                     f"| {r['peak_pss_mb']:.0f} ({r['peak_rss_mb']:.0f}) | {r['sim_cpu_s']:.1f} |")
    kafka = [r for r in results["rows"] if "kafka_up_wall_s" in r]
    if kafka:
        lines += ["", "| N | callback off wall s | on, broker up | on, broker down |", "|---|---|---|---|"]
        for r in kafka:
            lines.append(f"| {r['n']} | {r['wall_s']:.1f} | {r['kafka_up_wall_s']:.1f} "
                         f"({r['kafka_up_overhead_pct']:+.1f}%) | {r['kafka_down_wall_s']:.1f} "
                         f"({r['kafka_down_overhead_pct']:+.1f}%) |")
    m = results["machine"]
    lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Linux {m['kernel']}, "
                  f"Python {m['python']}; load average {m['load_avg'][0]:.2f} at the start, "
                  f"{m['load_avg_after'][0]:.2f} at the end ({results['started']}). {m['note']}."]
    return "\n".join(lines)


def phases_table(results: dict) -> str:
    """Where each campaign's wall time went (from its campaign log; see runner.phases)."""
    lines = ["| N | start-up s | precheck + backup s | batches s (device time each: "
             f"{results['settings']['device_critical_path_s']:g}) | between batches s | tail s "
             "| controller CPU s (main process) | host-tasks per device |", "|---|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        p = r.get("phases") or {}
        if "batch_s" not in p:
            continue
        lines.append(f"| {r['n']} | {p['startup_s']} | {p['precheck_s']} | {', '.join(f'{b:g}' for b in p['batch_s'])} "
                     f"| {', '.join(f'{b:g}' for b in p['between_batches_s'])} | {p['tail_s']} "
                     f"| {r['cpu_s']:.0f} ({r.get('main_process_cpu_s', 0):.0f}) | {_num(r.get('host_tasks_per_device'), 'g')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    data = json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json").read_text())
    print(table(data))
    print()
    print(phases_table(data))
