"""Option resolution of the connection plugins escalator.swim.dmi and escalator.swim.netconf (issue 15).

The plugins are loaded through ansible-core's own connection loader and their options set the way
TaskExecutor._set_connection_options sets them (the variables the plugin declares, the task keywords),
so what is tested is the DOCUMENTATION's vars/env/ini/keyword entries as Ansible reads them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader

from ansible_collections.escalator.swim.plugins.plugin_utils import legacy_connection
from ansible_collections.escalator.swim.plugins.plugin_utils._connection_base import DeviceConnection

ROOT = Path(__file__).resolve().parents[2]


def connection(name: str, variables: dict, keywords: dict | None = None) -> DeviceConnection:
    plugin = connection_loader.get(name, PlayContext())
    names = C.config.get_plugin_vars("connection", plugin._load_name)
    plugin.set_options(task_keys={"timeout": 10, **(keywords or {})},
                       var_options={key: value for key, value in variables.items() if key in names})
    return plugin


def params(name: str, variables: dict, keywords: dict | None = None, fallback: str = "olt-001") -> dict:
    return connection(name, {"inventory_hostname": fallback, **variables}, keywords).device_params(fallback)


def test_netconf_from_standard_variables_only():
    got = params("escalator.swim.netconf", {
        "ansible_host": "127.0.0.1", "ansible_port": 2830, "ansible_user": "admin", "ansible_password": "pw",
        "ansible_private_key_file": "/keys/olt", "ansible_host_key_checking": False})
    assert got == {"transport": "netconf", "host": "127.0.0.1", "port": 2830, "device_name": "olt-001",
                   "connect_timeout": 10.0, "rpc_timeout": 30.0, "username": "admin", "password": "pw",
                   "ssh_key_file": "/keys/olt", "host_key_checking": False, "known_hosts_file": None,
                   "ssh_config": None, "proxy_jump": None, "netconf_component": None, "netconf_software": None,
                   "netconf_commit": True}


def test_netconf_defaults_port_830_and_host_key_checking_on():
    got = params("escalator.swim.netconf", {})
    assert got["host"] == "olt-001" and got["port"] == 830 and got["host_key_checking"] is True
    assert got["device_name"] == "olt-001"


@pytest.mark.parametrize("variable", ["ansible_ssh_pass", "ansible_ssh_password", "swim_password"])
def test_every_password_variable(variable):
    assert params("escalator.swim.netconf", {variable: "s3cret"})["password"] == "s3cret"


def test_host_key_checking_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANSIBLE_HOST_KEY_CHECKING", "False")
    assert params("escalator.swim.netconf", {})["host_key_checking"] is False
    # a variable still wins over the environment
    assert params("escalator.swim.netconf", {"ansible_host_key_checking": True})["host_key_checking"] is True


def test_old_swim_variables_keep_working_and_win_over_the_standard_ones():
    old = {"swim_host": "10.0.0.9", "swim_port": 1830, "swim_username": "u", "swim_ssh_key_file": "/k",
           "swim_host_key_checking": False, "swim_known_hosts_file": "/kh", "swim_device_name": "box",
           "swim_connect_timeout": 3, "swim_rpc_timeout": 7, "swim_netconf_component": "Chassis",
           "swim_netconf_software": "app", "swim_netconf_commit": False, "swim_proxy_jump": "j@127.0.0.1:22",
           "swim_ssh_config": "/etc/swim/ssh_config"}
    got = params("escalator.swim.netconf", {**old, "ansible_host": "127.0.0.1", "ansible_port": 830,
                                            "ansible_user": "standard"})
    assert got == {"transport": "netconf", "host": "10.0.0.9", "port": 1830, "device_name": "box",
                   "connect_timeout": 3.0, "rpc_timeout": 7.0, "username": "u", "password": None,
                   "ssh_key_file": "/k", "host_key_checking": False, "known_hosts_file": "/kh",
                   "ssh_config": "/etc/swim/ssh_config", "proxy_jump": "j@127.0.0.1:22",
                   "netconf_component": "Chassis", "netconf_software": "app", "netconf_commit": False}


def test_play_keywords_port_remote_user_and_timeout():
    got = params("escalator.swim.netconf", {}, keywords={"port": 4830, "remote_user": "kw", "timeout": 25})
    assert (got["port"], got["username"], got["connect_timeout"]) == (4830, "kw", 25.0)
    # variables win over keywords, as for every Ansible connection
    got = params("escalator.swim.netconf", {"ansible_port": 5830, "swim_connect_timeout": 2}, keywords={"port": 4830})
    assert (got["port"], got["connect_timeout"]) == (5830, 2.0)


def test_dmi_from_standard_variables_and_its_own_options():
    got = params("escalator.swim.dmi", {"ansible_host": "dm1", "ansible_port": 50052, "swim_device_uuid": "u-1",
                                        "swim_tls": True, "swim_ca_cert": "/ca.pem", "swim_tls_server_name": "dm"})
    assert got == {"transport": "dmi", "host": "dm1", "port": 50052, "device_name": "olt-001",
                   "connect_timeout": 10.0, "rpc_timeout": 30.0, "device_uuid": "u-1", "device_uri": None,
                   "tls": True, "ca_cert": "/ca.pem", "client_cert": None, "client_key": None,
                   "tls_server_name": "dm"}
    assert params("escalator.swim.dmi", {})["port"] == 50051


def test_transport_settings_belong_to_their_plugin_only():
    dmi_vars = set(C.config.get_plugin_vars("connection", connection("escalator.swim.dmi", {})._load_name))
    netconf_vars = set(C.config.get_plugin_vars("connection", connection("escalator.swim.netconf", {})._load_name))
    assert {"swim_tls", "swim_ca_cert", "swim_device_uuid"} <= dmi_vars - netconf_vars
    assert {"ansible_user", "ansible_password", "ansible_private_key_file", "ansible_host_key_checking",
            "swim_known_hosts_file", "swim_proxy_jump", "swim_ssh_config", "swim_netconf_commit"} <= netconf_vars - dmi_vars
    assert {"ansible_host", "ansible_port", "swim_device_name", "swim_connect_timeout"} <= dmi_vars & netconf_vars


def test_a_bad_value_is_refused_by_ansible_naming_the_option():
    with pytest.raises(Exception) as info:
        params("escalator.swim.netconf", {"ansible_port": "eight-thirty"})
    assert "port" in str(info.value)


@pytest.mark.parametrize("call", [lambda c: c.exec_command("id"), lambda c: c.put_file("/a", "/b"),
                                  lambda c: c.fetch_file("/a", "/b")])
def test_no_command_channel(call):
    plugin = connection("escalator.swim.dmi", {})
    with pytest.raises(AnsibleConnectionFailure) as info:
        call(plugin)
    assert "only drives the escalator.swim device modules" in str(info.value)
    assert "delegate_to: localhost" in str(info.value)


class _Display:
    def __init__(self):
        self.deprecations = []

    def deprecated(self, msg, **kwargs):
        self.deprecations.append((msg, kwargs))


def _action(task_vars: dict, connection_object=None):
    loader = DataLoader()
    templar = Templar(loader=loader, variables=task_vars)
    return SimpleNamespace(
        _connection=connection_object or connection_loader.get("local", PlayContext()),
        _play_context=PlayContext(), _templar=templar, _display=_Display(),
        _var=lambda variables, name: variables.get(name) if variables.get(name) not in (None, "") else None)


def test_old_style_inventory_uses_the_plugin_swim_transport_names_with_a_deprecation():
    task_vars = {"inventory_hostname": "olt-7", "ansible_connection": "local", "swim_transport": "netconf",
                 "ansible_host": "127.0.0.1", "swim_port": 1830, "swim_username": "u", "swim_password": "p"}
    action = _action(task_vars)
    plugin = legacy_connection.device_connection(action, task_vars)
    assert plugin.transport == "escalator.swim.netconf"
    got = plugin.device_params("olt-7")
    assert (got["host"], got["port"], got["username"], got["password"], got["device_name"]) == (
        "127.0.0.1", 1830, "u", "p", "olt-7")
    [(msg, kwargs)] = action._display.deprecations
    assert "ansible_connection=local with swim_transport are deprecated" in msg
    assert "escalator.swim.dmi or escalator.swim.netconf" in msg
    assert kwargs == {"version": "1.0.0", "collection_name": "escalator.swim"}


def test_old_style_default_transport_is_dmi_and_an_unknown_one_is_refused():
    assert legacy_connection.device_connection(_action({}), {}).transport == "escalator.swim.dmi"
    with pytest.raises(legacy_connection.LegacyConnectionError) as info:
        legacy_connection.device_connection(_action({}), {"swim_transport": "snmp"})
    assert "unknown swim_transport 'snmp'" in str(info.value)


def test_the_task_connection_is_used_as_is_without_deprecation():
    plugin = connection("escalator.swim.netconf", {"ansible_port": 2222})
    action = _action({}, connection_object=plugin)
    assert legacy_connection.device_connection(action, {"swim_transport": "dmi"}) is plugin
    assert action._display.deprecations == []


@pytest.mark.parametrize("name", ["escalator.swim.dmi", "escalator.swim.netconf"])
def test_ansible_doc_documents_the_connection(name):
    doc = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-t", "connection", name],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert doc.returncode == 0, doc.stderr
    assert "ansible_port" in doc.stdout and "swim_port" in doc.stdout and "ansible_host" in doc.stdout


def test_an_empty_variable_is_not_set_and_files_expand_the_home_directory(monkeypatch):
    monkeypatch.setenv("HOME", "/home/ops")
    got = params("escalator.swim.dmi", {"swim_client_cert": "", "swim_client_key": "", "swim_ca_cert": "~/ca.pem"})
    assert (got["client_cert"], got["client_key"], got["ca_cert"]) == (None, None, "/home/ops/ca.pem")
    got = params("escalator.swim.netconf", {"ansible_private_key_file": "~/.ssh/olt", "swim_known_hosts_file": ""})
    assert (got["ssh_key_file"], got["known_hosts_file"]) == ("/home/ops/.ssh/olt", None)
