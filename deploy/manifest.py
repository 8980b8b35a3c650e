"""The function manifest (functions/manifest.yaml) as typed objects, defaults applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = ROOT / "functions" / "manifest.yaml"
TRIGGER_TYPES = ("http", "firestore", "pubsub")
STORES = ("firestore", "redis", "postgres", "pubsub")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    time_zone: str
    data: dict[str, Any]


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
        Schedule(s["name"], s["cron"], s.get("time_zone", "Etc/UTC"), dict(s.get("data") or {}))
        for s in entry.get("schedules") or []
    )
    if schedules and kind != "pubsub":
        raise ManifestError(f"{name}: schedules publish to a topic, so the trigger must be pubsub")
    stores = tuple(entry.get("stores") or ())
    unknown = set(stores) - set(STORES)
    if unknown:
        raise ManifestError(f"{name}.stores: unknown {sorted(unknown)}")
    return FunctionSpec(
        name=name,
        entry_point=entry.get("entry_point", name),
        trigger_type=kind,
        document=trigger.get("document"),
        event_type=trigger.get("event_type"),
        topic=trigger.get("topic"),
        schedules=schedules,
        stores=stores,
        memory_mb=int(merged["memory_mb"]),
        timeout_s=int(merged["timeout_s"]),
        min_instances=int(merged["min_instances"]),
        max_instances=int(merged["max_instances"]),
        concurrency=int(merged["concurrency"]),
        secrets=dict(entry.get("secrets") or {}),
        env={k: str(v) for k, v in (entry.get("env") or {}).items()},
    )


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, FunctionSpec]:
    raw = yaml.safe_load(path.read_text())
    defaults = raw.get("defaults") or {}
    return {name: _function(name, entry, defaults) for name, entry in (raw.get("functions") or {}).items()}


def defaults(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()).get("defaults") or {})
