"""Starts and stops the whole local backend: every service is a child process in its own process
group, logging to STATE_DIR/logs/<name>.log, and `Stack.stop()` leaves none of them behind.

Used by `make dev` (python -m devstack up) and by the test session (tests/conftest.py), so the tests
run against exactly what a frontend developer runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import secrets
from devstack.manifest import ROOT, FunctionSpec, load_manifest

FIRESTORE_EMULATOR = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"
PUBSUB_EMULATOR = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
NODE_DIR = ROOT / "devstack" / "node"
DEFAULT_PROJECT = "demo-vchat"
DB_NAME = "vchat"

SERVICE_PORTS = {
    "gateway": 8000,
    "router": 8001,
    "firestore": 8081,
    "pubsub": 8085,
    "auth": 9099,
    "postgres": 54329,
    "redis": 6390,
    "vroid": 8090,
    "auth_hub": 4410,
    "auth_logging": 4510,
}
FUNCTION_PORT_BASE = 8101


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class Ports:
    services: dict[str, int]
    functions: dict[str, int]

    @classmethod
    def defaults(cls, functions: dict[str, FunctionSpec]) -> Ports:
        services = {
            name: int(os.environ.get(f"VCHAT_{name.upper()}_PORT", port))
            for name, port in SERVICE_PORTS.items()
        }
        base = int(os.environ.get("VCHAT_FUNCTION_PORT_BASE", FUNCTION_PORT_BASE))
        return cls(services, {name: base + i for i, name in enumerate(functions)})

    @classmethod
    def free(cls, functions: dict[str, FunctionSpec]) -> Ports:
        return cls({name: free_port() for name in SERVICE_PORTS}, {name: free_port() for name in functions})

    def check_free(self) -> None:
        busy = [
            f"{name} port {port}"
            for name, port in [*self.services.items(), *self.functions.items()]
            if port_in_use(port)
        ]
        if busy:
            raise StackError(
                "already in use: "
                + ", ".join(busy)
                + ". Stop whatever holds them (another `make dev`?) or choose other ports with "
                "VCHAT_<SERVICE>_PORT / VCHAT_FUNCTION_PORT_BASE (see README)."
            )


@dataclass
class Process:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ready_after_s: float | None = None


def _http_ok(url: str, accept: Callable[[int], bool] = lambda status: status < 500) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return accept(response.status)
        except urllib.error.HTTPError as exc:
            return accept(exc.code)
        except (OSError, ValueError):
            return False

    return check


def _tcp_ok(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    return check


def _parent_death_signal() -> None:
    """Children die with the supervisor even if it is killed with SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


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
        echo: Callable[[str], None] = print,
    ) -> None:
        self.functions = load_manifest()
        self.state_dir = state_dir
        self.ports = ports or Ports.defaults(self.functions)
        self.project = project
        self.with_auth = with_auth
        self.scheduler_auto = scheduler_auto
        self.retry = retry or {"initial_s": 1.0, "max_s": 30.0, "max_attempts": 10}
        self.extra_env = extra_env or {}
        self.echo = echo
        self.processes: dict[str, Process] = {}
        self.logs_dir = state_dir / "logs"
        self.started_at = 0.0
        self._firebase_bin = Path("firebase")
        self._secrets: dict[str, str] | None = None
        self._lock = threading.Lock()

    # -- addresses ------------------------------------------------------------------------------
    def port(self, service: str) -> int:
        return self.ports.services[service]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.port('gateway')}"

    @property
    def router_url(self) -> str:
        return f"http://127.0.0.1:{self.port('router')}"

    @property
    def database_url(self) -> str:
        return f"postgresql+pg8000://postgres@127.0.0.1:{self.port('postgres')}/{DB_NAME}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.port('redis')}/0"

    def service_env(self) -> dict[str, str]:
        """What a client of the stack (a function, a test, a script) needs in its environment."""
        env = {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{self.port('firestore')}",
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{self.port('pubsub')}",
            "FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{self.port('auth')}",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "VROID_API_URL": f"http://127.0.0.1:{self.port('vroid')}",
        }
        if self._secrets is None:
            self._secrets = secrets.local_secrets(self.state_dir)
        env.update(self._secrets)
        env.update(self.extra_env)
        return env

    def function_env(self, spec: FunctionSpec) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VCHAT_", "PYTEST"))}
        env.update(spec.env)
        env.update(self.service_env())
        env.update(
            {
                "K_SERVICE": spec.name,
                "FUNCTION_TARGET": spec.entry_point,
                "FUNCTION_SIGNATURE_TYPE": spec.signature_type,
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
                # gunicorn threads = the manifest's per-instance concurrency, as on Cloud Run.
                "THREADS": str(spec.concurrency),
            }
        )
        return env

    def info(self) -> dict[str, Any]:
        env = self.service_env()
        return {
            "projectId": self.project,
            "gatewayUrl": self.gateway_url,
            "eventRouterUrl": self.router_url,
            "FIRESTORE_EMULATOR_HOST": env["FIRESTORE_EMULATOR_HOST"],
            "PUBSUB_EMULATOR_HOST": env["PUBSUB_EMULATOR_HOST"],
            "FIREBASE_AUTH_EMULATOR_HOST": env["FIREBASE_AUTH_EMULATOR_HOST"] if self.with_auth else None,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "vroidHubUrl": env["VROID_API_URL"],
            "livekit": {"url": env.get("LIVEKIT_URL"), "apiKey": env.get("LIVEKIT_API_KEY")},
            "functions": {
                name: {
                    "trigger": spec.trigger_type,
                    "url": f"{self.gateway_url}/{name}" if spec.trigger_type == "http" else None,
                    "directUrl": f"http://127.0.0.1:{self.ports.functions[name]}",
                }
                for name, spec in self.functions.items()
            },
            "logs": str(self.logs_dir),
        }

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout_s: float = 120.0) -> None:
        self.started_at = time.perf_counter()
        self.ports.check_free()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        _ensure_redis_server()
        if self.with_auth:
            self._firebase_bin = ensure_node_modules(self.echo) / "node_modules" / ".bin" / "firebase"
        try:
            self._init_postgres()
            for process in self._plan():
                self._launch(process)
            self._wait_ready(timeout_s)
            self._configure()
        except BaseException:
            self.stop()
            raise
        self.write_info()

    def write_info(self) -> Path:
        path = self.state_dir / "stack.json"
        path.write_text(json.dumps(self.info(), indent=2) + "\n")
        return path

    def stop(self) -> None:
        with self._lock:
            running = [p for p in self.processes.values() if p.popen and p.popen.poll() is None]
            for process in running:
                _signal_group(process, signal.SIGTERM)
            deadline = time.time() + 10
            for process in running:
                assert process.popen is not None
                try:
                    process.popen.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.popen.wait(timeout=5)
                # Grandchildren (the emulators' JVMs) share the group: make sure none outlives us.
                _signal_group(process, signal.SIGKILL)
            self.processes.clear()

    def stop_process(self, name: str) -> None:
        """Stop one service (tests use it to make a function instance unavailable)."""
        process = self.processes[name]
        _signal_group(process, signal.SIGTERM)
        assert process.popen is not None
        process.popen.wait(timeout=10)

    def restart_process(self, name: str, timeout_s: float = 60.0) -> None:
        process = self.processes[name]
        if process.popen is not None and process.popen.poll() is None:
            self.stop_process(name)
        self._launch(process)
        deadline = time.perf_counter() + timeout_s
        while not process.ready():
            if time.perf_counter() > deadline:
                raise StackError(f"{name} did not come back within {timeout_s:.0f}s")
            time.sleep(0.05)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- pieces ---------------------------------------------------------------------------------
    def _plan(self) -> list[Process]:
        s = self.ports.services
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
                _http_ok(f"http://127.0.0.1:{s['firestore']}/", lambda status: status == 200),
            ),
            Process(
                "pubsub",
                [PUBSUB_EMULATOR, "--host=127.0.0.1", f"--port={s['pubsub']}"],
                _http_ok(f"http://127.0.0.1:{s['pubsub']}/", lambda status: status == 200),
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
                    str(self.state_dir),
                ],
                _tcp_ok(s["redis"]),
            ),
            Process("postgres", self._postgres_argv(), self._postgres_ready),
            Process(
                "hub",
                [sys.executable, "-m", "devstack.hub", str(self._hub_config())],
                _http_ok(f"http://127.0.0.1:{s['router']}/healthz", lambda status: status == 200),
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            ),
            Process(
                "vroid",
                [sys.executable, "-m", "devstack.vroid_standin", "--port", str(s["vroid"])],
                _tcp_ok(s["vroid"]),
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            ),
        ]
        if not (ROOT / "devstack" / "vroid_standin.py").exists():
            plan.pop()
        if self.with_auth:
            plan.append(
                Process(
                    "auth",
                    [
                        str(self._firebase_bin),
                        "emulators:start",
                        "--only",
                        "auth",
                        "--project",
                        self.project,
                        "--config",
                        str(self._firebase_config()),
                    ],
                    _http_ok(f"http://127.0.0.1:{s['auth']}/", lambda status: status == 200),
                    env={**os.environ, "NO_UPDATE_NOTIFIER": "1", "FIREBASE_CLI_EXPERIMENTS": ""},
                    cwd=self.state_dir,
                )
            )
        bin_dir = Path(sys.executable).parent
        for name, spec in self.functions.items():
            port = self.ports.functions[name]
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
                    _tcp_ok(port),
                    env=self.function_env(spec),
                )
            )
        return plan

    def _launch(self, process: Process) -> None:
        log = open(self.logs_dir / f"{process.name.replace(':', '-')}.log", "ab")  # noqa: SIM115
        process.started_at = time.perf_counter()
        process.popen = subprocess.Popen(
            process.argv,
            cwd=process.cwd,
            env=process.env or None,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_parent_death_signal,
        )
        log.close()
        self.processes[process.name] = process

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.perf_counter() + timeout_s
        pending = dict(self.processes)
        while pending:
            for name, process in list(pending.items()):
                assert process.popen is not None
                if process.popen.poll() is not None:
                    raise StackError(
                        f"{name} exited with {process.popen.returncode} while starting; "
                        f"see {self.logs_dir / (name.replace(':', '-') + '.log')}:\n{self.tail(name)}"
                    )
                if process.ready():
                    process.ready_after_s = time.perf_counter() - process.started_at
                    self.echo(f"  ready  {name:<22} {process.ready_after_s:5.1f}s")
                    del pending[name]
            if pending and time.perf_counter() > deadline:
                raise StackError(f"not ready after {timeout_s:.0f}s: {', '.join(sorted(pending))}")
            time.sleep(0.1)

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.logs_dir / f"{name.replace(':', '-')}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _configure(self) -> None:
        from devstack import provision

        provision.register_firestore_triggers(self)
        provision.create_topics_and_subscriptions(self)
        provision.migrate_database(self)

    # -- PostgreSQL -----------------------------------------------------------------------------
    @property
    def _pg_data(self) -> Path:
        return self.state_dir / "postgres"

    def _as_db_user(self, argv: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root; CI and the dev container run as root.
        return ["runuser", "-u", "nobody", "--", *argv] if os.geteuid() == 0 else argv

    def _init_postgres(self) -> None:
        if (self._pg_data / "PG_VERSION").exists():
            return
        self._pg_data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self._pg_data, "nobody")
            os.chmod(self._pg_data, 0o700)
        subprocess.run(
            self._as_db_user(
                [
                    "initdb",
                    "-D",
                    str(self._pg_data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def _postgres_argv(self) -> list[str]:
        return self._as_db_user(
            [
                shutil.which("postgres") or "/usr/lib/postgresql/15/bin/postgres",
                "-D",
                str(self._pg_data),
                "-p",
                str(self.port("postgres")),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=256MB",
                # A disposable local cluster: durability traded for speed.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        )

    def _postgres_ready(self) -> bool:
        if not _tcp_ok(self.port("postgres"))():
            return False
        result = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(self.port("postgres")), "-U", "postgres"],
            capture_output=True,
        )
        return result.returncode == 0

    # -- generated configuration ----------------------------------------------------------------
    def _hub_config(self) -> Path:
        path = self.state_dir / "hub.json"
        path.write_text(
            json.dumps(
                {
                    "project": self.project,
                    "gateway_port": self.port("gateway"),
                    "router_port": self.port("router"),
                    "pubsub_host": f"127.0.0.1:{self.port('pubsub')}",
                    "retry": self.retry,
                    "scheduler": {"auto": self.scheduler_auto},
                    "functions": {
                        name: {
                            "port": self.ports.functions[name],
                            "trigger_type": spec.trigger_type,
                            "topic": spec.topic,
                            "timeout_s": spec.timeout_s,
                            "schedules": [
                                {"name": s.name, "cron": s.cron, "time_zone": s.time_zone, "data": s.data}
                                for s in spec.schedules
                            ],
                        }
                        for name, spec in self.functions.items()
                    },
                },
                indent=2,
            )
        )
        return path

    def _firebase_config(self) -> Path:
        path = self.state_dir / "firebase.json"
        path.write_text(
            json.dumps(
                {
                    "emulators": {
                        "auth": {"host": "127.0.0.1", "port": self.port("auth")},
                        "hub": {"host": "127.0.0.1", "port": self.port("auth_hub")},
                        "logging": {"host": "127.0.0.1", "port": self.port("auth_logging")},
                        "ui": {"enabled": False},
                        "singleProjectMode": True,
                    }
                }
            )
        )
        return path


def _signal_group(process: Process, sig: int) -> None:
    if process.popen is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.popen.pid, sig)


def _ensure_redis_server() -> None:
    if shutil.which("redis-server"):
        return
    if os.geteuid() != 0:
        raise StackError("redis-server is not installed: run `sudo apt-get install -y redis-server`")
    print("installing redis-server with apt-get ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "redis-server"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def ensure_node_modules(echo: Callable[[str], None] = print) -> Path:
    """firebase-tools (for the Auth emulator) installed from devstack/node's lock file into .dev/node."""
    target = ROOT / ".dev" / "node"
    binary = target / "node_modules" / ".bin" / "firebase"
    lock = NODE_DIR / "package-lock.json"
    stamp = target / ".installed-lock"
    if binary.exists() and stamp.exists() and stamp.read_text() == lock.read_text():
        return target
    if not shutil.which("npm"):
        raise StackError("npm is needed for the Firebase Auth emulator: install Node.js 20+ and npm")
    echo("  installing firebase-tools for the Auth emulator (npm ci, about a minute) ...")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(NODE_DIR / "package.json", target / "package.json")
    shutil.copy(lock, target / "package-lock.json")
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stamp.write_text(lock.read_text())
    return target
