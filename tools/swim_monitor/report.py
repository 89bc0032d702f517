"""``swim report <campaign dir>``: rebuild the HTML, CSV and JUnit XML report of a campaign directory.

The report code is the collection's own (plugins/module_utils/campaign_report, also run by the module
escalator.swim.campaign_report at the end of every campaign): this command finds the installed collection
the way ansible-playbook does (ANSIBLE_COLLECTIONS_PATH / collections_path), or this checkout.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def _collection_roots() -> list[str]:
    roots = []
    try:
        from ansible import constants        # the collections_path of the ansible.cfg in effect
        roots += [os.path.expanduser(path) for path in constants.COLLECTIONS_PATHS]
    except Exception:  # noqa: BLE001 -- no ansible-core here: only this checkout is tried
        pass
    roots.append(str(CHECKOUT / ".collections"))
    return roots


def report_module():
    """The collection's campaign_report.write module (imported from the first collection root that has it)."""
    for root in _collection_roots():
        if (Path(root) / "ansible_collections" / "escalator" / "swim" / "plugins").is_dir():
            if root not in sys.path:
                sys.path.insert(0, root)
            break
    from ansible_collections.escalator.swim.plugins.module_utils.campaign_report import write
    return write


def add_parser(commands) -> None:
    report = commands.add_parser(
        "report", help="write the HTML, CSV and JUnit XML report of a campaign directory",
        description="Read a campaign directory (status/*.json, campaign.log, snapshots/, campaign.json) and write "
                    "report.html (self-contained: open it in any browser, offline), report.csv and "
                    "report.junit.xml into it, or into --dest.")
    report.add_argument("campaign_dir", help="the campaign directory, e.g. ~/.swim/campaigns/<campaign id>")
    report.add_argument("--dest", help="directory to write the reports into (default: the campaign directory)")
    report.add_argument("--format", action="append", dest="formats", choices=["html", "csv", "junit"],
                        help="only this format; repeatable (default: all three)")
    report.add_argument("--screenshot", metavar="PNG",
                        help="also take a PNG screenshot of report.html with headless Chromium (Debian package chromium)")
    report.add_argument("--size", default="1280x1800", help="screenshot size WIDTHxHEIGHT (default 1280x1800)")


def main(args) -> int:
    try:
        write = report_module()
    except ImportError as exc:
        print(f"swim report: the escalator.swim collection is not installed where ansible finds it: {exc}",
              file=sys.stderr)
        return 2
    directory = os.path.abspath(os.path.expanduser(args.campaign_dir))
    try:
        written = write.write_reports(directory, formats=args.formats or list(write.FORMATS),
                                      dest=os.path.abspath(args.dest) if args.dest else None)
    except (ValueError, OSError) as exc:
        print(f"swim report: {exc}", file=sys.stderr)
        return 1
    report = written["report"]
    counts = ", ".join(f"{count} {outcome}" for outcome, count in report["counts"].items() if count)
    print(f"campaign {report['campaign'].get('id', '?')}: {report['outcome']} ({counts})")
    for name, path in written["files"].items():
        print(f"  {name:5} {path}")
    if args.screenshot:
        return _screenshot(written["files"].get("html"), args.screenshot, args.size)
    return 0


def _screenshot(html: str | None, png: str, size: str) -> int:
    from .browser import BrowserError, screenshot
    if not html:
        print("swim report: --screenshot needs the html format", file=sys.stderr)
        return 2
    try:
        width, height = (int(part) for part in size.lower().split("x"))
        print(f"  png   {screenshot(html, png, width, height)}")
    except ValueError:
        print(f"swim report: --size {size!r}: expected WIDTHxHEIGHT, e.g. 1280x1800", file=sys.stderr)
        return 2
    except BrowserError as exc:
        print(f"swim report: {exc}", file=sys.stderr)
        return 1
    return 0
