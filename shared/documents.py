"""Firestore document references by what they are, built from the names in `vocab`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import vocab
from shared.clients.firestore import get_firestore

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference


def user(uid: str) -> DocumentReference:
    return get_firestore().collection(vocab.USERS).document(uid)


def queue_entry(uid: str) -> DocumentReference:
    """`matchingQueue/{uid}`: the user's random-matching request, authoritative for pairing."""
    return get_firestore().collection(vocab.MATCHING_QUEUE).document(uid)


def room(room_id: str) -> DocumentReference:
    return get_firestore().collection(vocab.ROOMS).document(room_id)


def new_room() -> DocumentReference:
    """A reference with a fresh auto id (nothing is written)."""
    return get_firestore().collection(vocab.ROOMS).document()


def room_code(code: str) -> DocumentReference:
    return get_firestore().collection(vocab.ROOM_CODES).document(code)


def call_session(room_id: str) -> DocumentReference:
    """A room's call session shares the room's id: a room activates at most once."""
    return get_firestore().collection(vocab.CALL_SESSIONS).document(room_id)


def block(uid: str, other: str) -> DocumentReference:
    """`users/{uid}/blocks/{other}`: `uid` blocked `other`."""
    return user(uid).collection(vocab.BLOCKS).document(other)


def report(report_id: str) -> DocumentReference:
    return get_firestore().collection(vocab.REPORTS).document(report_id)


def suspension(uid: str) -> DocumentReference:
    return get_firestore().collection(vocab.SUSPENSIONS).document(uid)


def suspension_marker(uid: str) -> DocumentReference:
    """`users/{uid}/private/suspension`: `{until}` while `uid` is suspended, for the checks and the
    owner's eyes only (the record with its reason and author is `suspensions/{uid}`)."""
    return user(uid).collection(vocab.PRIVATE).document(vocab.SUSPENSION)


def account_deletion(uid: str) -> DocumentReference:
    return get_firestore().collection(vocab.ACCOUNT_DELETIONS).document(uid)
