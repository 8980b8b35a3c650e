"""The shared Firestore client reads streams on the calling thread (shared/clients/firestore.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from devstack.stack import Stack
from shared import documents
from shared.clients.firestore import get_firestore


def _threads_started_by(action: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> int:
    started = 0
    original = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        nonlocal started
        started += 1
        original(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    try:
        action()
    finally:
        monkeypatch.undo()
    return started


def test_reads_and_queries_start_no_thread(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    client = get_firestore()
    documents.user("fs-client-a").set({"displayName": "a"})
    refs = [documents.user("fs-client-a"), documents.user("fs-client-missing")]

    def read() -> None:
        snapshots = {snap.id: snap for snap in client.get_all(refs)}
        assert snapshots["fs-client-a"].to_dict() == {"displayName": "a"}
        assert not snapshots["fs-client-missing"].exists

    def query() -> None:
        assert [
            s.id
            for s in client.collection("users").where(filter=FieldFilter("displayName", "==", "a")).stream()
        ]

    read()  # the channel connects (and may start grpc's own threads) on first use
    assert _threads_started_by(read, monkeypatch) == 0
    assert _threads_started_by(query, monkeypatch) == 0
