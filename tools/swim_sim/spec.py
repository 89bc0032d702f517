"""Per-device configuration: timings, faults and initial partitions.

Defaults come from the command line; ``--faults FILE`` (YAML) overrides them per
device. The schema is documented in docs/simulator.md.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULT_ACTIVE = {"image_name": "swim-olt", "version": "1.0.0"}
DEFAULT_STANDBY = {"image_name": "swim-olt", "version": "0.9.0"}
DEFAULT_STARTUP_CONFIG = {"config_url": "", "version": "factory"}


@dataclass(frozen=True)
class Timings:
    """Speeds of one device. Times in seconds, rate in bytes per second."""

    download_rate: float = 5 * 1024 * 1024
    install_time: float = 2.0
    reboot_time: float = 5.0
    sanity_time: float = 2.0

    def scaled(self, factor: float) -> "Timings":
        """All timings ``factor`` times slower (the ``slow`` fault)."""
        return Timings(
            download_rate=self.download_rate / factor,
            install_time=self.install_time * factor,
            reboot_time=self.reboot_time * factor,
            sanity_time=self.sanity_time * factor,
        )

    def merged(self, overrides: dict[str, Any] | None) -> "Timings":
        if not overrides:
            return self
        unknown = set(overrides) - set(TIMING_NAMES)
        if unknown:
            raise SpecError(f"unknown timing(s) {sorted(unknown)}; known: {list(TIMING_NAMES)}")
        values = {}
        for key, value in overrides.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise SpecError(f"timing {key} must be a number, got {value!r}") from None
            if number < 0 or (key == "download_rate" and number <= 0):
                raise SpecError(f"timing {key} must be positive, got {value!r}")
            values[key] = number
        return replace(self, **values)


TIMING_NAMES = ("download_rate", "install_time", "reboot_time", "sanity_time")

# fault name -> default parameters
FAULTS: dict[str, dict[str, Any]] = {
    "checksum_corruption": {},
    "download_drop": {"drop_at": 0.5},
    "invalid_image": {},
    "activation_sanity_failure": {"reason": "INVALID_IMAGE"},
    "never_returns": {},
    "slow": {"factor": 5.0},
    "busy": {},
    "unreachable": {},
    "flapping": {"flaps": 2, "up_time": 0.3, "down_time": None},
    "stream_drop_on_reboot": {},
    "activation_not_applied": {},
    # NETCONF only: the device does not implement bbf-software-management (absent from hello and the YANG
    # library; with import_only it is listed as an import-only module: its data and actions do not exist).
    "no_swm_model": {"import_only": False},
    # The new image runs but raises an alarm the old one did not (a post-upgrade check must catch it):
    # shown while the running image is not the device's initial active image.
    "alarm_after_upgrade": {"component": "fan-2", "severity": "major"},
}

TRANSPORT_NAMES = ("dmi", "netconf")
NETCONF_FRAMINGS = ("1.0", "1.1")
HOST_KEY_TYPES = ("rsa", "ecdsa", "ed25519")
YANG_LIBRARY_VERSIONS = ("1.0", "1.1")
TARGET_SELECTIONS = ("by-system", "by-user")
# NETCONF server behaviour keys of a device (docs/simulator.md, "NETCONF compatibility options")
NETCONF_OPTIONS = ("netconf_framing", "host_key_type", "legacy_hello", "yang_library", "nmda",
                   "download_target_selection")


ALARM_SEVERITIES = ("warning", "minor", "major", "critical", "indeterminate")


class SpecError(ValueError):
    """A faults/fleet YAML file or a command-line value is invalid."""


def _check_fault(name: str, params: dict[str, Any]) -> dict[str, Any]:
    if name not in FAULTS:
        raise SpecError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
    params = dict(params or {})
    unknown = set(params) - set(FAULTS[name])
    if unknown:
        raise SpecError(f"fault {name}: unknown parameter(s) {sorted(unknown)}; known: {sorted(FAULTS[name])}")
    merged = {**FAULTS[name], **params}
    if name == "download_drop" and not 0 <= float(merged["drop_at"]) < 1:
        raise SpecError("fault download_drop: drop_at must be in [0, 1)")
    if name == "slow" and float(merged["factor"]) <= 0:
        raise SpecError("fault slow: factor must be > 0")
    if name == "flapping" and int(merged["flaps"]) < 0:
        raise SpecError("fault flapping: flaps must be >= 0")
    if name == "alarm_after_upgrade" and merged["severity"] not in ALARM_SEVERITIES:
        raise SpecError(f"fault alarm_after_upgrade: severity must be one of {', '.join(ALARM_SEVERITIES)}")
    if name == "activation_sanity_failure" and merged["reason"] not in ("INVALID_IMAGE", "INTERNAL_ERROR"):
        raise SpecError("fault activation_sanity_failure: reason must be INVALID_IMAGE or INTERNAL_ERROR")
    return merged


def parse_faults(raw: Any) -> dict[str, dict[str, Any]]:
    """Accept ``[name, {name: {params}}, ...]`` or ``{name: params-or-null}``."""
    if raw is None:
        return {}
    result: dict[str, dict[str, Any]] = {}
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = []
        for entry in raw:
            if isinstance(entry, str):
                items.append((entry, {}))
            elif isinstance(entry, dict) and len(entry) == 1:
                items.extend(entry.items())
            else:
                raise SpecError(f"fault entry must be a name or a one-key mapping, got {entry!r}")
    else:
        raise SpecError(f"faults must be a list or a mapping, got {type(raw).__name__}")
    for name, params in items:
        if params is not None and not isinstance(params, dict):
            raise SpecError(f"fault {name}: parameters must be a mapping, got {params!r}")
        result[str(name)] = _check_fault(str(name), params or {})
    return result


def _partition(raw: dict[str, Any] | None, default: dict[str, Any], which: str) -> dict[str, Any]:
    part = {**default, "committed": True, "valid": True, "sha256": ""}
    if raw:
        if not isinstance(raw, dict):
            raise SpecError(f"partitions.{which} must be a mapping")
        unknown = set(raw) - set(part)
        if unknown:
            raise SpecError(f"partitions.{which}: unknown key(s) {sorted(unknown)}")
        part.update(raw)
    part["image_name"] = str(part["image_name"])
    part["version"] = str(part["version"])
    part["committed"] = bool(part["committed"])
    part["valid"] = bool(part["valid"])
    part["sha256"] = str(part["sha256"] or "")
    return part


# Every device's address on its manager's record unless dmi_uri says otherwise: shared, so it names no device.
DEFAULT_DMI_URI = "127.0.0.1"


@dataclass
class DeviceSpec:
    """Everything configurable about one simulated device."""

    timings: Timings = field(default_factory=Timings)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    partitions: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "active": _partition(None, DEFAULT_ACTIVE, "active"),
            "standby": _partition(None, DEFAULT_STANDBY, "standby"),
        }
    )
    startup_config: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STARTUP_CONFIG))
    # hardware component name -> alarm severity shown in the physical inventory
    alarms: dict[str, str] = field(default_factory=dict)
    # device protocol ("" = the fleet's --transport decides) and, for NETCONF, the newest framing
    # offered at hello ("1.0": only base:1.0 / end-of-message framing)
    transport: str = ""
    netconf_framing: str = "1.1"
    # NETCONF server behaviour. Defaults = the reference server (Netopeer2): YANG 1.1 modules only in the
    # YANG library (RFC 8525, capability yang-library:1.1), NMDA with <get-data>. host_key_type "" = the fleet
    # decides (--host-key-type, else spread rsa/ecdsa/ed25519 over the NETCONF devices).
    host_key_type: str = ""
    legacy_hello: bool = False  # the old simulator: every module in <hello>, no YANG library, no NMDA
    yang_library: str = "1.1"  # "1.0": only RFC 7895 /modules-state (capability yang-library:1.0)
    nmda: bool | None = None  # None = yes unless legacy_hello or yang_library "1.0"
    download_target_selection: tuple[str, ...] = ("by-system",)  # bbf-swm features download-target-selection-*
    # DMI: whether the device manager manages the device when the fleet first starts (a state file, written by
    # StartManagingDevice/StopManagingDevice, wins later), and the device's address (uri) on its record
    managed: bool = True
    dmi_uri: str = DEFAULT_DMI_URI

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def param(self, fault: str, name: str) -> Any:
        return self.faults[fault][name]

    @property
    def effective_timings(self) -> Timings:
        if self.has("slow"):
            return self.timings.scaled(float(self.param("slow", "factor")))
        return self.timings


def _apply(spec: DeviceSpec, raw: dict[str, Any], where: str) -> DeviceSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"{where} must be a mapping")
    unknown = set(raw) - {"timings", "faults", "partitions", "startup_config", "alarms", "transport",
                          "managed", "dmi_uri", *NETCONF_OPTIONS}
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {sorted(unknown)}")
    spec = copy.deepcopy(spec)
    try:
        spec.timings = spec.timings.merged(raw.get("timings"))
        if "faults" in raw:
            spec.faults = {**spec.faults, **parse_faults(raw["faults"])}
        parts = raw.get("partitions") or {}
        if set(parts) - {"active", "standby"}:
            raise SpecError("partitions may only have 'active' and 'standby'")
        for which, default in (("active", DEFAULT_ACTIVE), ("standby", DEFAULT_STANDBY)):
            if which in parts:
                spec.partitions[which] = _partition(parts[which], default, which)
        if raw.get("startup_config"):
            cfg = raw["startup_config"]
            if not isinstance(cfg, dict) or set(cfg) - {"config_url", "version"}:
                raise SpecError("startup_config must be a mapping with config_url and/or version")
            spec.startup_config = {**spec.startup_config, **{k: str(v) for k, v in cfg.items()}}
        if raw.get("alarms"):
            alarms = raw["alarms"]
            if not isinstance(alarms, dict):
                raise SpecError("alarms must map component names to severities")
            for component, severity in alarms.items():
                if severity not in ALARM_SEVERITIES:
                    raise SpecError(f"alarms.{component}: severity must be one of {', '.join(ALARM_SEVERITIES)}")
            spec.alarms = {**spec.alarms, **{str(k): str(v) for k, v in alarms.items()}}
        if "transport" in raw:
            if raw["transport"] not in TRANSPORT_NAMES:
                raise SpecError(f"transport must be one of {', '.join(TRANSPORT_NAMES)}, got {raw['transport']!r}")
            spec.transport = str(raw["transport"])
        if "netconf_framing" in raw:
            framing = str(raw["netconf_framing"])
            if framing not in NETCONF_FRAMINGS:
                raise SpecError(f"netconf_framing must be \"1.0\" or \"1.1\", got {raw['netconf_framing']!r}")
            spec.netconf_framing = framing
        _apply_netconf_options(spec, raw)
        if "managed" in raw:
            spec.managed = _flag(raw, "managed")
        if "dmi_uri" in raw:
            if not isinstance(raw["dmi_uri"], str) or not raw["dmi_uri"].strip():
                raise SpecError(f"dmi_uri must be a device address, got {raw['dmi_uri']!r}")
            spec.dmi_uri = raw["dmi_uri"]
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None
    return spec


def _flag(raw: dict[str, Any], key: str) -> bool:
    if not isinstance(raw[key], bool):
        raise SpecError(f"{key} must be true or false, got {raw[key]!r}")
    return raw[key]


def _apply_netconf_options(spec: DeviceSpec, raw: dict[str, Any]) -> None:
    if "host_key_type" in raw:
        if raw["host_key_type"] not in HOST_KEY_TYPES:
            raise SpecError(f"host_key_type must be one of {', '.join(HOST_KEY_TYPES)}, got {raw['host_key_type']!r}")
        spec.host_key_type = raw["host_key_type"]
    if "legacy_hello" in raw:
        spec.legacy_hello = _flag(raw, "legacy_hello")
    if "yang_library" in raw:
        version = str(raw["yang_library"])
        if version not in YANG_LIBRARY_VERSIONS:
            raise SpecError(f"yang_library must be \"1.0\" or \"1.1\", got {raw['yang_library']!r}")
        spec.yang_library = version
    if "nmda" in raw:
        spec.nmda = None if raw["nmda"] is None else _flag(raw, "nmda")
    if "download_target_selection" in raw:
        value = raw["download_target_selection"]
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not value or any(v not in TARGET_SELECTIONS for v in value):
            raise SpecError("download_target_selection must be a non-empty list of "
                            f"{', '.join(TARGET_SELECTIONS)}, got {raw['download_target_selection']!r}")
        spec.download_target_selection = tuple(v for v in TARGET_SELECTIONS if v in value)
    if spec.nmda and (spec.legacy_hello or spec.yang_library == "1.0"):
        raise SpecError("nmda: true needs the RFC 8525 YANG library (RFC 8526 §2): not with legacy_hello "
                        "or yang_library \"1.0\"")


class FleetSpec:
    """Resolves the DeviceSpec of each device name: CLI defaults < YAML defaults < YAML device entry."""

    def __init__(self, base_timings: Timings, raw: dict[str, Any] | None = None,
                 options: dict[str, Any] | None = None):
        """``options``: fleet-wide device keys from the command line (e.g. ``{"legacy_hello": True}``),
        overridden by the YAML file's defaults and device entries."""
        raw = raw or {}
        if not isinstance(raw, dict):
            raise SpecError("faults file must be a mapping with 'defaults' and/or 'devices'")
        unknown = set(raw) - {"defaults", "devices"}
        if unknown:
            raise SpecError(f"faults file: unknown top-level key(s) {sorted(unknown)}")
        base = _apply(DeviceSpec(timings=base_timings), options or {}, "command line")
        self.default = _apply(base, raw.get("defaults") or {}, "defaults")
        devices = raw.get("devices") or {}
        if not isinstance(devices, dict):
            raise SpecError("faults file: 'devices' must map device names to settings")
        self.devices = {str(name): _apply(self.default, entry or {}, f"devices.{name}") for name, entry in devices.items()}

    @classmethod
    def load(cls, base_timings: Timings, path: str | Path | None,
             options: dict[str, Any] | None = None) -> "FleetSpec":
        if not path:
            return cls(base_timings, options=options)
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise SpecError(f"cannot read faults file {path}: {exc}") from None
        except yaml.YAMLError as exc:
            raise SpecError(f"faults file {path} is not valid YAML: {exc}") from None
        return cls(base_timings, raw, options)

    def for_device(self, name: str) -> DeviceSpec:
        return copy.deepcopy(self.devices.get(name, self.default))

    def unknown_devices(self, names) -> list[str]:
        return sorted(set(self.devices) - set(names))
