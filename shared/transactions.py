"""Firestore transactions with a bounded total time.

The client library retries an aborted transaction up to `max_attempts` times and lets each read
wait on document locks for as long as the server allows; under contention (sixteen requests of one
user at once) that held every request thread of an instance for a minute. Here a transaction has a
deadline: its begin, each read and the commit get only the time that is left, for one attempt and
for all of the library's retries together, an aborted attempt is retried with jittered backoff
while time remains, and a transaction out of time is rolled back and answered 503 `busy` with
Retry-After, so the request thread is free again within seconds. A Firestore that does not answer at
all ends the same way but as an outage (503 `unavailable`).
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from shared.clients.firestore import get_firestore, in_order, retry_within
from shared.config import settings
from shared.errors import Busy

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, DocumentSnapshot, Transaction

T = TypeVar("T")
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("firestore_deadline", default=None)
FIRST_BACKOFF_S = 0.02
MAX_BACKOFF_S = 0.5
ROLLBACK_TIMEOUT_S = 1.0


class TransactionBusy(Busy):
    """Out of time: the documents are contended. Safe to retry after a moment."""


def remaining_s() -> float:
    """Seconds left in the current transaction (or the default budget outside one)."""
    deadline = _deadline.get()
    if deadline is None:
        return float(settings().firestore_transaction_deadline_s)
    return deadline - time.monotonic()


def _left_or_busy() -> float:
    left = remaining_s()
    if left <= 0:
        raise TransactionBusy()
    return left


def _within_time_left(transaction: Transaction, method: str) -> dict[str, Any]:
    """`retry` and `timeout` for a call of the transaction: both end when its time does."""
    left = _left_or_busy()
    return {"retry": retry_within(transaction._client, method, left), "timeout": left}


def read(transaction: Transaction, *refs: DocumentReference) -> list[DocumentSnapshot]:
    """Snapshots of `refs` inside the transaction, in the order given, within the time left."""
    snapshots = transaction.get_all(list(refs), **_within_time_left(transaction, "batch_get_documents"))
    return in_order(refs, snapshots)


def _begin(transaction: Transaction, retry_id: Any) -> None:
    # Transaction._begin() passes neither retry nor timeout; this is the same request within the time left.
    client = transaction._client
    response = client._firestore_api.begin_transaction(
        request={"database": client._database_string, "options": transaction._options_protobuf(retry_id)},
        metadata=client._rpc_metadata,
        **_within_time_left(transaction, "begin_transaction"),
    )
    transaction._id = response.transaction


def _commit(transaction: Transaction) -> None:
    # Transaction._commit() passes no timeout; this is the same request within the time left.
    client = transaction._client
    response = client._firestore_api.commit(
        request={
            "database": client._database_string,
            "writes": transaction._write_pbs,
            "transaction": transaction._id,
        },
        metadata=client._rpc_metadata,
        **_within_time_left(transaction, "commit"),
    )
    transaction._clean_up()
    transaction.write_results = list(response.write_results)
    transaction.commit_time = response.commit_time


def _rollback(transaction: Transaction) -> None:
    # A rollback only frees the transaction's locks early: the server drops an abandoned transaction on
    # its own. So it gets one short attempt even when the transaction is out of time, instead of the
    # library's (no timeout, FIRESTORE_CALL_DEADLINE_S of retries) after a call already failed.
    if not transaction.in_progress:
        return
    client = transaction._client
    try:
        client._firestore_api.rollback(
            request={"database": client._database_string, "transaction": transaction._id},
            metadata=client._rpc_metadata,
            retry=None,
            timeout=ROLLBACK_TIMEOUT_S,
        )
    except Exception:
        pass
    finally:
        transaction._clean_up()


def run(body: Callable[[Transaction], T], *, deadline_s: float | None = None) -> T:
    """Run `body(transaction)` and commit, retrying aborts until the deadline; its result."""
    from google.api_core import exceptions

    budget = deadline_s if deadline_s is not None else settings().firestore_transaction_deadline_s
    token = _deadline.set(time.monotonic() + budget)
    transaction = get_firestore().transaction(max_attempts=1)
    retry_id: Any = None
    backoff = FIRST_BACKOFF_S
    try:
        while True:
            transaction._clean_up()
            try:
                # Retrying with the first attempt's id keeps its place in the lock queue.
                _begin(transaction, retry_id)
                retry_id = retry_id or transaction._id
                result = body(transaction)
                _commit(transaction)
                return result
            except exceptions.Aborted:
                transaction._clean_up()
                if remaining_s() <= backoff:
                    raise TransactionBusy() from None
                time.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            except exceptions.DeadlineExceeded:
                _rollback(transaction)
                raise TransactionBusy() from None
            except exceptions.RetryError as exc:
                _rollback(transaction)
                if isinstance(exc.cause, (exceptions.DeadlineExceeded, exceptions.Aborted)):
                    raise TransactionBusy() from None
                # Every attempt failed as unreachable: an outage (503 `unavailable`, a redelivered
                # event), not contention, or an operator reads "busy" while Firestore is down.
                raise
            except BaseException:
                _rollback(transaction)
                raise
    finally:
        _deadline.reset(token)
