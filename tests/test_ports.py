"""Free ports for a test stack come from outside the kernel's ephemeral range: a port the kernel
hands out for port 0 is also what it gives outgoing connections, which took an emulator's port
before the emulator bound it ("port taken") while a stack was starting."""

from __future__ import annotations

import socket

import pytest

from devstack import ports


def test_free_ports_are_outside_the_ephemeral_range_distinct_and_bindable() -> None:
    low, high = ports._ephemeral_range()
    chosen = [ports.free_port() for _ in range(60)]
    assert len(set(chosen)) == len(chosen)
    assert all(not low <= port <= high for port in chosen)
    for port in chosen[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_something_listens_on_is_never_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        monkeypatch.setattr(ports, "_candidates", lambda: range(taken, taken + 1))
        with pytest.raises(ports.PortInUse):
            ports.free_port()
