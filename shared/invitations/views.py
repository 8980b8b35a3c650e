"""Database rows -> the API's camelCase JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.invitations import crypto
from shared.invitations.model import iso


def list_item(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "eventName": row["event_name"],
        "startTime": iso(row["start_time"]),
        "endTime": iso(row["end_time"]),
        "tag": row["tag"],
        "status": row["status"],
        "worldName": row["world_name"],
        "hostName": row["host_name"],
        "instanceType": row["instance_type"],
        "maxParticipants": row["max_participants"],
        "joinedCount": row["joined_count"],
    }


def detail(row: Mapping[Any, Any], viewer_id: str, viewer_is_staff: bool) -> dict[str, Any]:
    """Q2's row with its participants. The host's VRChat profile and the instance link (an invite
    into the VRChat instance) are shown to the host, staff and joined participants only; everyone
    signed in sees the rest."""
    participants = list(row["participants"])
    joined_ids = {p["userId"] for p in participants if p["status"] == "joined"}
    insider = viewer_is_staff or viewer_id == row["host_id"] or viewer_id in joined_ids
    return {
        **list_item(row),
        "threadId": row["thread_id"],
        "staffMessageId": row["staff_message_id"],
        "hostId": row["host_id"],
        "worldLink": row["world_link"],
        "description": row["description"],
        "vrchatProfile": crypto.decrypt(row["vrchat_profile"]) if insider else None,
        "instanceLink": crypto.decrypt(row["instance_link"]) if insider else None,
        "staffId": row["staff_id"],
        "staffName": row["staff_name"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "participants": participants,
    }


def participation(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "invitationId": row["id"],
        "eventName": row["event_name"],
        "startTime": iso(row["start_time"]),
        "endTime": iso(row["end_time"]),
        "tag": row["tag"],
        "invitationStatus": row["status"],
        "status": row["participation"],
        "since": iso(row["created_at"]),
    }


def ticket(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "userId": row["user_id"],
        "userName": row["user_name"],
        "category": row["category"],
        "status": row["status"],
        "createdAt": iso(row["created_at"]),
        "closedAt": iso(row["closed_at"]),
    }
