"""Firestore (native mode). Honors FIRESTORE_EMULATOR_HOST like the library does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import settings
from shared.lazy import Lazy

if TYPE_CHECKING:
    from google.cloud import firestore


def _create() -> firestore.Client:
    from google.cloud import firestore

    settings().firestore_emulator_host  # validates the variable's shape when it is set
    return firestore.Client(project=settings().project_id)


get_firestore: Lazy[firestore.Client] = Lazy(_create)
