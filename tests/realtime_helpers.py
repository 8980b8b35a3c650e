"""Real WebSocket clients (websockets' sync client) for the realtime service of the test stack."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from deploy.manifest import load_services
from devstack.ports import free_port
from devstack.services import service_env
from devstack.stack import Stack
from shared import keys
from tests.conftest import http, wait_for
from tests.room_fixtures import rds

Json = dict[str, Any]


def ws_token(gateway: str, id_token: str, room_id: str | None) -> str:
    body = {"roomId": room_id} if room_id is not None else {}
    status, issued, _ = http(
        "POST", f"{gateway}/issue_tokens/ws-token", body, {"Authorization": f"Bearer {id_token}"}
    )
    assert status == 200, issued
    return str(issued["token"])


def open_socket(base_url: str, room_id: str, access_token: str | None) -> ClientConnection:
    query = f"?access_token={access_token}" if access_token is not None else ""
    return connect(f"{base_url}/rooms/{room_id}{query}", open_timeout=10, close_timeout=2)


def recv(ws: ClientConnection, timeout_s: float = 10.0) -> Json:
    return dict(json.loads(ws.recv(timeout=timeout_s)))


def recv_until(ws: ClientConnection, predicate: Callable[[Json], bool], timeout_s: float = 10.0) -> Json:
    """The first message that satisfies `predicate` (others, e.g. `joined` events, are skipped)."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"no matching message within {timeout_s}s")
        message = recv(ws, remaining)
        if predicate(message):
            return message


def closed_with(ws: ClientConnection, timeout_s: float = 10.0) -> tuple[int, str, list[Json]]:
    """Read until the server closes; returns (close code, reason, the messages received before)."""
    seen: list[Json] = []
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"the server did not close within {timeout_s}s; got {seen}")
            seen.append(json.loads(ws.recv(timeout=remaining)))
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "closed without a close frame"
        return closed.rcvd.code, closed.rcvd.reason, seen


def ready(ws: ClientConnection) -> Json:
    message = recv(ws)
    assert message["type"] == "ready", message
    return message


def wait_presence(room_id: str, uids: list[str]) -> None:
    wait_for(lambda: set(uids) <= set(rds().hkeys(keys.room_presence(room_id))))


def log_lines(path: Path, message: str) -> list[Json]:
    found = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("message") == message:
                found.append(entry)
    return found


class Instance:
    """Another process of the realtime service on its own port (a second Cloud Run instance)."""

    def __init__(self, stack: Stack, name: str, extra_env: dict[str, str]) -> None:
        spec = load_services()["realtime"]
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.log = stack.logs_dir / f"svc-{name}.log"
        env = {**service_env(stack, spec, self.port), **extra_env}
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", spec.module],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for(self._listening, timeout_s=30)

    def _listening(self) -> bool:
        if self.popen.poll() is not None:
            pytest.fail(f"realtime instance exited: {self.log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


@contextmanager
def instance(stack: Stack, name: str, **extra_env: str) -> Iterator[Instance]:
    started = Instance(stack, name, extra_env)
    try:
        yield started
    finally:
        started.stop()
