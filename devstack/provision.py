"""What the emulators need once they answer: 2nd-gen trigger registrations with the Firestore
emulator, and a topic plus push subscription per Pub/Sub function. Each step is idempotent, so
`make dev` can rerun against a stack that is already set up."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from deploy.manifest import FunctionSpec

ATTEMPTS = 3
TIMEOUT_S = 30.0  # a cold emulator's first answers are slow when the machine is busy (JIT, GC)


def _request(method: str, url: str, body: dict[str, Any] | None = None, ok: tuple[int, ...] = ()) -> Any:
    """One idempotent setup call, tried again when the emulator does not answer in time."""
    data = json.dumps(body).encode() if body is not None else None
    failure: Exception | None = None
    for _ in range(ATTEMPTS):
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            if exc.code in ok:
                return None
            raise RuntimeError(f"{method} {url} -> {exc.code}: {exc.read()[:300]!r}") from None
        except (TimeoutError, ConnectionError, urllib.error.URLError) as exc:
            failure = exc
    raise RuntimeError(f"{method} {url}: no answer after {ATTEMPTS} tries ({failure})")


def register_firestore_triggers(
    firestore_host: str, project: str, functions: Mapping[str, FunctionSpec]
) -> None:
    """Register each Firestore trigger with the emulator's 2nd-gen (Eventarc) trigger API."""
    base = f"http://{firestore_host}/emulator/v1/projects/{project}"
    for name, spec in functions.items():
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


def create_topics_and_subscriptions(
    pubsub_host: str, project: str, router_url: str, functions: Mapping[str, FunctionSpec]
) -> None:
    """A topic per Pub/Sub function and a push subscription delivering to the event router."""
    base = f"http://{pubsub_host}/v1/projects/{project}"
    for name, spec in functions.items():
        if spec.trigger_type != "pubsub":
            continue
        _request("PUT", f"{base}/topics/{spec.topic}", {}, ok=(409,))
        _request(
            "PUT",
            f"{base}/subscriptions/{name}-push",
            {
                "topic": f"projects/{project}/topics/{spec.topic}",
                "pushConfig": {"pushEndpoint": f"{router_url}/pubsub/{name}"},
                "ackDeadlineSeconds": min(600, spec.timeout_s + 10),
                "retryPolicy": {"minimumBackoff": "1s", "maximumBackoff": "30s"},
            },
            ok=(409,),
        )
