"""``swim``: operator commands of escalator.swim: ``swim monitor`` and ``swim report``.

    swim monitor [--bootstrap-servers HOST:PORT] [--topic T]... [--campaign ID]
                 [--once] [--timeout S] [--idle S] [--json] [--interval S]
    swim monitor --dir <campaign dir> [--once] [--timeout S] [--json] [--interval S]
    swim report <campaign dir> [--dest DIR] [--format html|csv|junit]... [--screenshot PNG] [--size WxH]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import report
from .consume import TopicReader, read_available
from .directory import read_directory
from .render import table
from .state import FleetState

DEFAULT_TOPICS = ["swim.events", "swim.image-status"]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="swim", description="Operator commands of the escalator.swim collection.")
    commands = top.add_subparsers(dest="command", required=True)
    monitor = commands.add_parser(
        "monitor", help="live status table of every device, from the Kafka event topics",
        description="Read the escalator.swim event topics from the beginning (no consumer group) and show "
                    "one row per device: stage, state, progress and last error.")
    monitor.add_argument("--bootstrap-servers", "-b", default=os.environ.get("SWIM_KAFKA_BOOTSTRAP_SERVERS"),
                         help="Kafka bootstrap servers, comma separated (default: $SWIM_KAFKA_BOOTSTRAP_SERVERS)")
    monitor.add_argument("--topic", "-t", action="append", dest="topics",
                         help=f"topic to read; repeatable (default: {' and '.join(DEFAULT_TOPICS)})")
    monitor.add_argument("--campaign", "-c", help="only events of this campaign id")
    monitor.add_argument("--dir", "-d", dest="directory",
                         help="follow this campaign directory (status rows, no Kafka) instead of the event topics")
    monitor.add_argument("--once", action="store_true",
                         help="read what is on the topics, print the table once and exit")
    monitor.add_argument("--timeout", type=float, default=None,
                         help="seconds before giving up: with --once default 30; live mode runs until "
                              "interrupted unless given")
    monitor.add_argument("--idle", type=float, default=1.0,
                         help="with --once: seconds without new events that mean 'caught up' (default 1)")
    monitor.add_argument("--json", action="store_true",
                         help="print the table as JSON (live mode: one JSON document per line on each change)")
    monitor.add_argument("--interval", type=float, default=1.0, help="live mode: seconds between redraws")
    report.add_parser(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "report":
        return report.main(args)
    if args.directory:
        return follow_directory(args)
    if not args.bootstrap_servers:
        print("swim monitor: no Kafka bootstrap servers (--bootstrap-servers or SWIM_KAFKA_BOOTSTRAP_SERVERS)",
              file=sys.stderr)
        return 2
    state = FleetState(campaign=args.campaign)
    try:
        reader = TopicReader(args.bootstrap_servers, args.topics or DEFAULT_TOPICS)
    except Exception as exc:  # kafka-python raises NoBrokersAvailable / KafkaTimeoutError
        print(f"swim monitor: cannot reach Kafka at {args.bootstrap_servers}: {exc}", file=sys.stderr)
        return 1
    try:
        if args.once:
            read_available(reader, state.apply, timeout=args.timeout or 30.0, idle=args.idle)
            show(state, args.json, final=True)
        else:
            live(reader, state, args)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # `swim monitor ... | head`: the reader went away, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        reader.close()
    return 0


def follow_directory(args) -> int:
    """``--dir``: read the campaign directory (once, or every --interval seconds until --timeout or Ctrl-C)."""
    deadline = time.monotonic() + args.timeout if args.timeout else None
    tty = sys.stdout.isatty() and not args.json
    last = None
    try:
        while True:
            try:
                state = read_directory(os.path.expanduser(args.directory))
            except ValueError as exc:
                print(f"swim monitor: {exc}", file=sys.stderr)
                return 2
            if args.once:
                show(state, args.json, final=True)
                return 0
            snapshot = state.snapshot()
            if snapshot != last:
                show(state, args.json, redraw=tty)
                last = snapshot
            if deadline is not None and time.monotonic() >= deadline:
                return 0
            time.sleep(max(args.interval, 0.2))
    except KeyboardInterrupt:
        return 0


def show(state: FleetState, as_json: bool, final: bool = False, redraw: bool = False) -> None:
    if as_json:
        print(json.dumps(state.snapshot(), indent=2 if final else None, sort_keys=True), flush=True)
        return
    if redraw:
        sys.stdout.write("\x1b[H\x1b[2J")  # home + clear: redraw in place on a terminal
    print(table(state), flush=True)
    if not final and not redraw:
        print(flush=True)


def live(reader: TopicReader, state: FleetState, args) -> None:
    deadline = time.monotonic() + args.timeout if args.timeout else None
    tty = sys.stdout.isatty() and not args.json
    refreshed = drawn = 0.0
    changed = True
    while deadline is None or time.monotonic() < deadline:
        now = time.monotonic()
        if now - refreshed >= 2.0:
            refreshed = now
            reader.refresh()
        for event in reader.poll(0.2):
            changed |= state.apply(event)
        if changed and time.monotonic() - drawn >= args.interval:
            show(state, args.json, redraw=tty)
            drawn, changed = time.monotonic(), False


if __name__ == "__main__":
    sys.exit(main())
