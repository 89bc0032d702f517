"""The campaign report of a real demo-sized campaign, rendered by headless Chromium.

12 simulated DMI devices in three steps (one redundancy pair, one device whose activation sanity checks fail and
that falls back by itself), the real rolling_upgrade playbook; then Chromium loads the report.html the playbook
wrote: every device is on the page with the outcome of its status row, the page logs nothing on the console,
and a screenshot of it is not blank. `make test` installs Chromium (Debian package chromium) when it is
missing and it runs as root; otherwise this test is skipped saying so.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import yaml

from playbook_runner import run_playbook
from swim_monitor import browser

PAIR = ("olt-005", "olt-008")
FAILING = "olt-010"
CAMPAIGN = "browser-campaign"

needs_chromium = pytest.mark.skipif(
    browser.find_chromium() is None,
    reason="headless Chromium is not installed (Debian package chromium): `make test` installs it with apt-get "
           "when run as root; otherwise run `sudo apt-get install chromium`")


class DeviceRows(HTMLParser):
    """{device: outcome} of the rendered devices table (tr data-device / data-outcome), and the page's text."""

    def __init__(self):
        super().__init__()
        self.outcomes: dict = {}
        self.text: list = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr" and "device" in (attributes.get("class") or "").split():
            self.outcomes[attributes["data-device"]] = attributes["data-outcome"]

    def handle_data(self, data):
        self.text.append(data)


def demo_plan(image) -> dict:
    return {"campaign": {
        "id": CAMPAIGN, "description": "browser test campaign",
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}},
        "groups": [{"name": "lab", "group": "lab", "batch": {"size": 2}},
                   {"name": "north", "group": "north", "depends_on": ["lab"], "canary": 1, "batch": {"size": "50%"}},
                   {"name": "south", "group": "south", "depends_on": ["north"], "batch": {"size": "50%"}}],
        "redundancy_groups": [{"name": "olt-pairs", "var": "swim_redundancy_pair"}],
        "timeouts": {"precheck": 30, "backup": 30, "download": 60, "activate": 60, "revert": 60, "postcheck": 30},
        "verification": {"sensor_tolerance": {"temperature*": 10}},
        "recovery": {"policy": "revert_device", "failure_threshold": "50%"},
    }}


@pytest.fixture(scope="module")
def demo_campaign(sim_fleet_module, tmp_path_factory):
    """The campaign directory of a finished 12-device campaign run by the real rolling_upgrade playbook."""
    from swim_sim.images import ImageServer
    work = tmp_path_factory.mktemp("report-browser")
    with ImageServer(work / "images") as images:
        image = images.make_image("swim-olt", "2.0.0", size=256 * 1024)
        fleet = sim_fleet_module(12, groups=["lab", "north", "south"],
                                 faults={"devices": {FAILING: {"faults": ["activation_sanity_failure"]}}},
                                 timings={"reboot_time": 0.5, "install_time": 0.2, "sanity_time": 0.2})
        inventory = yaml.safe_load(fleet.inventory.read_text())
        for group in inventory["all"]["children"]["swim_fleet"]["children"].values():
            for name, host in group["hosts"].items():
                if name in PAIR:
                    host["swim_redundancy_pair"] = "pair-1"
        fleet.inventory.write_text(yaml.safe_dump(inventory))
        plan = work / "plan.yml"
        plan.write_text(yaml.safe_dump(demo_plan(image)))
        run = run_playbook("escalator.swim.rolling_upgrade", fleet.inventory, env={"SWIM_STATE_DIR": str(work / "state")},
                           extra_vars={"swim_plan": str(plan), "swim_auto_approve": True}, timeout=900)
    assert run.returncode == 2, run.stdout[-4000:] + run.stderr[-2000:]       # partially failed: olt-010
    return work / "state" / "campaigns" / CAMPAIGN, run


def test_campaign_output_is_readable(demo_campaign):
    """The play output of the same campaign: batches one per line, the failed device's useful reason in the
    status table, no host-pattern warning for the rollback play that had nothing to revert."""
    _directory, run = demo_campaign
    output = run.stdout + run.stderr
    assert "Could not match supplied host pattern" not in output
    assert re.search(r'"batch 0 lab: olt-001, olt-004"', run.stdout) and '"batch 2 north (canary): ' in run.stdout
    assert re.search(rf"{FAILING}\s+1\s+ok\s+ok\s+ok\s+failed.*activate: INVALID_IMAGE, fell back to swim-olt 1\.0\.0",
                     run.stdout), run.stdout[-3000:]
    assert f"{CAMPAIGN}/report.html" in run.stdout         # the final message says where the report is


@needs_chromium
def test_report_renders_every_device_with_its_outcome(demo_campaign):
    demo_campaign, _run = demo_campaign
    rows = {p.stem: json.loads(p.read_text())["outcome"] for p in (demo_campaign / "status").glob("*.json")}
    assert len(rows) == 12 and rows[FAILING] == "failed"
    page = browser.load(demo_campaign / "report.html")
    assert page.console == [], f"console messages: {page.console}"
    parsed = DeviceRows()
    parsed.feed(page.dom)
    assert parsed.outcomes == rows
    text = re.sub(r"\s+", " ", "".join(parsed.text))
    assert "fell back to swim-olt 1.0.0" in text        # the failed device's full reason
    assert "partially failed" in text and f"Campaign {CAMPAIGN}" in text
    assert "olt-pairs (swim_redundancy_pair=pair-1)" in text and "never down together" in text
    assert page.dom.count('class="lane"') == 12          # one timeline lane per device
    assert (demo_campaign / "report.csv").read_text().count("\n") == 13
    assert "<testsuites" in (demo_campaign / "report.junit.xml").read_text()


@needs_chromium
def test_screenshot_of_the_report_is_not_blank(demo_campaign, tmp_path):
    demo_campaign, _run = demo_campaign
    from PIL import Image
    png = browser.screenshot(demo_campaign / "report.html", tmp_path / "report.png", 1280, 1400)
    with Image.open(png) as picture:
        assert picture.size == (1280, 1400)
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "the screenshot is (nearly) one colour"
    # The failed device's red and the upgraded devices' green are on it.
    assert any(r > 180 and g < 80 and b < 80 for _count, (r, g, b) in colours)
    assert any(g > 130 and r < 60 and b < 110 for _count, (r, g, b) in colours)


@needs_chromium
def test_console_messages_are_caught(tmp_path):
    """The console check itself: a page that logs an error is seen to do so."""
    page = tmp_path / "noisy.html"
    page.write_text('<!DOCTYPE html><html><body><script>console.error("report broken")</script></body></html>')
    assert browser.load(page).console == ["report broken"]
