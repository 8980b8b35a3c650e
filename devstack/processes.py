"""Child processes of the local stack: each in its own process group, logging to LOGS/<name>.log,
started, awaited until ready, and stopped with nothing left behind (emulators fork JVMs)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deploy.manifest import ROOT
from devstack.errors import StackError


class ProcessError(StackError):
    pass


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

    @property
    def log_name(self) -> str:
        return self.name.replace(":", "-") + ".log"


def http_ok(url: str, accept: Callable[[int], bool] = lambda status: status < 500) -> Callable[[], bool]:
    """A readiness check: the URL answers with a status `accept` likes."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return accept(response.status)
        except urllib.error.HTTPError as exc:
            return accept(exc.code)
        except (OSError, ValueError):
            return False

    return check


def tcp_ok(port: int) -> Callable[[], bool]:
    """A readiness check: something accepts connections on the port."""

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


def _signal_group(process: Process, sig: int) -> None:
    if process.popen is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.popen.pid, sig)


class Supervisor:
    """Starts, awaits, restarts and stops a set of named processes."""

    def __init__(self, logs_dir: Path, echo: Callable[[str], None] = print) -> None:
        self.logs_dir = logs_dir
        self.echo = echo
        self.processes: dict[str, Process] = {}
        self._lock = threading.Lock()

    def launch(self, process: Process) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.logs_dir / process.log_name, "ab")  # noqa: SIM115
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

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.perf_counter() + timeout_s
        pending = dict(self.processes)
        while pending:
            for name, process in list(pending.items()):
                assert process.popen is not None
                if process.popen.poll() is not None:
                    raise ProcessError(
                        f"{name} exited with {process.popen.returncode} while starting; "
                        f"see {self.logs_dir / process.log_name}:\n{self.tail(name)}"
                    )
                if process.ready():
                    process.ready_after_s = time.perf_counter() - process.started_at
                    self.echo(f"  ready  {name:<22} {process.ready_after_s:5.1f}s")
                    del pending[name]
            if pending and time.perf_counter() > deadline:
                raise ProcessError(f"not ready after {timeout_s:.0f}s: {', '.join(sorted(pending))}")
            time.sleep(0.1)

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.popen and p.popen.poll() is not None]

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.logs_dir / (name.replace(":", "-") + ".log")
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, name: str) -> None:
        process = self.processes[name]
        _signal_group(process, signal.SIGTERM)
        assert process.popen is not None
        process.popen.wait(timeout=10)

    def restart(self, name: str, timeout_s: float = 60.0) -> None:
        process = self.processes[name]
        if process.popen is not None and process.popen.poll() is None:
            self.stop(name)
        self.launch(process)
        deadline = time.perf_counter() + timeout_s
        while not process.ready():
            if time.perf_counter() > deadline:
                raise ProcessError(f"{name} did not come back within {timeout_s:.0f}s")
            time.sleep(0.05)

    def stop_all(self) -> None:
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
