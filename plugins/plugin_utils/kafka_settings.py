# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Kafka settings, resolved once for the kafka_events callback and the device modules' image-status events.

PRIVATE to the collection. One list of settings, one precedence (docs/kafka.md "Configuring Kafka once"):

1. the variable ``swim_kafka_<name>`` (the device modules: any variable of the host; the callback: extra vars,
   then the first play's vars; keep the SASL password in a vault or, better, in the environment);
2. the environment: ``SWIM_KAFKA_<NAME>``, then ``ANSIBLE_KAFKA_EVENTS_<NAME>``;
3. ``ansible.cfg`` ``[callback_kafka_events] <name>`` (the callback's ini option: the callback exports what it
   resolved to the environment of the worker processes, so the device modules see it too);
4. the default.

So one AWX credential (environment variables) or one ``-e swim_kafka_bootstrap_servers=...`` configures both.
"""

from __future__ import annotations

import os
import typing as t

# name: (default, type). The topic differs per producer: the callback's and the modules' defaults.
SETTINGS = {
    "bootstrap_servers": (None, str), "client_id": (None, str), "acks": (None, str),
    "security_protocol": (None, str), "ssl_cafile": (None, str), "ssl_certfile": (None, str),
    "ssl_keyfile": (None, str), "sasl_mechanism": (None, str), "sasl_plain_username": (None, str),
    "sasl_plain_password": (None, str), "timeout": (5.0, float), "spool_dir": ("~/.ansible/swim-kafka-spool", str),
    "spool_max_mb": (64, int),
}
VARIABLE = "swim_kafka_{}"
ENVIRONMENT = ("SWIM_KAFKA_{}", "ANSIBLE_KAFKA_EVENTS_{}")


def _set(value) -> bool:
    return value not in (None, "", [])


def resolve(get_var: t.Callable[[str], t.Any] | None = None, get_ini: t.Callable[[str], t.Any] | None = None,
            environ: t.Mapping[str, str] | None = None) -> dict:
    """Every setting by the precedence above: ``{name: value}`` (None where nothing sets it).

    *get_var(name)* returns a variable's (templated) value or None; *get_ini(name)* the callback's ini
    value or None.
    """
    environ = os.environ if environ is None else environ
    settings = {}
    for name, (default, kind) in SETTINGS.items():
        value = get_var(VARIABLE.format(name)) if get_var is not None else None
        if not _set(value):
            value = next((environ[key.format(name.upper())] for key in ENVIRONMENT
                          if _set(environ.get(key.format(name.upper())))), None)
        if not _set(value) and get_ini is not None:
            value = get_ini(name)
        if not _set(value):
            value = default
        if isinstance(value, (list, tuple)):
            value = ",".join(str(item) for item in value)
        if value is not None and kind is not str:
            try:
                value = kind(value)
            except (TypeError, ValueError):
                value = default
        settings[name] = value
    return settings


def export(settings: dict, environ: t.MutableMapping[str, str] | None = None) -> None:
    """Put *settings* into the environment (``SWIM_KAFKA_<NAME>``) of the worker processes forked later, so the
    device modules resolve what the callback resolved (its ini options and extra vars included)."""
    environ = os.environ if environ is None else environ
    for name, value in settings.items():
        if _set(value) and name in SETTINGS:
            environ[ENVIRONMENT[0].format(name.upper())] = str(value)


def producer_settings(settings: dict) -> dict:
    """What KafkaSender takes, from resolved *settings* ({} when no bootstrap servers are set)."""
    servers = settings.get("bootstrap_servers")
    if not servers:
        return {}
    timeout = float(settings.get("timeout") or 5.0)
    producer = {"bootstrap_servers": servers, "request_timeout": timeout, "connect_timeout": min(1.0, timeout)}
    for key in ("client_id", "acks", "security_protocol", "ssl_cafile", "ssl_certfile", "ssl_keyfile",
                "sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        if _set(settings.get(key)):
            producer[key] = settings[key]
    return producer
