"""Where the controller's CPU went, from the dumps of :mod:`swim_bench.profiled_playbook`.

Each component is the cumulative CPU (cProfile ``cumtime``) of the function(s) that do that work; when
several functions match, the largest is taken (they nest: ``Task.post_validate`` calls
``FieldAttributeBase.post_validate``), so a component is never counted twice. Components nest in the
table the way they nest in the code (indented rows are part of the row above), and the last row of
each part is what the named components leave unexplained.

``python -m swim_bench.cprofile_report DIR`` prints the tables of one dump directory.
"""
from __future__ import annotations

import json
import pstats
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Component:
    label: str
    functions: tuple[tuple[str, str], ...]     # (path fragment, function name)
    depth: int = 0


IMPORTS = Component("imports (importlib _find_and_load)", (("<frozen importlib._bootstrap>", "_find_and_load"),))

WORKER = (
    Component("TaskExecutor.run (everything of the host-task in the worker)", (("executor/task_executor.py", "run"),)),
    Component("task templating and post-validation (Task.post_validate)", (("ansible/playbook/", "post_validate"),), 1),
    Component("`when` conditionals", (("ansible/playbook/conditional.py", "evaluate_conditional"),
                                      ("_internal/_templating/_engine.py", "evaluate_conditional")), 1),
    Component("of the two above: Jinja template compilation (jinja2 Environment.compile)",
              (("jinja2/environment.py", "compile"),), 2),
    Component("of which loading the filter and test plugins a template names (Jinja2Loader)",
              (("ansible/plugins/loader.py", "_ensure_non_collection_wrappers"),), 3),
    Component("connection plugin set-up (_get_connection, options)", (("executor/task_executor.py", "_get_connection"),), 1),
    Component("connection options (_set_connection_options)", (("executor/task_executor.py", "_set_connection_options"),), 1),
    Component("action plugin loading (_get_action_handler)", (("executor/task_executor.py", "_get_action_handler"),), 1),
    Component("collection action plugin run (ControllerAction.run)", (("plugin_utils/controller_action.py", "run"),), 1),
    Component("argument validation (ArgumentSpecValidator.validate)", (("module_utils/common/arg_spec.py", "validate"),), 2),
    Component("connection to the device (DmiDevice / NETCONF session set-up)",
              (("module_utils/dmi.py", "__init__"), ("module_utils/netconf.py", "__init__")), 2),
    Component("DMI uuid resolution (device_uuid)", (("module_utils/dmi.py", "device_uuid"),), 2),
    Component("status-table writes (campaign_record.record)", (("module_utils/campaign_record.py", "record"),), 2),
    Component("Kafka status publisher set-up and close", (("plugin_utils/events.py", "status_publisher"),
                                                         ("plugin_utils/events.py", "close")), 2),
    Component("the operation (device RPCs, waits, result building: ops execute)",
              (("module_utils/ops/common.py", "execute"),), 2),
    Component("sending the result to the main process (send_task_result, pickling)",
              (("executor/task_queue_manager.py", "send_task_result"),)),
    IMPORTS,
)

MAIN = (
    Component("playbook parsing (Playbook.load)", (("ansible/playbook/__init__.py", "load"),)),
    Component("strategy run (StrategyModule.run)", (("plugins/strategy/linear.py", "run"),)),
    Component("host variables per host-task (VariableManager.get_vars)", (("vars/manager.py", "get_vars"),), 1),
    Component("queueing and forking workers (_queue_task)", (("plugins/strategy/__init__.py", "_queue_task"),), 1),
    Component("of which fork (WorkerProcess.start)", (("executor/process/worker.py", "start"),), 2),
    Component("result handling (_process_pending_results)", (("plugins/strategy/__init__.py", "_process_pending_results"),), 1),
    Component("callbacks (TaskQueueManager.send_callback)", (("executor/task_queue_manager.py", "send_callback"),), 2),
    Component("waiting loop (_wait_on_pending_results)", (("plugins/strategy/__init__.py", "_wait_on_pending_results"),), 1),
    IMPORTS,
)


def cumulative(stats: dict, component: Component) -> float:
    """The component's CPU in one profile: the largest cumtime among its matching functions."""
    best = 0.0
    for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.items():
        for fragment, function in component.functions:
            if name == function and fragment in path:
                best = max(best, ct)
    return best


def _stats(path: Path) -> dict:
    return pstats.Stats(str(path)).stats  # type: ignore[attr-defined]


def _total(stats: dict) -> float:
    return sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.values())


def worker_breakdown(dump_dir: Path) -> dict:
    """Per task action: workers, mean CPU per host-task (getrusage), and the components' means."""
    by_action: dict[str, dict] = {}
    for info_path in sorted(dump_dir.glob("worker-*.json")):
        prof = info_path.with_suffix(".prof")
        try:
            info = json.loads(info_path.read_text())
        except ValueError:
            continue    # a worker ended while writing (older dumps; profiled_playbook writes atomically now)
        if not prof.exists():
            continue
        stats = _stats(prof)
        entry = by_action.setdefault(info["action"], {"host_tasks": 0, "cpu_s": 0.0, "before_run_s": 0.0,
                                                      "profiled_s": 0.0, "result_bytes": 0,
                                                      "components": {c.label: 0.0 for c in WORKER}})
        entry["host_tasks"] += 1
        entry["cpu_s"] += info["cpu_s"]
        entry["before_run_s"] += info["cpu_before_run_s"]
        entry["profiled_s"] += _total(stats)
        entry["result_bytes"] += info.get("result_bytes", 0)
        for component in WORKER:
            entry["components"][component.label] += cumulative(stats, component)
    for entry in by_action.values():
        count = entry["host_tasks"]
        for key in ("cpu_s", "before_run_s", "profiled_s"):
            entry[key] = round(entry[key] / count, 4)
        entry["result_bytes"] = round(entry["result_bytes"] / count)
        entry["components"] = {label: round(value / count, 4) for label, value in entry["components"].items()}
    return by_action


def main_breakdown(dump_dir: Path) -> dict:
    stats = _stats(dump_dir / "main.prof")
    info = json.loads((dump_dir / "main.json").read_text())
    return {"cpu_s": info["cpu_s"], "profiled_s": round(_total(stats), 3),
            "components": {c.label: round(cumulative(stats, c), 3) for c in MAIN}}


def breakdown_of_work(dump_dir: Path) -> dict:
    workers = worker_breakdown(dump_dir)
    totals = {"host_tasks": sum(w["host_tasks"] for w in workers.values()),
              "cpu_s": round(sum(w["host_tasks"] * w["cpu_s"] for w in workers.values()), 3),
              "components": {c.label: round(sum(w["host_tasks"] * w["components"][c.label] for w in workers.values()), 3)
                             for c in WORKER}}
    return {"main": main_breakdown(dump_dir), "workers": workers, "worker_totals": totals}


def _label(component: Component) -> str:
    return "&nbsp;&nbsp;" * component.depth + ("- " if component.depth else "") + component.label


def markdown(breakdown: dict, row: dict | None = None) -> str:
    """The breakdown as two Markdown tables (main process; workers per action, CPU-s per host-task)."""
    main = breakdown["main"]
    head = f"N = {row['n']}: " if row else ""
    lines = [f"{head}ansible-playbook main process, CPU s (main thread; {main['cpu_s']:.2f} s of the process by getrusage):",
             "", "| component | CPU s |", "|---|---|"]
    lines += [f"| {_label(c)} | {main['components'][c.label]:.2f} |" for c in MAIN]
    lines += [f"| profiled main thread, all functions | {main['profiled_s']:.2f} |", ""]
    workers = breakdown["workers"]
    actions = sorted(workers, key=lambda a: -workers[a]["host_tasks"] * workers[a]["cpu_s"])
    lines += [f"{head}forked workers, CPU-s per host-task (mean over the host-tasks of each action):", "",
              "| component | " + " | ".join(f"`{a.rsplit('.', 1)[-1]}`" for a in actions) + " |",
              "|---|" + "---|" * len(actions)]

    def line(label: str, values) -> str:
        return f"| {label} | " + " | ".join(values) + " |"

    lines.append(line("host-tasks profiled", [str(workers[a]["host_tasks"]) for a in actions]))
    lines.append(line("**worker CPU since the fork (getrusage)**", [f"{workers[a]['cpu_s']:.3f}" for a in actions]))
    lines.append(line("before `_run` (fork faults, bootstrap, stdio detach)",
                      [f"{workers[a]['before_run_s']:.3f}" for a in actions]))
    lines.append(line("`_run` under cProfile, all functions", [f"{workers[a]['profiled_s']:.3f}" for a in actions]))
    for component in WORKER:
        lines.append(line(_label(component), [f"{workers[a]['components'][component.label]:.3f}" for a in actions]))
    lines.append(line("result size sent to the main process (pickled bytes)",
                      [str(workers[a]["result_bytes"]) for a in actions]))
    totals = breakdown.get("worker_totals")
    if totals and totals["cpu_s"]:
        lines += ["", f"{head}all {totals['host_tasks']} host-tasks together: {totals['cpu_s']:.2f} worker CPU s (getrusage), of which:",
                  "", "| component | CPU s | share of worker CPU |", "|---|---|---|"]
        lines += [f"| {_label(c)} | {totals['components'][c.label]:.2f} | {100 * totals['components'][c.label] / totals['cpu_s']:.0f}% |"
                  for c in WORKER]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(breakdown_of_work(Path(sys.argv[1]))))
