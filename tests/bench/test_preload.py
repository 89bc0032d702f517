"""The device action plugins import the transports when Ansible loads them in its main process, so forked
workers inherit grpc and the DMI stubs instead of importing them per host-task (docs/performance.md)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
sys.path.insert(0, {collections!r})
import ansible.plugins.action  # what ansible-playbook has loaded before any action plugin
assert "grpc" not in sys.modules
from ansible_collections.escalator.swim.plugins.action import sw_version  # what the strategy does
print("grpc" in sys.modules, "ansible_collections.escalator.swim.plugins.module_utils.dmi" in sys.modules)
"""


def test_loading_a_device_action_plugin_preloads_the_dmi_transport():
    proc = subprocess.run([sys.executable, "-c", PROBE.format(collections=str(ROOT / ".collections"))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True"]


CONNECTION_PROBE = """
from ansible import constants as C
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([{collections!r}])     # as ansible-playbook has, before any task
from ansible_collections.escalator.swim.plugins.action import sw_version  # what the strategy does
# (checked without loading them again; the names are the ones a worker's TaskExecutor looks up)
print(all(C.config.has_configuration_definition("connection", "ansible_collections.escalator.swim.plugins.connection." + t)
          for t in ("dmi", "netconf")))
"""


def test_loading_a_device_action_plugin_preloads_the_connection_plugins_option_definitions():
    """(issue 15) Their DOCUMENTATION is parsed once in the main process, not in every host-task's worker."""
    proc = subprocess.run([sys.executable, "-c", CONNECTION_PROBE.format(collections=str(ROOT / ".collections"))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True"]


JINJA_PROBE = """
import sys
sys.path.insert(0, {collections!r})
from ansible.plugins.loader import filter_loader, test_loader, init_plugin_loader
init_plugin_loader()
print(bool(filter_loader._cached_non_collection_wrappers), bool(test_loader._cached_non_collection_wrappers))
from ansible_collections.escalator.swim.plugins.action import {plugin}  # what the strategy does
print(bool(filter_loader._cached_non_collection_wrappers), bool(test_loader._cached_non_collection_wrappers))
print(filter_loader.get("ansible.builtin.to_json") is not None, test_loader.get("ansible.builtin.version") is not None)
"""


def test_loading_a_collection_action_plugin_preloads_the_jinja_filter_and_test_plugins():
    # The loaders' per-process cache is filled before the strategy forks a worker (forks inherit it).
    for plugin in ("campaign_status", "snapshot"):
        proc = subprocess.run([sys.executable, "-c", JINJA_PROBE.format(collections=str(ROOT / ".collections"),
                                                                        plugin=plugin)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["False", "False", "True", "True", "True", "True"], proc.stdout
