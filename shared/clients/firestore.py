"""Firestore (native mode). Honors FIRESTORE_EMULATOR_HOST like the library does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import vocab
from shared.config import settings
from shared.lazy import Lazy

if TYPE_CHECKING:
    from google.cloud import firestore


def _create() -> firestore.Client:
    from google.cloud import firestore

    _ = settings().firestore_emulator_host  # validates the variable's shape when it is set
    return firestore.Client(project=settings().project_id)


get_firestore: Lazy[firestore.Client] = Lazy(_create)


def ping(timeout_s: float = 2.0) -> None:
    """Health check: a read of a document that need not exist (reachability and credentials)."""
    # retry=None: one attempt, so /healthz says "down" within the timeout instead of retrying for a minute.
    get_firestore().collection(vocab.HEALTH_PROBE).document("probe").get(timeout=timeout_s, retry=None)
