"""Test session: one real local stack (emulators, PostgreSQL, Redis, every function in its own
process) on free ports, started on first use and stopped at the end. No fakes of any store."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from deploy.manifest import ROOT, load_manifest
from devstack.firestore_rest import FirestoreRest, unsigned_token
from devstack.stack import Ports, Stack
from shared.config import reset_settings

T = TypeVar("T")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    state_dir = ROOT / ".dev" / f"test-{os.getpid()}"
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    ports = Ports.free(load_manifest())
    stack = Stack(
        state_dir,
        ports,
        scheduler_auto=False,  # tests fire schedules themselves, so nothing runs behind their backs
        retry={"initial_s": 0.2, "max_s": 2.0, "max_attempts": 8},
        echo=lambda line: None,
    )
    stack.start(timeout_s=180)
    saved = dict(os.environ)
    os.environ.update(stack.service_env())
    reset_settings()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        _reset_clients()
        if not os.environ.get("VCHAT_KEEP_TEST_STACK"):  # keep the logs of a failed run to read them
            shutil.rmtree(state_dir, ignore_errors=True)


def _reset_clients() -> None:
    from shared.clients.firestore import get_firestore
    from shared.clients.postgres import get_engine
    from shared.clients.pubsub import get_publisher
    from shared.clients.redis import get_redis

    for lazy in (get_firestore, get_publisher, get_redis, get_engine):
        lazy.reset()


@pytest.fixture(scope="session")
def gateway(stack: Stack) -> str:
    return stack.gateway_url


@pytest.fixture(scope="session")
def firestore_rest(stack: Stack) -> FirestoreRest:
    return FirestoreRest(f"127.0.0.1:{stack.port('firestore')}", stack.project)


@pytest.fixture
def token(stack: Stack) -> Callable[..., str]:
    """`token(uid, **claims)`: an Auth-emulator style ID token for `uid`. A uid of digits stands for a
    Discord member signed in through discord_auth, so its token also carries that id as `discord_id`
    (what invitations_api acts on); pass `discord_id=None` for an account without the link."""

    def make(uid: str, **claims: Any) -> str:
        if uid.isascii() and uid.isdigit() and len(uid) <= 20:
            claims.setdefault("discord_id", uid)
        return unsigned_token(uid, stack.project, **{k: v for k, v in claims.items() if v is not None})

    return make


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    """A plain HTTP call; returns (status, parsed JSON or text, headers)."""
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if body is not None and "Content-Type" not in (headers or {}):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status, out = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, out = exc.read(), exc.code, dict(exc.headers)
    try:
        return status, json.loads(raw) if raw else None, out
    except ValueError:
        return status, raw.decode(errors="replace"), out


def wait_for(predicate: Callable[[], T], timeout_s: float = 15.0, interval_s: float = 0.05) -> T:
    """Poll until `predicate()` is truthy and return it; fail the test on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s}s")
        time.sleep(interval_s)


@pytest.fixture
def scratch_databases(stack: Stack) -> Iterator[tuple[str, str]]:
    """Two empty databases on the stack's PostgreSQL for migration tests, dropped afterwards."""
    import pg8000.native

    names = (f"fresh_{uuid.uuid4().hex[:8]}", f"stepped_{uuid.uuid4().hex[:8]}")
    admin = pg8000.native.Connection(
        "postgres", host="127.0.0.1", port=stack.port("postgres"), database="postgres"
    )
    try:
        for name in names:
            admin.run(f"CREATE DATABASE {name}")
        yield names
    finally:
        for name in names:
            admin.run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
