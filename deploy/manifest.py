"""The manifest (functions/manifest.yaml) as typed objects, defaults applied: functions and services."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = ROOT / "functions" / "manifest.yaml"
TRIGGER_TYPES = ("http", "firestore", "pubsub")
STORES = ("firestore", "redis", "postgres", "pubsub", "auth")
SERVICE_KINDS = ("cloud_run_service",)
# Group roles are created by the migrations (migrations/versions/0003_database_roles.py and later).
DATABASE_ROLE = re.compile(r"vchat_[a-z][a-z0-9_]{1,40}")

# Variables that put a function into local or development behaviour. A deployed function must never
# carry one: an emulator host makes the client libraries talk to an emulator (and the auth code accept
# unsigned tokens), DATABASE_URL bypasses the Cloud SQL connector's IAM login.
DEVELOPMENT_ONLY_VARIABLES = re.compile(
    r"[A-Z0-9_]+_EMULATOR_HOST|DATABASE_URL|DEBUG|FLASK_DEBUG|FLASK_ENV|PYTHONDEVMODE|VCHAT_[A-Z0-9_]+"
)
# Plain-text transports are for loopback only: a URL a deployed function connects to (a *_URL
# variable) must use TLS. (CORS_ALLOWED_ORIGINS names browsers' origins, not something to connect to.)
PLAIN_TEXT_SCHEMES = ("http://", "redis://", "ws://")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    time_zone: str
    data: dict[str, Any]
    interval_s: int
    success_log: str


# google-cloud-firestore's own deadline for one read or query stream.
LIBRARY_READ_DEADLINE_S = 300


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    entry_point: str
    trigger_type: str
    document: str | None
    event_type: str | None
    topic: str | None
    schedules: tuple[Schedule, ...]
    stores: tuple[str, ...]
    database_roles: tuple[str, ...]
    memory_mb: int
    timeout_s: int
    min_instances: int
    max_instances: int
    concurrency: int
    secrets: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def source_dir(self) -> Path:
        return ROOT / "functions" / self.name

    @property
    def signature_type(self) -> str:
        return "http" if self.trigger_type == "http" else "cloudevent"

    @property
    def uses_postgres(self) -> bool:
        return "postgres" in self.stores

    @property
    def firestore_read_deadline_s(self) -> int:
        """FIRESTORE_READ_DEADLINE_S as deployed (terraform/modules/vchat/locals.tf computes the same):
        the function's timeout, within the library's own 300 s."""
        return min(self.timeout_s, LIBRARY_READ_DEADLINE_S)


def deployed_env_problems(env: Mapping[str, str]) -> list[str]:
    """What makes `env` unfit for a deployed function (empty when it is fit)."""
    problems = [
        f"{name} is a local/development variable"
        for name in env
        if DEVELOPMENT_ONLY_VARIABLES.fullmatch(name)
    ]
    problems += [
        f"{name} uses a plain-text URL"
        for name, value in env.items()
        if name.endswith("_URL") and str(value).startswith(PLAIN_TEXT_SCHEMES)
    ]
    return problems


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise ManifestError(f"{where}: missing {key}")
    return entry[key]


def _function(name: str, entry: dict[str, Any], defaults: dict[str, Any]) -> FunctionSpec:
    merged = {**defaults, **entry}
    trigger = _require(entry, "trigger", name)
    kind = _require(trigger, "type", f"{name}.trigger")
    if kind not in TRIGGER_TYPES:
        raise ManifestError(f"{name}.trigger.type must be one of {TRIGGER_TYPES}")
    if kind == "firestore":
        _require(trigger, "document", f"{name}.trigger")
        _require(trigger, "event_type", f"{name}.trigger")
    if kind == "pubsub":
        _require(trigger, "topic", f"{name}.trigger")
    schedules = tuple(
        Schedule(
            _require(s, "name", f"{name}.schedules[]"),
            _require(s, "cron", f"{name}.schedules[]"),
            s.get("time_zone", "Etc/UTC"),
            dict(s.get("data") or {}),
            # Alerts need both: how often a run is due and the line a successful run writes.
            int(_require(s, "interval_s", f"{name}.schedules[{s.get('name')}]")),
            str(_require(s, "success_log", f"{name}.schedules[{s.get('name')}]")),
        )
        for s in entry.get("schedules") or []
    )
    if schedules and kind != "pubsub":
        raise ManifestError(f"{name}: schedules publish to a topic, so the trigger must be pubsub")
    stores = tuple(entry.get("stores") or ())
    unknown = set(stores) - set(STORES)
    if unknown:
        raise ManifestError(f"{name}.stores: unknown {sorted(unknown)}")
    database_roles = tuple(entry.get("database_roles") or ())
    if "postgres" in stores and not database_roles:
        raise ManifestError(f"{name}: uses postgres, so it must name its database_roles")
    if database_roles and "postgres" not in stores:
        raise ManifestError(f"{name}: database_roles without postgres in stores")
    for role in database_roles:
        if not DATABASE_ROLE.fullmatch(role):
            raise ManifestError(f"{name}.database_roles: {role!r} is not a vchat_* role name")
    env = {k: str(v) for k, v in (entry.get("env") or {}).items()}
    problems = deployed_env_problems(env)
    if problems:
        raise ManifestError(f"{name}.env: {'; '.join(problems)}")
    return FunctionSpec(
        name=name,
        entry_point=entry.get("entry_point", name),
        trigger_type=kind,
        document=trigger.get("document"),
        event_type=trigger.get("event_type"),
        topic=trigger.get("topic"),
        schedules=schedules,
        stores=stores,
        database_roles=database_roles,
        memory_mb=int(merged["memory_mb"]),
        timeout_s=int(merged["timeout_s"]),
        min_instances=int(merged["min_instances"]),
        max_instances=int(merged["max_instances"]),
        concurrency=int(merged["concurrency"]),
        secrets=dict(entry.get("secrets") or {}),
        env=env,
    )


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, FunctionSpec]:
    raw = yaml.safe_load(path.read_text())
    defaults = raw.get("defaults") or {}
    return {name: _function(name, entry, defaults) for name, entry in (raw.get("functions") or {}).items()}


def defaults(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()).get("defaults") or {})


@dataclass(frozen=True)
class ServiceSpec:
    """A long-running Cloud Run service (a container), e.g. the realtime WebSocket service."""

    name: str
    kind: str
    source: str
    module: str
    health_path: str
    stores: tuple[str, ...]
    memory_mb: int
    cpu: int
    timeout_s: int
    concurrency: int
    min_instances: int
    max_instances: int
    session_affinity: bool
    jwks_from: str | None
    secrets: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def source_dir(self) -> Path:
        return ROOT / self.source


def _service(name: str, entry: dict[str, Any], functions: dict[str, FunctionSpec]) -> ServiceSpec:
    kind = _require(entry, "kind", name)
    if kind not in SERVICE_KINDS:
        raise ManifestError(f"{name}.kind must be one of {SERVICE_KINDS}")
    stores = tuple(entry.get("stores") or ())
    unknown = set(stores) - set(STORES)
    if unknown:
        raise ManifestError(f"{name}.stores: unknown {sorted(unknown)}")
    jwks_from = entry.get("jwks_from")
    if jwks_from is not None and (jwks_from not in functions or functions[jwks_from].trigger_type != "http"):
        raise ManifestError(f"{name}.jwks_from must name an HTTP function of the manifest")
    env = {k: str(v) for k, v in (entry.get("env") or {}).items()}
    problems = deployed_env_problems(env)
    if problems:
        raise ManifestError(f"{name}.env: {'; '.join(problems)}")
    return ServiceSpec(
        name=name,
        kind=kind,
        source=str(_require(entry, "source", name)),
        module=str(_require(entry, "module", name)),
        health_path=str(entry.get("health_path", "/healthz")),
        stores=stores,
        memory_mb=int(_require(entry, "memory_mb", name)),
        cpu=int(entry.get("cpu", 1)),
        timeout_s=int(_require(entry, "timeout_s", name)),
        concurrency=int(_require(entry, "concurrency", name)),
        min_instances=int(entry.get("min_instances", 0)),
        max_instances=int(_require(entry, "max_instances", name)),
        session_affinity=bool(entry.get("session_affinity", False)),
        jwks_from=jwks_from,
        secrets=dict(entry.get("secrets") or {}),
        env=env,
    )


def load_services(path: Path = MANIFEST_PATH) -> dict[str, ServiceSpec]:
    raw = yaml.safe_load(path.read_text())
    functions = load_manifest(path)
    return {name: _service(name, entry, functions) for name, entry in (raw.get("services") or {}).items()}
