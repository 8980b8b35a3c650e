"""Firestore (native mode). Honors FIRESTORE_EMULATOR_HOST like the library does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from shared import vocab
from shared.config import settings
from shared.lazy import Lazy

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.firestore import DocumentReference, DocumentSnapshot


def _create() -> firestore.Client:
    from google.cloud import firestore

    _ = settings().firestore_emulator_host  # validates the variable's shape when it is set
    _read_streams_on_the_calling_thread()
    client = firestore.Client(project=settings().project_id)
    bound_retries(client, settings().firestore_call_deadline_s, settings().firestore_read_deadline_s)
    return client


def bound_retries(client: firestore.Client, budget_s: float, read_deadline_s: float | None = None) -> None:
    """The library retries a call that fails as unavailable for up to 60 s, a read or a query for up
    to 300 s, so while Firestore was unreachable every request held its thread that long (measured
    against a closed port: a two-document get_all had not returned after 200 s). Each call's retries
    now stop after `budget_s`, with RetryError, an outage (shared/outages.py): a request answers 503
    with Retry-After, an event is redelivered. The listener and write streams live for hours by
    design and keep theirs.

    A retry's total is only checked between attempts, so a Firestore that takes a call and never
    answers would still hold it for one attempt's own timeout (60 s). A unary call (a commit, a
    begin, a rollback) needs no longer than the budget, so its attempts are bounded too. Reads are
    streams, a document's `get()` included (BatchGetDocuments), and a long query legitimately takes
    longer than the budget: one attempt of those lasts at most `read_deadline_s`
    (FIRESTORE_READ_DEADLINE_S, the function's own timeout when deployed), after which the platform
    has ended the request and nobody waits for the answer.

    The library takes no default retry per client, only per call; its generated transport keeps the
    wrapped defaults in `_wrapped_methods` (tests/test_firestore_client.py checks every method). A
    retry without any total (none in the pinned library) gets the budget as well."""
    transport = client._firestore_api._transport
    long_lived = {transport.listen, transport.write}
    streams = {getattr(transport, name, None) for name in _READ_STREAMS}
    for method, wrapped in transport._wrapped_methods.items():
        retry = getattr(wrapped, "_retry", None)
        if method in long_lived or retry is None:
            continue
        if retry.timeout is None or retry.timeout > budget_s:
            wrapped._retry = retry.with_timeout(budget_s)
        attempt = getattr(wrapped, "_timeout", None)
        limit = read_deadline_s if method in streams else budget_s
        if limit is not None and isinstance(attempt, (int, float)) and attempt > limit:
            wrapped._timeout = limit


# The transport's server-streaming reads: one attempt of these lasts as long as the answer does,
# up to the read deadline.
_READ_STREAMS = ("batch_get_documents", "run_query", "run_aggregation_query", "execute_pipeline")


def retry_within(client: firestore.Client, method: str, seconds: float) -> Any:
    """The default retry of the transport's `method` (e.g. 'commit'), its total cut to `seconds`:
    for a call that must end within what is left of a deadline (a call's `timeout` bounds one
    attempt only). The library's own default when the method has no retry."""
    from google.api_core import gapic_v1

    transport = client._firestore_api._transport
    retry = getattr(transport._wrapped_methods.get(getattr(transport, method)), "_retry", None)
    return retry.with_timeout(seconds) if retry is not None else gapic_v1.method.DEFAULT


def in_order(
    refs: Sequence[DocumentReference], snapshots: Iterable[DocumentSnapshot]
) -> list[DocumentSnapshot]:
    """A get_all's `snapshots` in the order of `refs` (the server answers in any order)."""
    found = {snap.reference.path: snap for snap in snapshots}
    return [found[ref.path] for ref in refs]


def _read_streams_on_the_calling_thread() -> None:
    """Every document read and query is a server-streaming RPC (BatchGetDocuments, RunQuery), and
    grpc's Python layer starts a new thread for each one (its "channel spin" thread lives only while
    a call is open) unless the channel has this option, with which the caller's thread reads the
    stream itself. Measured against the emulator: a two-document get_all went from p50 1.69 /
    p95 4.86 ms to 1.09 / 2.02 ms. Bidirectional streams (listeners) are not affected.

    The library builds its channels from these two option lists (one for Google, one for the
    emulator) and offers no parameter for them; tests/test_firestore_client.py checks that a read
    and a query start no thread, so a library upgrade that moves the lists fails there."""
    import grpc.experimental
    from google.cloud.firestore_v1 import base_client

    option = (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)
    for options in (base_client._DEFAULT_CHANNEL_OPTIONS, base_client._GRPC_MSG_SIZE_OPTIONS):
        if option not in options:
            options.append(option)


get_firestore: Lazy[firestore.Client] = Lazy(_create)


def ping(timeout_s: float = 2.0) -> None:
    """Health check: a read of a document that need not exist (reachability and credentials)."""
    # retry=None: one attempt, so /healthz says "down" within the timeout instead of retrying for a minute.
    get_firestore().collection(vocab.HEALTH_PROBE).document("probe").get(timeout=timeout_s, retry=None)
