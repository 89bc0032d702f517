"""``swim-sim`` command line. The fleet/stop contract is relied on by other tools; see docs/simulator.md.

    swim-sim fleet --count N --inventory PATH [--state-dir DIR] [--faults FILE] [--kafka HOST:PORT]
                   [--detach --pidfile PATH] ...
    swim-sim stop --pidfile PATH
    swim-sim make-image --name N --version V --size BYTES --out PATH
    swim-sim serve-images --dir DIR [--port P] [--auth USER:PASS] [--detach --pidfile PATH]
    swim-sim broker [--port P] [--detach --pidfile PATH]
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

DEFAULTS = {"download_rate": 5 * 1024 * 1024, "install_time": 2.0, "reboot_time": 5.0, "sanity_time": 2.0}


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _endpoint(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return text


def _add_detach(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--detach", action="store_true",
                        help="run in the background; return once ready (requires --pidfile)")
    parser.add_argument("--pidfile", type=Path, help="pid file, written once the process is ready")
    parser.add_argument("--log-file", type=Path, help="log of the detached process")
    parser.add_argument("--start-timeout", type=float, default=120.0,
                        help="seconds --detach waits for readiness (default 120)")
    parser.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="swim-sim", description="DMI (gRPC) and NETCONF (SSH) device simulator for escalator.swim")
    parser.add_argument("--log-level", default=os.environ.get("SWIM_SIM_LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)

    fleet = sub.add_parser("fleet", help="run N simulated devices and write an Ansible inventory")
    fleet.add_argument("--count", type=int, required=True, help="number of devices")
    fleet.add_argument("--inventory", type=Path, required=True, help="inventory YAML to write")
    fleet.add_argument("--state-dir", type=Path,
                       help="device state files, reboot log, fleet.json (default: <inventory dir>/swim-sim-state)")
    fleet.add_argument("--faults", type=Path, help="YAML with per-device timings, faults, partitions")
    fleet.add_argument("--kafka", type=_endpoint, help="publish ImageStatus events to this broker (HOST:PORT)")
    fleet.add_argument("--kafka-topic", default="swim.dmi.image-status")
    fleet.add_argument("--per-manager", type=int, default=1, help="devices behind one device manager/port")
    fleet.add_argument("--base-port", type=int, help="first gRPC port (default: free loopback ports)")
    fleet.add_argument("--name-prefix", default="olt-")
    fleet.add_argument("--groups", default="", help="comma-separated child groups of swim_fleet (round-robin)")
    fleet.add_argument("--transport", default="dmi",
                       help="device protocol: dmi (gRPC), netconf (NETCONF over SSH, BBF TR-383), or mixed "
                            "(alternating dmi, netconf; a device's 'transport:' key in --faults wins)")
    netconf = fleet.add_argument_group("NETCONF devices (SSH)")
    netconf.add_argument("--netconf-username", default="swim", help="SSH user name (default swim)")
    netconf.add_argument("--netconf-password",
                         help="SSH password (default: generated at every start; written to the inventory)")
    netconf.add_argument("--authorized-keys", type=Path,
                         help="OpenSSH authorized_keys file of extra public keys accepted for the user "
                              "(the fleet always accepts <state-dir>/netconf_client_key)")
    netconf.add_argument("--host-key-type", choices=["rsa", "ecdsa", "ed25519"],
                         help="SSH host key type of every NETCONF device (default: rsa, ecdsa, ed25519 in turn; "
                              "a device's host_key_type in --faults wins)")
    netconf.add_argument("--legacy-hello", action="store_true", default=None,
                         help="the old simulator: YANG 1.1 modules listed in <hello>, no YANG library, no NMDA")
    netconf.add_argument("--yang-library", choices=["1.0", "1.1"],
                         help="1.1 (default): RFC 8525 /yang-library and /modules-state; 1.0: only RFC 7895 "
                              "/modules-state (capability yang-library:1.0), no NMDA")
    netconf.add_argument("--no-nmda", dest="nmda", action="store_false", default=None,
                         help="no ietf-netconf-nmda: <get-data> refused, <get> returns the whole components")
    fleet.add_argument("--download-rate", type=_positive_float, default=DEFAULTS["download_rate"],
                       help="bytes per second (default 5 MiB/s)")
    fleet.add_argument("--install-time", type=_positive_float, default=DEFAULTS["install_time"])
    fleet.add_argument("--reboot-time", type=_positive_float, default=DEFAULTS["reboot_time"])
    fleet.add_argument("--sanity-time", type=_positive_float, default=DEFAULTS["sanity_time"])
    tls = fleet.add_argument_group("TLS of the DMI gRPC servers (written to the inventory as swim_tls, swim_ca_cert, ...)")
    tls.add_argument("--tls-cert", type=Path, help="server certificate (PEM); turns TLS on")
    tls.add_argument("--tls-key", type=Path, help="server private key (PEM)")
    tls.add_argument("--tls-client-ca", type=Path, help="CA of client certificates: requires one (mutual TLS)")
    tls.add_argument("--tls-ca-cert", type=Path, help="CA clients trust (inventory swim_ca_cert)")
    tls.add_argument("--tls-client-cert", type=Path, help="client certificate for the inventory (swim_client_cert)")
    tls.add_argument("--tls-client-key", type=Path, help="client key for the inventory (swim_client_key)")
    tls.add_argument("--tls-server-name", help="name to verify in the server certificate (swim_tls_server_name)")
    tls.add_argument("--tls-generate", choices=["tls", "mtls"],
                     help="generate a throw-away CA, server and client certificates in <state-dir>/tls (tests, demos)")
    _add_detach(fleet)

    stop = sub.add_parser("stop", help="stop a detached swim-sim process")
    stop.add_argument("--pidfile", type=Path, required=True)
    stop.add_argument("--timeout", type=float, default=30.0)

    image = sub.add_parser("make-image", help="write a SWIMIMG1 image file and print its sha256")
    image.add_argument("--name", required=True)
    image.add_argument("--version", required=True)
    image.add_argument("--size", type=int, default=1024 * 1024, help="payload bytes")
    image.add_argument("--out", required=True, help="file to write (or directory, with a trailing /)")

    serve = sub.add_parser("serve-images", help="serve a directory over HTTP on 127.0.0.1")
    serve.add_argument("--dir", type=Path, required=True)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--auth", help="USER:PASS for HTTP basic auth")
    _add_detach(serve)

    broker = sub.add_parser("broker", help="run a Tansu Kafka broker on 127.0.0.1")
    broker.add_argument("--port", type=int, default=0)
    _add_detach(broker)
    return parser


def _detach_argv(argv: list[str]) -> list[str]:
    return [a for a in argv if a != "--detach"]


def _maybe_detach(args, argv: list[str], default_log: Path) -> int | None:
    if not args.detach:
        return None
    if not args.pidfile:
        print("swim-sim: --detach requires --pidfile", file=sys.stderr)
        return 2
    from .daemon import detach

    return detach(_detach_argv(argv), args.pidfile, args.log_file or default_log, args.start_timeout)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass


def _serve_until_signal(args, ready: dict, stop) -> int:
    """Announce a started service (pidfile, ready file, stdout), run until SIGTERM/SIGINT, then ``stop()``."""
    from .daemon import remove_own_pidfile, signal_ready, write_pidfile

    try:
        if args.pidfile:
            write_pidfile(args.pidfile)
        signal_ready(args.ready_file, ready)
        print(ready["message"], flush=True)
        _wait_for_signal()
    finally:
        stop()
        remove_own_pidfile(args.pidfile)
    return 0


# ---------------------------------------------------------------- fleet
def cmd_fleet(args, argv: list[str]) -> int:
    state_dir = args.state_dir or (args.inventory.resolve().parent / "swim-sim-state")
    if args.transport not in ("dmi", "netconf", "mixed"):
        print(f"swim-sim fleet: unknown --transport {args.transport!r}: use dmi, netconf or mixed",
              file=sys.stderr)
        return 2
    if args.detach:
        state_dir.mkdir(parents=True, exist_ok=True)
        if not args.state_dir:
            argv = [*argv, "--state-dir", str(state_dir)]
        return _maybe_detach(args, argv, state_dir / "swim-sim.log")
    import asyncio

    from .fleet import FleetConfig
    from .spec import SpecError, Timings

    try:
        tls = _tls_files(args, state_dir)
    except ValueError as exc:
        print(f"swim-sim fleet: {exc}", file=sys.stderr)
        return 2
    try:
        config = FleetConfig(
            count=args.count, inventory=args.inventory, state_dir=state_dir, faults=args.faults, kafka=args.kafka,
            kafka_topic=args.kafka_topic, per_manager=args.per_manager, base_port=args.base_port,
            name_prefix=args.name_prefix, groups=[g.strip() for g in args.groups.split(",") if g.strip()],
            timings=Timings(download_rate=args.download_rate, install_time=args.install_time,
                            reboot_time=args.reboot_time, sanity_time=args.sanity_time),
            transport=args.transport, tls=tls, netconf_username=args.netconf_username,
            netconf_password=args.netconf_password, authorized_keys=args.authorized_keys,
            host_key_type=args.host_key_type, legacy_hello=args.legacy_hello, yang_library=args.yang_library,
            nmda=args.nmda)
        config.validate()
    except SpecError as exc:
        print(f"swim-sim fleet: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run_fleet(config, args.pidfile, args.ready_file))


def _tls_files(args, state_dir: Path):
    """The fleet's TlsFiles from the --tls-* options (None: plain TCP)."""
    from .tls import TlsFiles, generated_files

    if args.tls_generate:
        if args.tls_cert or args.tls_key or args.tls_client_ca:
            raise ValueError("--tls-generate makes its own certificates: drop --tls-cert/--tls-key/--tls-client-ca")
        files = generated_files(state_dir / "tls", mutual=args.tls_generate == "mtls")
        return TlsFiles(**{**files.__dict__, "server_name": args.tls_server_name})
    explicit = (args.tls_client_ca, args.tls_ca_cert, args.tls_client_cert, args.tls_client_key, args.tls_server_name)
    if not (args.tls_cert or args.tls_key):
        if any(explicit):
            raise ValueError("the --tls-* options need --tls-cert and --tls-key (or --tls-generate)")
        return None
    if not (args.tls_cert and args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    files = TlsFiles(cert=args.tls_cert, key=args.tls_key, client_ca=args.tls_client_ca, ca_cert=args.tls_ca_cert,
                     client_cert=args.tls_client_cert, client_key=args.tls_client_key,
                     server_name=args.tls_server_name)
    files.check()
    return files


async def _run_fleet(config, pidfile, ready_file) -> int:
    import asyncio
    import resource

    from .daemon import remove_own_pidfile, signal_ready, write_pidfile
    from .fleet import Fleet
    from .spec import SpecError

    log = logging.getLogger("swim_sim.cli")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    fleet = Fleet(config)
    try:
        await fleet.start()
    except SpecError as exc:
        log.error("invalid configuration: %s", exc)
        print(f"swim-sim fleet: {exc}", file=sys.stderr)
        return 2
    except (OSError, asyncio.TimeoutError) as exc:
        log.error("start-up failed: %s", exc)
        print(f"swim-sim fleet: start-up failed: {exc}", file=sys.stderr)
        return 1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ports = sorted({s.port for s in fleet.servers})
    nc_ports = sorted(fleet.netconf.ports.values()) if fleet.netconf else []
    where = []
    if ports or not nc_ports:
        where.append(f"{len(ports)} device manager port(s) " + (f"{ports[0]}..{ports[-1]}" if ports else "-"))
    if nc_ports:
        where.append(f"{len(nc_ports)} NETCONF/SSH port(s) {nc_ports[0]}..{nc_ports[-1]}")
    message = (f"swim-sim fleet ready: {len(fleet.devices)} devices, {', '.join(where)}, "
               f"inventory {config.inventory}, state {config.state_dir} "
               f"(start {fleet.startup_seconds:.2f}s, rss {rss_mb:.0f} MB, pid {os.getpid()})")
    try:
        if pidfile:
            write_pidfile(pidfile)
        signal_ready(ready_file, {"message": message, "fleet_json": str(fleet.fleet_json),
                                  "startup_seconds": fleet.startup_seconds, "rss_mb": rss_mb})
        log.info(message)
        print(message, flush=True)
        await stop.wait()
        log.info("stopping fleet")
    finally:
        await fleet.stop()
        remove_own_pidfile(pidfile)
    log.info("fleet stopped")
    return 0


# ---------------------------------------------------------------- other commands
def cmd_make_image(args) -> int:
    from .images import make_image

    path, sha = make_image(args.out, args.name, args.version, args.size)
    print(sha)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_serve_images(args, argv: list[str]) -> int:
    detached = _maybe_detach(args, argv, Path(str(args.pidfile) + ".log") if args.pidfile else Path("x"))
    if detached is not None:
        return detached
    from .images import ImageServer

    try:
        server = ImageServer(args.dir, port=args.port, auth=args.auth).start()
    except (OSError, ValueError) as exc:
        print(f"swim-sim serve-images: {exc}", file=sys.stderr)
        return 1
    message = f"serving {args.dir} at {server.base_url} (pid {os.getpid()})"
    return _serve_until_signal(args, {"message": message, "port": server.port, "url": server.base_url}, server.stop)


def cmd_broker(args, argv: list[str]) -> int:
    detached = _maybe_detach(args, argv, Path(str(args.pidfile) + ".log") if args.pidfile else Path("x"))
    if detached is not None:
        return detached
    from .broker import TansuBroker

    broker = TansuBroker(port=args.port)
    try:
        broker.start()
    except (OSError, RuntimeError, TimeoutError) as exc:
        print(f"swim-sim broker: {exc}", file=sys.stderr)
        return 1
    message = f"Tansu Kafka broker at {broker.bootstrap} (pid {os.getpid()})"
    return _serve_until_signal(args, {"message": message, "bootstrap": broker.bootstrap}, broker.stop)


# Extra `fleet` arguments from the environment, after the command line's (so they win), e.g.
# SWIM_SIM_FLEET_ARGS="--legacy-hello --host-key-type ed25519" runs every fleet of a test suite or molecule
# scenario as the pre-YANG-library NETCONF simulator (docs/simulator.md).
FLEET_ARGS_ENV = "SWIM_SIM_FLEET_ARGS"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fleet"] and os.environ.get(FLEET_ARGS_ENV):
        import shlex

        extra = shlex.split(os.environ[FLEET_ARGS_ENV])
        if argv[-len(extra):] != extra:  # a detached child gets the parent's argv, already extended
            argv += extra
    args = build_parser().parse_args(argv)
    from .redact import setup_logging

    setup_logging(getattr(logging, args.log_level))
    if args.command == "fleet":
        return cmd_fleet(args, argv)
    if args.command == "stop":
        from .daemon import stop

        return stop(args.pidfile, args.timeout)
    if args.command == "make-image":
        return cmd_make_image(args)
    if args.command == "serve-images":
        return cmd_serve_images(args, argv)
    if args.command == "broker":
        return cmd_broker(args, argv)
    return 2


if __name__ == "__main__":
    sys.exit(main())
