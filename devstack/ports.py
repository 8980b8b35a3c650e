"""Ports of the local stack: fixed defaults for `make dev` (overridable), free ones for tests."""

from __future__ import annotations

import os
import random
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import StackError

SERVICE_PORTS = {
    "gateway": 8000,
    "router": 8001,
    "firestore": 8081,
    "pubsub": 8085,
    "auth": 9099,
    "postgres": 54329,
    "redis": 6390,
    "vroid": 8090,
    "realtime": 8200,  # the manifest's Cloud Run services (devstack/services.py), by name
    "discord": 8091,
    "webapp": 8300,  # the reference web app's dev server (devstack/webapp.py)
    "auth_hub": 4410,
    "auth_logging": 4510,
}
FUNCTION_PORT_BASE = 8101


class PortInUse(StackError):
    pass


# Linux's default ephemeral range, for systems that do not publish theirs. Ports are then chosen
# from 12768-32767, below macOS's ephemeral range (49152-65535) as well.
_DEFAULT_EPHEMERAL = (32768, 60999)
_chosen: set[int] = set()
_chosen_lock = threading.Lock()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL
    return low, high


def _candidates() -> range:
    """Ports no outgoing connection is given: below the ephemeral range (or above it when it starts
    too low to leave room)."""
    low, high = _ephemeral_range()
    if low - 1 >= 20000:
        return range(max(10000, low - 20000), low)
    return range(high + 1, 65536)


def free_port() -> int:
    """A port nothing listens on, outside the ephemeral range. Asking the kernel for port 0 gives an
    ephemeral port, and any outgoing connection (there are hundreds while a stack starts) may take
    that same port before the server meant for it binds it."""
    candidates = _candidates()
    for _ in range(200):
        port = random.choice(candidates)
        with _chosen_lock:
            if port in _chosen or port_in_use(port):
                continue
            _chosen.add(port)  # never handed out twice by this process
        return port
    raise PortInUse(f"no free port among {candidates.start}-{candidates.stop - 1} after 200 tries")


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
    def defaults(cls, functions: Iterable[str]) -> Ports:
        services = {
            name: int(os.environ.get(f"VCHAT_{name.upper()}_PORT", port))
            for name, port in SERVICE_PORTS.items()
        }
        base = int(os.environ.get("VCHAT_FUNCTION_PORT_BASE", FUNCTION_PORT_BASE))
        return cls(services, {name: base + i for i, name in enumerate(functions)})

    @classmethod
    def free(cls, functions: Iterable[str]) -> Ports:
        return cls({name: free_port() for name in SERVICE_PORTS}, {name: free_port() for name in functions})

    def check_free(self) -> None:
        busy = [
            f"{name} port {port}"
            for name, port in [*self.services.items(), *self.functions.items()]
            if port_in_use(port)
        ]
        if busy:
            raise PortInUse(
                "already in use: "
                + ", ".join(busy)
                + ". Stop whatever holds them (another `make dev`?) or choose other ports with "
                "VCHAT_<SERVICE>_PORT / VCHAT_FUNCTION_PORT_BASE (see README)."
            )
