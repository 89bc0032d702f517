"""One precedence for the Kafka settings of the callback and the device modules (plugin_utils/kafka_settings.py):
variables, then SWIM_KAFKA_* / ANSIBLE_KAFKA_EVENTS_* environment, then the callback's ini options, then defaults."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.plugin_utils.events import bus_settings
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_settings import export, producer_settings, resolve


def test_variables_then_environment_then_ini_then_defaults():
    variables = {"swim_kafka_bootstrap_servers": "127.0.0.1:1", "swim_kafka_timeout": "2"}
    environ = {"SWIM_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:2", "SWIM_KAFKA_ACKS": "all",
               "ANSIBLE_KAFKA_EVENTS_CLIENT_ID": "from-ansible-env", "SWIM_KAFKA_SPOOL_MAX_MB": "not a number"}
    ini = {"bootstrap_servers": ["127.0.0.1:3", "127.0.0.1:4"], "acks": "1", "security_protocol": "SSL",
           "ssl_cafile": "/ca.pem"}
    settings = resolve(variables.get, ini.get, environ)
    assert settings["bootstrap_servers"] == "127.0.0.1:1" and settings["timeout"] == 2.0        # variables
    assert settings["acks"] == "all" and settings["client_id"] == "from-ansible-env"           # environment
    assert settings["security_protocol"] == "SSL" and settings["ssl_cafile"] == "/ca.pem"      # ini
    assert settings["spool_max_mb"] == 64 and settings["spool_dir"] == "~/.ansible/swim-kafka-spool"   # defaults
    assert resolve(None, ini.get, {})["bootstrap_servers"] == "127.0.0.1:3,127.0.0.1:4"
    assert resolve(None, None, {})["bootstrap_servers"] is None and producer_settings(resolve(None, None, {})) == {}


def test_what_the_callback_resolved_reaches_the_device_modules(monkeypatch):
    """The callback exports its settings (ini and extra vars included) to the workers' environment; a device
    task with no swim_kafka_* variable then publishes with the same servers and TLS settings."""
    for name in ("BOOTSTRAP_SERVERS", "SECURITY_PROTOCOL", "SSL_CAFILE", "SPOOL_DIR"):
        monkeypatch.delenv(f"SWIM_KAFKA_{name}", raising=False)
    environ: dict = {}
    export(resolve({"swim_kafka_bootstrap_servers": "127.0.0.1:5"}.get,
                   {"security_protocol": "SSL", "ssl_cafile": "/ca.pem", "spool_dir": "/spool"}.get, {}), environ)
    assert environ["SWIM_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:5" and environ["SWIM_KAFKA_SSL_CAFILE"] == "/ca.pem"
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    settings = bus_settings(lambda name: None)
    assert settings["bootstrap_servers"] == "127.0.0.1:5" and settings["security_protocol"] == "SSL"
    assert settings["ssl_cafile"] == "/ca.pem" and settings["spool_dir"] == "/spool"
    assert settings["client_id"] == "escalator.swim-status"
