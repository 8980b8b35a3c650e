"""The manifest's Cloud Run services (the realtime WebSocket service) as processes of the local stack.

Each runs as `python -m <module>` on its own port, with the environment Cloud Run would give it
(PORT, K_SERVICE, the manifest's env and the stack's stores and secrets) and WS_JWKS_URL pointing at
its `jwks_from` function through the gateway. Ready when its health path answers 200.
"""

from __future__ import annotations

import os
import sys
from typing import Protocol

from deploy.manifest import ROOT, ServiceSpec, load_services
from devstack.processes import Process, http_ok


class StackAddresses(Protocol):
    """What a service needs from the stack (StackConfig, or a running Stack)."""

    @property
    def gateway_url(self) -> str: ...

    def service_env(self) -> dict[str, str]: ...

    def port(self, service: str) -> int: ...


def service_env(stack: StackAddresses, spec: ServiceSpec, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VCHAT_", "PYTEST"))}
    env.update(spec.env)
    env.update(stack.service_env())
    if spec.jwks_from:
        env["WS_JWKS_URL"] = f"{stack.gateway_url}/{spec.jwks_from}/.well-known/jwks.json"
    env.update(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "K_SERVICE": spec.name,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def service_process(
    stack: StackAddresses,
    spec: ServiceSpec,
    port: int,
    extra_env: dict[str, str] | None = None,
    name: str = "",
) -> Process:
    return Process(
        name or f"svc:{spec.name}",
        [sys.executable, "-m", spec.module],
        http_ok(f"http://127.0.0.1:{port}{spec.health_path}", lambda status: status == 200),
        env={**service_env(stack, spec, port), **(extra_env or {})},
    )


def processes(stack: StackAddresses) -> list[Process]:
    return [service_process(stack, spec, stack.port(name)) for name, spec in load_services().items()]


def urls(stack: StackAddresses) -> dict[str, str]:
    return {name: f"ws://127.0.0.1:{stack.port(name)}" for name in load_services()}
