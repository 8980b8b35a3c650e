"""What the stack sets up once its services answer: trigger registrations, topics and push
subscriptions, the database and its migrations. Each step is idempotent, so `make dev` can rerun."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from devstack.manifest import ROOT

if TYPE_CHECKING:
    from devstack.stack import Stack


def _request(method: str, url: str, body: dict[str, Any] | None = None, ok: tuple[int, ...] = ()) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        if exc.code in ok:
            return None
        raise RuntimeError(f"{method} {url} -> {exc.code}: {exc.read()[:300]!r}") from None


def register_firestore_triggers(stack: Stack) -> None:
    """Register each Firestore trigger with the emulator's 2nd-gen (Eventarc) trigger API."""
    base = f"http://127.0.0.1:{stack.port('firestore')}/emulator/v1/projects/{stack.project}"
    for name, spec in stack.functions.items():
        if spec.trigger_type != "firestore":
            continue
        _request(
            "POST",
            f"{base}/eventarcTrigger?eventarcTriggerId={name}",
            {
                "eventType": spec.event_type,
                "database": "(default)",
                "namespace": "(default)",
                "document": {"value": spec.document, "matchType": "PATH_PATTERN"},
            },
        )


def create_topics_and_subscriptions(stack: Stack) -> None:
    """A topic per Pub/Sub function and a push subscription delivering to the event router."""
    base = f"http://127.0.0.1:{stack.port('pubsub')}/v1/projects/{stack.project}"
    for name, spec in stack.functions.items():
        if spec.trigger_type != "pubsub":
            continue
        _request("PUT", f"{base}/topics/{spec.topic}", {}, ok=(409,))
        _request(
            "PUT",
            f"{base}/subscriptions/{name}-push",
            {
                "topic": f"projects/{stack.project}/topics/{spec.topic}",
                "pushConfig": {"pushEndpoint": f"{stack.router_url}/pubsub/{name}"},
                "ackDeadlineSeconds": min(600, spec.timeout_s + 10),
                "retryPolicy": {"minimumBackoff": "1s", "maximumBackoff": "30s"},
            },
            ok=(409,),
        )


def migrate_database(stack: Stack) -> None:
    """Create the database if needed and bring its schema to the newest migration."""
    import pg8000.native

    admin = pg8000.native.Connection(
        "postgres", host="127.0.0.1", port=stack.port("postgres"), database="postgres"
    )
    try:
        exists = admin.run("SELECT 1 FROM pg_database WHERE datname = :name", name="vchat")
        if not exists:
            admin.run("CREATE DATABASE vchat")
    finally:
        admin.close()
    if (ROOT / "alembic.ini").exists():
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
            cwd=ROOT,
            env={**stack.service_env(), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
        )
