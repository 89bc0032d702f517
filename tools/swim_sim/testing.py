"""Helpers for tests that need a real simulator fleet (used by tests/conftest.py).

:class:`SimFleet` drives the real ``swim-sim fleet ... --detach --pidfile`` /
``swim-sim stop --pidfile`` command line in subprocesses: no mocks, real sockets.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import yaml

TIMING_FLAGS = {"download_rate": "--download-rate", "install_time": "--install-time",
                "reboot_time": "--reboot-time", "sanity_time": "--sanity-time"}
# Small timings that keep test suites fast (seconds; bytes/s).
FAST_TIMINGS = {"download_rate": 8 * 1024 * 1024, "install_time": 0.2, "reboot_time": 0.3, "sanity_time": 0.2}


def swim_sim_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "swim_sim.cli", *args]


class SimFleet:
    """A ``swim-sim fleet`` process.

    ``faults`` is a dict (written as the faults YAML) or a path to one; ``timings``
    maps download_rate/install_time/reboot_time/sanity_time to CLI defaults
    (missing keys take :data:`FAST_TIMINGS`).
    """

    def __init__(self, workdir: str | Path, count: int = 1, *, faults: dict | str | Path | None = None,
                 timings: dict[str, float] | None = None, per_manager: int = 1, groups: Iterable[str] | None = None,
                 kafka: str | None = None, kafka_topic: str | None = None, name_prefix: str | None = None,
                 base_port: int | None = None, transport: str = "dmi", state_dir: str | Path | None = None,
                 extra_args: Iterable[str] = (), start_timeout: float = 120.0, host_key_type: str | None = None,
                 legacy_hello: bool = False, yang_library: str | None = None, nmda: bool | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.count = count
        self.inventory = self.workdir / "inventory.yml"
        self.state_dir = Path(state_dir) if state_dir else self.workdir / "state"
        self.pidfile = self.workdir / "fleet.pid"
        self.log_path = self.state_dir / "swim-sim.log"
        self.faults_path: Path | None = None
        if isinstance(faults, dict):
            self.faults_path = self.workdir / "faults.yml"
            self.faults_path.write_text(yaml.safe_dump(faults, sort_keys=False))
        elif faults:
            self.faults_path = Path(faults)
        self.timings = {**FAST_TIMINGS, **(timings or {})}
        self.per_manager = per_manager
        self.groups = list(groups or [])
        self.kafka = kafka
        self.kafka_topic = kafka_topic
        self.name_prefix = name_prefix
        self.base_port = base_port
        self.transport = transport
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        # NETCONF server behaviour of every device (docs/simulator.md); None/False = the standard default
        self.host_key_type = host_key_type
        self.legacy_hello = legacy_hello
        self.yang_library = yang_library
        self.nmda = nmda
        self.devices: list[dict[str, Any]] = []
        self.ready_message = ""
        self.running = False

    # ------------------------------------------------------------ process control
    def command(self) -> list[str]:
        args = ["fleet", "--count", str(self.count), "--inventory", str(self.inventory),
                "--state-dir", str(self.state_dir), "--transport", self.transport,
                "--per-manager", str(self.per_manager), "--detach", "--pidfile", str(self.pidfile),
                "--start-timeout", str(self.start_timeout)]
        for key, flag in TIMING_FLAGS.items():
            args += [flag, str(self.timings[key])]
        if self.faults_path:
            args += ["--faults", str(self.faults_path)]
        if self.groups:
            args += ["--groups", ",".join(self.groups)]
        if self.kafka:
            args += ["--kafka", self.kafka]
        if self.kafka_topic:
            args += ["--kafka-topic", self.kafka_topic]
        if self.name_prefix:
            args += ["--name-prefix", self.name_prefix]
        if self.base_port:
            args += ["--base-port", str(self.base_port)]
        if self.host_key_type:
            args += ["--host-key-type", self.host_key_type]
        if self.legacy_hello:
            args.append("--legacy-hello")
        if self.yang_library:
            args += ["--yang-library", self.yang_library]
        if self.nmda is False:
            args.append("--no-nmda")
        return swim_sim_command(*args, *self.extra_args)  # the CLI adds $SWIM_SIM_FLEET_ARGS

    def start(self) -> "SimFleet":
        proc = subprocess.run(self.command(), capture_output=True, text=True, timeout=self.start_timeout + 30)
        if proc.returncode != 0:
            raise RuntimeError(f"swim-sim fleet failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        self.ready_message = proc.stdout.strip()
        self.running = True
        self.devices = json.loads((self.state_dir / "fleet.json").read_text())["devices"]
        return self

    def stop(self, timeout: float = 30.0) -> int:
        """Stop via ``swim-sim stop``; returns its exit code (0 = stopped cleanly or not running)."""
        if not self.pidfile.exists():
            self.running = False
            return 0
        proc = subprocess.run(swim_sim_command("stop", "--pidfile", str(self.pidfile), "--timeout", str(timeout)),
                              capture_output=True, text=True, timeout=timeout + 30)
        self.running = False
        return proc.returncode

    def restart(self) -> "SimFleet":
        self.stop()
        return self.start()

    @property
    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    # ------------------------------------------------------------ what the fleet wrote
    @property
    def fleet_json(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "fleet.json").read_text())

    def device(self, name: str) -> dict[str, Any]:
        for device in self.devices:
            if device["name"] == name:
                return device
        raise KeyError(name)

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.device(name)['port']}"

    def state(self, name: str) -> dict[str, Any]:
        """The device's state file (flash view: partitions, startup config, managed)."""
        return json.loads((self.state_dir / f"{name}.json").read_text())

    def reboots(self) -> list[dict[str, Any]]:
        path = self.state_dir / "reboots.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def dmi_calls(self, rpc: str = "StartManagingDevice") -> list[dict[str, Any]]:
        """The *rpc* calls (StartManagingDevice, StopManagingDevice) the fleet's device managers received."""
        path = self.state_dir / "dmi-calls.jsonl"
        if not path.exists():
            return []
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [entry for entry in entries if entry["rpc"] == rpc]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ------------------------------------------------------------ NETCONF devices
    def netconf_params(self, name: str) -> dict[str, Any]:
        """Where and how to reach NETCONF device ``name`` (from fleet.json)."""
        device = self.device(name)
        if device.get("transport") != "netconf":
            raise ValueError(f"{name} is a {device.get('transport')} device, not netconf")
        info = self.fleet_json["netconf"]
        return {"host": "127.0.0.1", "port": device["port"], "username": info["username"],
                "password": info["password"], "known_hosts_file": info["known_hosts_file"],
                "client_key_file": info["client_key_file"]}

    def netconf(self, name: str, **overrides) -> "NetconfClient":
        """An ncclient session to device ``name`` (host key checked against the fleet's known_hosts).
        ``overrides``: password=..., key_filename=..., known_hosts_file=..., timeout=..."""
        return NetconfClient(self.netconf_params(name), self.workdir, **overrides)

    def netconf_when_up(self, name: str, timeout: float = 20.0, **overrides) -> "NetconfClient":
        """Connect to ``name``, retrying with back-off while it reboots (refused/dropped), bounded by ``timeout``."""
        import time

        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            try:
                return self.netconf(name, **overrides)
            except Exception:  # noqa: BLE001 -- refused / dropped while the device reboots
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def __enter__(self) -> "SimFleet":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FleetFactory:
    """Callable that starts fleets in fresh directories and stops all of them on :meth:`close`."""

    def __init__(self, make_dir):
        self._make_dir = make_dir
        self.fleets: list[SimFleet] = []

    def __call__(self, count: int = 1, **kwargs) -> SimFleet:
        fleet = SimFleet(self._make_dir(), count, **kwargs)
        self.fleets.append(fleet)
        return fleet.start()

    def close(self) -> None:
        for fleet in self.fleets:
            try:
                fleet.stop()
            except Exception:  # noqa: BLE001 -- teardown must try every fleet
                pass
        self.fleets.clear()


# ---------------------------------------------------------------------------- NETCONF test client
SWM_NS = "urn:bbf:yang:bbf-software-management"
HW_NS = "urn:ietf:params:xml:ns:yang:ietf-hardware"
SWM_FILTER = (f'<hardware xmlns="{HW_NS}"><component><software xmlns="{SWM_NS}"/></component></hardware>')
NMDA_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda"
DS_NS = "urn:ietf:params:xml:ns:yang:ietf-datastores"
YANGLIB_NS = "urn:ietf:params:xml:ns:yang:ietf-yang-library"


def _known_host_check(known_hosts_file: str, port: int):
    """ncclient ``unknown_host_cb``: is the server key (ncclient passes its MD5 fingerprint) recorded for
    ``[127.0.0.1]:port`` in ``known_hosts_file``?"""
    import paramiko

    def check(host: str, fingerprint: str) -> bool:
        keys = paramiko.HostKeys(known_hosts_file)
        recorded = {**(keys.lookup(host) or {}), **(keys.lookup(f"[{host}]:{port}") or {})}
        return any(":".join(f"{b:02x}" for b in key.get_fingerprint()) == fingerprint.lower()
                   for key in recorded.values())

    return check


def _action_xml(inner: str) -> str:
    return (f'<action xmlns="urn:ietf:params:xml:ns:yang:1"><hardware xmlns="{HW_NS}"><component>'
            f'<name>olt-board</name><software xmlns="{SWM_NS}"><software><name>application-software</name>'
            f'<revisions>{inner}</revisions></software></software></component></hardware></action>')


def download_action(url: str, not_available_only: bool = False, user_replace_id: int | None = None) -> str:
    from xml.sax.saxutils import escape

    if user_replace_id is not None:
        target = (f"<selected-by-user><operation>replace</operation><replace><id>{user_replace_id}</id></replace>"
                  "</selected-by-user>")
    else:
        target = ("<selected-by-system><operation>replace-or-create</operation><replace><not-available-only>"
                  f"{str(not_available_only).lower()}</not-available-only></replace></selected-by-system>")
    return _action_xml(f"<download><download><source><url>{escape(url)}</url></source><target>{target}</target>"
                       "</download></download>")


def revision_action(revision: int, verb: str) -> str:
    return _action_xml(f"<revision><id>{revision}</id><{verb}><{verb}/></{verb}></revision>")


class NetconfClient:
    """A thin ncclient wrapper for tests: revisions as dicts, BBF actions, notifications as tuples."""

    def __init__(self, params: dict[str, Any], workdir: Path, *, password: str | None = None,
                 key_filename: str | None = None, known_hosts_file: str | None = None, hostkey_verify: bool = True,
                 timeout: float = 15.0):
        from ncclient import manager

        self.params = params
        ssh_config = Path(workdir) / f"ssh_config.{params['port']}"
        known = known_hosts_file or params["known_hosts_file"]
        # ncclient 0.7.1 narrows the host-key algorithms it offers to the key types it loaded from known_hosts
        # ("ssh-rsa" for an RSA key), which a server without SHA-1 signatures refuses (fixed on ncclient's main
        # branch, not released). So ncclient gets an empty known_hosts file and the key is checked against the
        # real one in unknown_host_cb: same verdict, every RFC 8332 algorithm offered.
        empty = Path(workdir) / "ssh_known_hosts.empty"
        empty.write_text("")
        ssh_config.write_text(f"Host *\n  UserKnownHostsFile {empty}\n")
        kwargs: dict[str, Any] = {"look_for_keys": False, "allow_agent": False}
        if key_filename:
            kwargs["key_filename"] = key_filename
        else:
            kwargs["password"] = params["password"] if password is None else password
        self.m = manager.connect(host=params["host"], port=params["port"], username=params["username"],
                                 hostkey_verify=hostkey_verify, ssh_config=str(ssh_config), timeout=timeout,
                                 unknown_host_cb=_known_host_check(known, params["port"]), **kwargs)
        self.m.timeout = timeout

    def __enter__(self) -> "NetconfClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self.m.connected:
                self.m.close_session()
        except Exception:  # noqa: BLE001 -- the device may have dropped the session (reboot)
            pass

    @property
    def capabilities(self) -> list[str]:
        return list(self.m.server_capabilities)

    def get(self, flt: str | None = SWM_FILTER):
        return self.m.get(filter=("subtree", flt) if flt else None)

    def get_data(self, flt: str | None = SWM_FILTER, datastore: str = "operational", extra: str = ""):
        """RFC 8526 <get-data> of ``ds:<datastore>`` with a subtree filter; returns the reply's ``<data>``
        element (ietf-netconf-nmda namespace). ``extra``: more input XML (config-filter, with-defaults...)."""
        from lxml import etree
        from ncclient.xml_ import to_ele

        subtree = f"<subtree-filter>{flt}</subtree-filter>" if flt else ""
        reply = self.m.dispatch(to_ele(
            f'<get-data xmlns="{NMDA_NS}" xmlns:ds="{DS_NS}"><datastore>ds:{datastore}</datastore>'
            f"{subtree}{extra}</get-data>"))
        return etree.fromstring(reply.xml.encode()).find(f"{{{NMDA_NS}}}data")

    def revisions(self) -> dict[int, dict[str, Any]]:
        """{id: {state, version, product-code, hash, url, is-valid, is-active, is-committed, ...}}"""
        result: dict[int, dict[str, Any]] = {}
        for rev in self.get().data_ele.iter(f"{{{SWM_NS}}}revision"):
            entry: dict[str, Any] = {}
            for child in rev:
                name = child.tag.split("}")[1]
                if name == "source":
                    entry["url"] = child.findtext(f"{{{SWM_NS}}}url")
                elif name in ("activate", "commit"):
                    for leaf in child:
                        entry[leaf.tag.split("}")[1]] = (leaf.text or "").strip()
                elif len(child) == 0:
                    text = (child.text or "").strip()
                    entry[name] = {"true": True, "false": False}.get(text, text)
            result[int(entry["id"])] = entry
        return result

    def action(self, xml: str):
        from ncclient.xml_ import to_ele

        return self.m.dispatch(to_ele(xml))

    def download(self, url: str, **kwargs) -> int:
        reply = self.action(download_action(url, **kwargs))
        from lxml import etree

        root = etree.fromstring(reply.xml.encode())
        return int(root.xpath("//*[local-name()='target']/*[local-name()='id']")[0].text)

    def activate(self, revision: int):
        return self.action(revision_action(revision, "activate"))

    def activate_and_wait_drop(self, revision: int, timeout: float = 15.0) -> None:
        """Activate, then wait (bounded) until the device's reboot drops this session."""
        import time

        self.activate(revision)
        deadline = time.monotonic() + timeout
        while self.m.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.m.connected:
            raise AssertionError(f"the session was not dropped within {timeout}s of activate")

    def commit(self, revision: int):
        return self.action(revision_action(revision, "commit"))

    def abort_download(self, revision: int):
        return self.action(revision_action(revision, "abort-download"))

    def subscribe(self, start_time: str | None = None) -> None:
        self.m.create_subscription(start_time=start_time)

    def notifications(self, until: str | None = None, timeout: float = 20.0, limit: int = 50) -> list[tuple]:
        """Take notifications as (name, revision id, error tag, message) until one named ``until``
        (or ``timeout`` with no notification, or ``limit``)."""
        import time

        found = []
        deadline = time.monotonic() + timeout
        while len(found) < limit and time.monotonic() < deadline:
            note = self.m.take_notification(block=True, timeout=max(0.1, deadline - time.monotonic()))
            if note is None:
                break
            found.append(parse_notification(note.notification_ele))
            if until and found[-1][0] == until:
                break
        return found


def parse_notification(envelope) -> tuple:
    """(name, revision id or None, error tag or None, message or None) of a notification element."""
    body = [c for c in envelope if not c.tag.endswith("}eventTime")][0]
    revision = next(body.iter(f"{{{SWM_NS}}}revision"), None)
    if revision is None:
        return (body.tag.split("}")[1], None, None, None)
    leaf = revision
    while True:
        kids = [c for c in leaf if not c.tag.endswith("}id")]
        if not kids or leaf.tag.endswith("}error"):
            break
        leaf = kids[0]
        if leaf.tag.split("}")[1] not in ("activate", "commit", "abort-download"):
            break
    return (leaf.tag.split("}")[1], int(revision.findtext(f"{{{SWM_NS}}}id")),
            leaf.findtext(f"{{{SWM_NS}}}error/{{{SWM_NS}}}tag"), leaf.findtext(f"{{{SWM_NS}}}error/{{{SWM_NS}}}message"))
