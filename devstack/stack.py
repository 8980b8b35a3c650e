"""The whole local backend as one object: what runs (emulators, PostgreSQL, Redis, the hub, the
stand-ins, one functions-framework process per function), in what order, and how it is torn down.

Used by `make dev` (python -m devstack up) and by the test session (tests/conftest.py), so the tests
run against exactly what a frontend developer runs. The pieces: `ports` (where), `config` (the
environment and generated files), `processes` (supervision), `postgres`, `installs`, `provision`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from deploy.manifest import ROOT, FunctionSpec, load_manifest
from devstack import installs, provision, services
from devstack.config import DEFAULT_PROJECT, StackConfig
from devstack.errors import StackError
from devstack.ports import Ports, free_port
from devstack.processes import Process, Supervisor, http_ok, tcp_ok

__all__ = ["ExtraFunction", "Ports", "Stack", "StackError", "free_port"]

FIRESTORE_EMULATOR = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"
PUBSUB_EMULATOR = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"


@dataclass(frozen=True)
class ExtraFunction:
    """A function the stack serves behind its gateway although the manifest does not list it, so
    nothing deploys it and `make dev` never runs it: a benchmark's reference point. It runs exactly
    as the manifest function it is `like` does (trigger, gunicorn threads, environment, stores)."""

    source_dir: Path  # the folder holding its main.py
    entry_point: str
    like: str  # a manifest function's name


@dataclass(frozen=True)
class _UndeployedSpec(FunctionSpec):
    source: Path = ROOT

    @property
    def source_dir(self) -> Path:
        return self.source


def _spec_of(name: str, extra: ExtraFunction, manifest: Mapping[str, FunctionSpec]) -> FunctionSpec:
    base = manifest[extra.like]
    settings = {f.name: getattr(base, f.name) for f in fields(base)}
    settings.update(name=name, entry_point=extra.entry_point, schedules=())
    return _UndeployedSpec(**settings, source=extra.source_dir)


class Stack:
    def __init__(
        self,
        state_dir: Path,
        ports: Ports | None = None,
        *,
        project: str = DEFAULT_PROJECT,
        with_auth: bool = True,
        scheduler_auto: bool = True,
        retry: dict[str, float] | None = None,
        extra_env: dict[str, str] | None = None,
        extra_python_path: tuple[Path, ...] = (),
        extra_functions: Mapping[str, ExtraFunction] | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        manifest = load_manifest()
        extras = {name: _spec_of(name, extra, manifest) for name, extra in (extra_functions or {}).items()}
        if set(extras) & set(manifest):
            raise StackError(f"extra functions shadow manifest ones: {sorted(set(extras) & set(manifest))}")
        functions = {**manifest, **extras}
        ports = ports or Ports.defaults(functions)
        for name in extras:
            ports.functions.setdefault(name, free_port())
        self.config = StackConfig(
            state_dir=state_dir,
            ports=ports,
            functions=functions,
            project=project,
            with_auth=with_auth,
            scheduler_auto=scheduler_auto,
            extra_env=extra_env or {},
            extra_python_path=extra_python_path,
        )
        if retry is not None:
            self.config.retry = retry
        self.supervisor = Supervisor(state_dir / "logs", echo)
        self.echo = echo
        self.started_at = 0.0
        self._firebase_bin = Path("firebase")

    # -- what callers read ----------------------------------------------------------------------
    @property
    def functions(self) -> dict[str, Any]:
        return self.config.functions

    @property
    def state_dir(self) -> Path:
        return self.config.state_dir

    @property
    def project(self) -> str:
        return self.config.project

    @property
    def ports(self) -> Ports:
        return self.config.ports

    @property
    def processes(self) -> dict[str, Process]:
        return self.supervisor.processes

    @property
    def logs_dir(self) -> Path:
        return self.supervisor.logs_dir

    def port(self, service: str) -> int:
        return self.config.port(service)

    @property
    def gateway_url(self) -> str:
        return self.config.gateway_url

    @property
    def router_url(self) -> str:
        return self.config.router_url

    @property
    def database_url(self) -> str:
        return self.config.postgres.url

    @property
    def redis_url(self) -> str:
        return self.config.redis_url

    def service_env(self) -> dict[str, str]:
        return self.config.service_env()

    def function_env(self, spec: Any) -> dict[str, str]:
        return self.config.function_env(spec)

    def info(self) -> dict[str, Any]:
        return self.config.info()

    def write_info(self) -> Path:
        return self.config.write_info()

    def tail(self, name: str, lines: int = 20) -> str:
        return self.supervisor.tail(name, lines)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout_s: float = 120.0) -> None:
        self.started_at = time.perf_counter()
        self.ports.check_free()
        installs.ensure_redis_server()
        if self.config.with_auth:
            self._firebase_bin = (
                installs.ensure_node_modules(self.echo) / "node_modules" / ".bin" / "firebase"
            )
        try:
            self.config.postgres.init()
            for process in self._plan():
                self.supervisor.launch(process)
            self.supervisor.wait_ready(timeout_s)
            self._provision()
        except BaseException:
            self.stop()
            raise
        self.write_info()

    def stop(self) -> None:
        self.supervisor.stop_all()

    def stop_process(self, name: str) -> None:
        """Stop one service (tests use it to make a function instance unavailable)."""
        self.supervisor.stop(name)

    def restart_process(self, name: str, timeout_s: float = 60.0) -> None:
        self.supervisor.restart(name, timeout_s)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what runs ------------------------------------------------------------------------------
    def _plan(self) -> list[Process]:
        config = self.config
        s = config.ports.services
        python_env = {**os.environ, "PYTHONPATH": str(ROOT)}
        plan = [
            Process(
                "firestore",
                [
                    FIRESTORE_EMULATOR,
                    "start",
                    "--host=127.0.0.1",
                    f"--port={s['firestore']}",
                    f"--rules={ROOT / 'firestore.rules'}",
                    f"--functions_emulator=127.0.0.1:{s['router']}",
                ],
                http_ok(f"http://127.0.0.1:{s['firestore']}/", lambda status: status == 200),
            ),
            Process(
                "pubsub",
                [PUBSUB_EMULATOR, "--host=127.0.0.1", f"--port={s['pubsub']}"],
                http_ok(f"http://127.0.0.1:{s['pubsub']}/", lambda status: status == 200),
            ),
            Process(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(s["redis"]),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(config.state_dir),
                ],
                tcp_ok(s["redis"]),
            ),
            Process("postgres", config.postgres.argv(), config.postgres.ready),
            Process(
                "hub",
                [sys.executable, "-m", "devstack.hub", str(config.hub_config())],
                http_ok(f"http://127.0.0.1:{s['router']}/healthz", lambda status: status == 200),
                env=python_env,
            ),
            Process(
                "vroid",
                [sys.executable, "-m", "standins.vroid_hub", "--port", str(s["vroid"])],
                tcp_ok(s["vroid"]),
                env=python_env,
            ),
            Process(
                "discord",
                [
                    sys.executable,
                    "-m",
                    "standins.discord",
                    "serve",
                    "--port",
                    str(s["discord"]),
                    "--config",
                    str(config.discord_config()),
                ],
                http_ok(f"http://127.0.0.1:{s['discord']}/healthz", lambda status: status == 200),
                env=python_env,
            ),
        ]
        if config.with_auth:
            plan.append(
                Process(
                    "auth",
                    [
                        str(self._firebase_bin),
                        "emulators:start",
                        "--only",
                        "auth",
                        "--project",
                        config.project,
                        "--config",
                        str(config.firebase_config()),
                    ],
                    http_ok(f"http://127.0.0.1:{s['auth']}/", lambda status: status == 200),
                    env={**os.environ, "NO_UPDATE_NOTIFIER": "1", "FIREBASE_CLI_EXPERIMENTS": ""},
                    cwd=config.state_dir,
                )
            )
        plan += services.processes(config)
        bin_dir = Path(sys.executable).parent
        for name, spec in config.functions.items():
            port = config.ports.functions[name]
            plan.append(
                Process(
                    f"fn:{name}",
                    [
                        str(bin_dir / "functions-framework"),
                        f"--target={spec.entry_point}",
                        f"--source={spec.source_dir / 'main.py'}",
                        f"--signature-type={spec.signature_type}",
                        "--host=127.0.0.1",
                        f"--port={port}",
                    ],
                    tcp_ok(port),
                    env=config.function_env(spec),
                )
            )
        return plan

    def _provision(self) -> None:
        config = self.config
        provision.register_firestore_triggers(config.host("firestore"), config.project, config.functions)
        provision.create_topics_and_subscriptions(
            config.host("pubsub"), config.project, config.router_url, config.functions
        )
        config.postgres.migrate(config.service_env())
        config.postgres.provision_logins(config.functions, config.project)
        # The slash commands, registered against the stand-in as `make discord-commands` does in production.
        from deploy.discord_commands import register_from_env

        register_from_env(config.service_env())
