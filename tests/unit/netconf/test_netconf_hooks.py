"""Dialect hooks for models that install after the transfer and restart on request (O-RAN style)."""

from __future__ import annotations

from lxml import etree

from ansible_collections.escalator.swim.plugins.module_utils import netconf_dialects
from ansible_collections.escalator.swim.plugins.module_utils.device import Budget
from ansible_collections.escalator.swim.plugins.module_utils.netconf_dialects.bbf_software_management import (
    BbfSoftwareManagement,
)

import netconf_xml as X
from test_netconf_device import IMAGE, ScriptedDevice, drop, fast  # noqa: F401 -- fixture


class InstallAndReset(BbfSoftwareManagement):
    """bbf-swm plus a separate install step and a reset, to exercise the hooks with the bbf-swm XML."""
    NOTICE_PHASES = {**BbfSoftwareManagement.NOTICE_PHASES, "revision-installed": "installed"}

    def install_action(self, software, key):
        return etree.Element("{urn:example:swm}software-install")

    def restart_action(self, software, key):
        return etree.Element("{urn:example:ops}reset")


def test_install_step_after_the_transfer(monkeypatch):
    monkeypatch.setattr(netconf_dialects, "DIALECTS", (InstallAndReset,))
    manager = X.ScriptedManager([X.BEFORE, X.DOWNLOADED, X.DOWNLOADED], actions={"download": X.DOWNLOAD_OUTPUT},
                                notifications=[X.notification(1, "revision-downloaded"),
                                               X.notification(1, "revision-installed")])
    device = ScriptedDevice([manager])
    history = device.download(IMAGE, Budget(5), lambda e: None)
    assert [verb for verb, _ in manager.sent if verb != "get"] == ["download", "software-install"]
    assert "installing it" in history[1].description and "revision-installed" in history[2].description
    assert history[-1].state == "UPGRADE_COMPLETE"


def test_restart_requested_when_activate_does_not_restart(monkeypatch):
    # boot-next (committed) but not running: the device waits for a reset
    pending = X.state_reply(
        X.revision(0, "in-use", "1.0.0", active=True, last_committed="2026-01-01T00:00:00Z"),
        X.revision(1, "in-use", "2.0.0", committed=True, changed="2026-01-02T00:00:05Z"))
    before = X.ScriptedManager([X.BEFORE.replace("0.9.0", "2.0.0"), pending], on_action={"reset": drop})
    after = X.ScriptedManager([X.ACTIVE_COMMITTED])
    monkeypatch.setattr(netconf_dialects, "DIALECTS", (InstallAndReset,))
    device = ScriptedDevice([before, after])
    history = device.activate(Budget(10), lambda e: None)
    assert [verb for verb, _ in before.sent if verb != "get"] == ["activate", "reset"]
    assert any(e.description.startswith("restart requested") for e in history)
    assert history[-1].state == "ACTIVATION_COMPLETE"
