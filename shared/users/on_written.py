"""`on_user_written`: a user's status change that did not come through the server, and what follows
a user going offline or being deleted.

Server transitions (shared.users.state) mirror their status to Redis themselves; this trigger
mirrors the ones clients write directly (the rules let a client set `online` / `offline`), and takes
a user who went offline out of the queue and their room. A write that leaves `status` as it was does
nothing beyond decoding the event; a status Redis already mirrors (or a server status while Redis
holds one) costs one Redis read. Every
effect is idempotent: the mirror SET, the queue removal and the room leave (a transaction).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import documents, vocab
from shared.firestore_events import DocumentChange
from shared.users import state


def handle_user_change(change: DocumentChange) -> dict[str, Any]:
    uid = change.doc_id
    before, after = change.before or {}, change.after
    result: dict[str, Any] = {"uid": uid}
    if after is None:
        state.forget_presence(uid)
        result["presence"] = "deleted"
        result.update(_leave_everything(uid, state.current_room(before)))
        return result

    status = after.get("status")
    if not change.field_changed("status") or status not in vocab.USER_STATUSES:
        result["skipped"] = "no relevant change"
        return result
    if status != vocab.OFFLINE and _mirrored_already(uid, status):
        result["skipped"] = "already mirrored"
        return result
    # Events can arrive late: act on the document as it is now, not as this event saw it, so an
    # older "online" cannot overwrite a newer "offline".
    snapshot = documents.user(uid).get()
    current = snapshot.to_dict() if snapshot.exists else None
    if current is None or current.get("status") not in vocab.USER_STATUSES:
        result["skipped"] = "deleted or changed since"  # that write's own event does the work
        return result
    state.mirror_presence({uid: current["status"]}, just_written=False)
    result["presence"] = current["status"]
    if current["status"] == vocab.OFFLINE:
        result.update(_leave_everything(uid, state.current_room(current)))
    return result


def _mirrored_already(uid: str, status: str) -> bool:
    """Whether the mirror needs nothing from this event. Only the server writes 'matching' and
    'in_call', and it mirrors them itself after the commit: when the mirror holds either, this event
    is that transition or one older than the mirrored one (each pairing seats a user 'matching' ->
    'in_call' and the first event usually arrives after both), so reading the document would only
    confirm it. A mirror that is missing or says 'online' may have missed the server's mirror write
    (a crash after the commit): then the document decides."""
    mirrored = state.mirrored_status(uid)
    return mirrored == status or (status in vocab.SERVER_STATUSES and mirrored in vocab.SERVER_STATUSES)


def _leave_everything(uid: str, room_id: str | None) -> dict[str, Any]:
    from shared.matching.queue import remove_from_queue

    outcome: dict[str, Any] = {"leftQueue": remove_from_queue(uid, reason="offline")}
    if room_id:
        from shared.rooms.membership import leave

        outcome["leftRoom"] = leave(uid, room_id, datetime.now(UTC), missing_ok=True).changed
    return outcome
