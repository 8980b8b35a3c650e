"""The shared Firestore client reads streams on the calling thread and bounds every call's retries
(shared/clients/firestore.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import grpc
import pytest
from google.api_core.exceptions import RetryError
from google.cloud.firestore_v1.base_query import FieldFilter

from devstack.stack import Stack, free_port
from shared import documents, transactions
from shared.clients import firestore as firestore_client
from shared.clients.firestore import get_firestore
from shared.config import reset_settings, settings
from shared.outages import is_outage


@contextmanager
def _firestore_that_never_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """FIRESTORE_EMULATOR_HOST (and the settings) pointing at a gRPC server that takes Firestore's
    calls and never answers them: a hung backend, where a closed port fails each attempt at once.
    The environment is restored on the way out."""
    released = threading.Event()

    def hang(request: bytes, context: grpc.ServicerContext) -> bytes:
        while context.is_active() and not released.is_set():
            released.wait(0.05)
        return b""

    def hang_streaming(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        hang(request, context)
        yield from ()

    unary = ("Commit", "Rollback", "BeginTransaction", "GetDocument")
    streams = ("BatchGetDocuments", "RunQuery")
    handler = grpc.method_handlers_generic_handler(
        "google.firestore.v1.Firestore",
        {
            **{name: grpc.unary_unary_rpc_method_handler(hang) for name in unary},
            **{name: grpc.unary_stream_rpc_method_handler(hang_streaming) for name in streams},
        },
    )
    server = grpc.server(ThreadPoolExecutor(max_workers=4), handlers=(handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{port}")
    reset_settings()
    try:
        yield
    finally:
        released.set()
        server.stop(grace=None)
        monkeypatch.undo()
        reset_settings()


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


def test_every_call_gives_up_retrying_within_the_budget_and_listeners_keep_theirs(stack: Stack) -> None:
    transport = get_firestore()._firestore_api._transport
    budget = settings().firestore_call_deadline_s
    long_lived = {transport.listen, transport.write}
    streams = {
        transport.batch_get_documents,
        transport.run_query,
        transport.run_aggregation_query,
        transport.execute_pipeline,
    }
    bounded = unary = 0
    for method, wrapped in transport._wrapped_methods.items():
        retry = getattr(wrapped, "_retry", None)
        if method in long_lived:
            assert retry is None or retry.timeout > budget  # a listener reconnects for as long as it lives
        elif retry is not None:
            assert retry.timeout is not None and retry.timeout <= budget, method
            bounded += 1
            if method in streams:
                # a long query's stream is not cut at the budget, only at the read deadline
                assert budget < wrapped._timeout <= settings().firestore_read_deadline_s, method
            else:
                assert wrapped._timeout <= budget, method  # nor is one attempt longer than the budget
                unary += 1
    assert bounded >= 10  # reads, queries, commits, transactions: not a transport that renamed its table
    assert unary >= 8  # commit, begin, rollback, batch write, the document calls


def test_an_unreachable_firestore_is_an_outage_after_the_budget_not_a_held_thread(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = free_port()  # nothing listens: every attempt is refused at once, as in an outage
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{closed}")
    monkeypatch.setenv("FIRESTORE_CALL_DEADLINE_S", "1")
    reset_settings()
    try:
        client = firestore_client._create()
        refs = [client.document("users/nobody"), client.document("rooms/nothing")]
        failures: list[BaseException] = []

        def read() -> None:
            try:
                list(client.get_all(refs))
            except Exception as exc:
                failures.append(exc)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(60)  # a liveness guard, not a timing: unbounded, the library retries for 300 s
        assert not reader.is_alive(), "the read was still retrying after 60 s"
        (failure,) = failures
        assert isinstance(failure, RetryError) and "Timeout of 1.0s" in str(failure), failure
        assert is_outage(failure)  # the route answers 503 with Retry-After
    finally:
        monkeypatch.undo()
        reset_settings()


def test_a_write_nobody_answers_is_an_outage_after_the_budget(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retries' total is checked between attempts only: a Firestore that takes the connection
    and never answers held a commit for its attempt's own 60 s."""
    monkeypatch.setenv("FIRESTORE_CALL_DEADLINE_S", "2")
    with _firestore_that_never_answers(monkeypatch):
        client = firestore_client._create()
        failures: list[BaseException] = []

        def write() -> None:
            try:
                client.document("users/nobody").set({"displayName": "x"})
            except Exception as exc:
                failures.append(exc)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        writer.join(30)  # a liveness guard, not a timing
        assert not writer.is_alive(), "the write was still waiting after 30 s"
        (failure,) = failures
        assert is_outage(failure), failure


def test_a_read_nobody_answers_ends_at_the_read_deadline(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read is a stream that a long query may legitimately keep open past the call budget, so its
    one attempt is bounded by FIRESTORE_READ_DEADLINE_S (the function's timeout when deployed), not
    by the budget; unbounded, a Firestore that takes the call and never answers held it for 300 s."""
    monkeypatch.setenv("FIRESTORE_CALL_DEADLINE_S", "1")
    monkeypatch.setenv("FIRESTORE_READ_DEADLINE_S", "2")
    with _firestore_that_never_answers(monkeypatch):
        client = firestore_client._create()
        reads: dict[str, Callable[[], Any]] = {
            "document": lambda: client.document("users/nobody").get(),
            "get_all": lambda: list(client.get_all([client.document("users/nobody")])),
            "query": lambda: list(client.collection("users").limit(1).stream()),
        }
        failures: dict[str, BaseException] = {}

        def attempt(name: str) -> None:
            try:
                reads[name]()
            except Exception as exc:
                failures[name] = exc

        readers = [threading.Thread(target=attempt, args=(name,), daemon=True) for name in reads]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(30)  # a liveness guard, not a timing
            assert not reader.is_alive(), "a read was still waiting after 30 s"
        assert set(failures) == set(reads), failures
        for name, failure in failures.items():
            assert is_outage(failure), (name, failure)


def test_a_retry_without_any_total_gets_the_budget_too(stack: Stack) -> None:
    client = firestore_client._create()  # its own transport: the shared client's table is not touched
    transport = client._firestore_api._transport
    wrapped = transport._wrapped_methods[transport.commit]
    wrapped._retry = wrapped._retry.with_timeout(None)  # what a library upgrade could bring
    firestore_client.bound_retries(client, 7)
    assert wrapped._retry.timeout == 7


def test_a_transaction_against_an_unreachable_firestore_ends_with_its_own_deadline(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call's retries are bounded by FIRESTORE_CALL_DEADLINE_S; inside a transaction they must
    also end when the transaction's deadline does, or a request waits out the call's budget."""
    closed = free_port()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{closed}")
    monkeypatch.setenv("FIRESTORE_CALL_DEADLINE_S", "120")
    reset_settings()
    try:
        client = firestore_client._create()
        monkeypatch.setattr(transactions, "get_firestore", lambda: client)
        failures: list[BaseException] = []

        def transact() -> None:
            try:
                transactions.run(
                    lambda t: transactions.read(t, client.document("users/nobody")), deadline_s=1
                )
            except Exception as exc:
                failures.append(exc)

        worker = threading.Thread(target=transact, daemon=True)
        worker.start()
        # A liveness guard, not a timing: bounded by the calls' own retries alone, the begin took 60 s.
        worker.join(30)
        assert not worker.is_alive(), "the transaction was still retrying after 30 s"
        (failure,) = failures
        # Nothing was contended: it is an outage (503 `unavailable`), not a `busy` transaction.
        assert not isinstance(failure, transactions.TransactionBusy), failure
        assert is_outage(failure), failure
    finally:
        monkeypatch.undo()
        reset_settings()


def test_a_rollback_nobody_answers_does_not_hold_the_request(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed transaction is rolled back to free its locks early; a Firestore that takes the
    connection and never answers must not keep the request waiting on that courtesy."""
    monkeypatch.setenv("FIRESTORE_CALL_DEADLINE_S", "120")
    with _firestore_that_never_answers(monkeypatch):
        transaction = firestore_client._create().transaction()
        transaction._id = b"begun-before-the-server-went-silent"
        worker = threading.Thread(target=transactions._rollback, args=(transaction,), daemon=True)
        worker.start()
        # A liveness guard, not a timing: the library's rollback has no timeout at all.
        worker.join(30)
        assert not worker.is_alive(), "the rollback was still waiting after 30 s"
        assert not transaction.in_progress
