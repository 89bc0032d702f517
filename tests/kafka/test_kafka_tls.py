"""The Kafka TLS settings against a real broker: Tansu behind a TLS-terminating loopback proxy
(tls_proxy.py; Tansu advertises the proxy, so every client connection is TLS).

A real ansible-playbook runs download_image on a one-device simulator fleet with the callback on,
``security_protocol=SSL`` + a CA file for both the callback (SWIM_KAFKA_* environment) and the
module's image-status publisher (swim_kafka_* variables). With the right CA every event arrives over
TLS; with a CA that does not sign the broker's certificate the playbook still succeeds and warns once.
"""
from __future__ import annotations

import json
import time

from swim_sim.tls import make_ca, make_test_pki
from tls_proxy import TlsTansu

from kafka_testing import callback_env, read_messages, run, unique, validator

RATE = 1024 * 1024  # bytes/s
SIZE = 256 * 1024


def tls_run(fleet, image, broker: TlsTansu, cafile, spool, events_topic: str, status_topic: str):
    extra = {"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256},
             "swim_kafka_bootstrap_servers": broker.bootstrap, "swim_kafka_topic": status_topic,
             "swim_kafka_security_protocol": "SSL", "swim_kafka_ssl_cafile": str(cafile),
             "swim_campaign_id": unique("tls"), "force": True}
    env = callback_env(broker.bootstrap, events_topic, spool, SWIM_KAFKA_SECURITY_PROTOCOL="SSL",
                       SWIM_KAFKA_SSL_CAFILE=str(cafile))
    return run("download.yml", fleet.inventory, extra_vars=extra, env=env, timeout=90)


def test_events_and_image_status_over_tls_and_a_wrong_ca_only_warns(sim_fleet, image_server, tmp_path):
    pki = make_test_pki(tmp_path / "pki")
    wrong_ca, _ = make_ca(tmp_path / "other", "other-ca")
    fleet = sim_fleet(1, timings={"download_rate": RATE})
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    device = fleet.devices[0]["name"]
    check = validator()

    with TlsTansu(tmp_path / "tansu.log", pki) as broker:
        # 1. The right CA: the callback's events and the module's image-status reports arrive over TLS.
        events_topic, status_topic = unique("swim.events.tls"), unique("swim.status.tls")
        result = tls_run(fleet, image, broker, pki["ca_cert"], tmp_path / "spool-ok", events_topic, status_topic)
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "failed=0" in result.stdout, output[-4000:]
        assert "[WARNING]" not in output, [line for line in output.splitlines() if "[WARNING]" in line]

        events = read_messages(broker.bootstrap, [events_topic], until=lambda ms: any(
            m.value["event"] == "playbook_end" for m in ms), **broker.client_options)
        kinds = [m.value["event"] for m in events]
        assert {"playbook_start", "play_start", "task_start", "host_result", "playbook_end"} <= set(kinds), kinds
        seqs = sorted({m.value["seq"] for m in events})
        assert seqs == list(range(1, len(seqs) + 1)), "every callback event of the run, none missing"
        result_event = next(m.value for m in events if m.value["event"] == "host_result")
        assert (result_event["host"], result_event["result"]["status"]) == (device, "changed"), result_event
        statuses = read_messages(broker.bootstrap, [status_topic], until=lambda ms: any(
            m.value["image_status"]["state"] == "UPGRADE_COMPLETE" for m in ms), **broker.client_options)
        states = [m.value["image_status"]["state"] for m in sorted(statuses, key=lambda m: m.offset)]
        assert states and states[-1] == "UPGRADE_COMPLETE" and {m.key for m in statuses} == {device}, states
        assert not [list(check.iter_errors(m.value)) for m in events + statuses if list(check.iter_errors(m.value))]
        assert broker.proxy.connections >= 3, "the playbook's producers and this reader connected through TLS"
        assert not [p for p in (tmp_path / "spool-ok").glob("*.jsonl") if p.read_text().strip()], "nothing held back"

        # 2. A CA that did not sign the broker's certificate: the playbook is not affected, one warning.
        bad_events, bad_status = unique("swim.events.badca"), unique("swim.status.badca")
        started = time.monotonic()
        result = tls_run(fleet, image, broker, wrong_ca, tmp_path / "spool-bad", bad_events, bad_status)
        wall = time.monotonic() - started
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "failed=0" in result.stdout, output[-4000:]
        warnings = [line for line in output.splitlines() if "[WARNING]" in line]
        assert len(warnings) == 1, warnings
        assert "check ssl_cafile" in warnings[0] and "the playbook is not affected" in warnings[0], warnings[0]
        held = [json.loads(line)["value"] for p in (tmp_path / "spool-bad").glob("*.jsonl")
                for line in p.read_text().splitlines() if line.strip()]
        assert {v["event"] for v in held} >= {"playbook_start", "host_result", "image_status"}, "kept for later"
        print(f"\nwrong CA: playbook {wall:.1f} s, the warning: {warnings[0]}")
        # Nothing reached the topics (the TLS handshake with the wrong CA never completes).
        assert read_messages(broker.bootstrap, [bad_events, bad_status], timeout=3, **broker.client_options) == []
