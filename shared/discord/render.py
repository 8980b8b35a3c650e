"""Invitations, lists and tickets -> Discord message payloads (content, embeds, buttons).

Everything renders from the API's camelCase JSON (shared/invitations/views.py), so the message
posted first (from the validated modal) and every later edit (from the row) come out of the same
function, and an edit whose payload hashes the same as the last one sent is skipped.
Mentions inside embeds never ping, and `allowed_mentions` is empty so that content never does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shared.discord import commands, custom_ids, texts

# Button styles
PRIMARY, SECONDARY, SUCCESS, DANGER = 1, 2, 3, 4
ACTION_ROW, BUTTON = 1, 2
COLORS = {"recruiting": 0x57F287, "full": 0xFEE75C, "completed": 0x99AAB5, "cancelled": 0xED4245}
FIELD_MAX = 1024


def message_link(guild_id: str, channel_id: str, message_id: str) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def payload_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _unix(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time).timestamp())


def when(start_iso: str, end_iso: str) -> str:
    """Discord timestamps: each reader sees them in their own time zone and language."""
    return f"<t:{_unix(start_iso)}:F> 〜 <t:{_unix(end_iso)}:t>（<t:{_unix(start_iso)}:R>）"


def _button(label: str, custom_id: str, style: int, disabled: bool = False) -> dict[str, Any]:
    return {"type": BUTTON, "style": style, "label": label, "custom_id": custom_id, "disabled": disabled}


def _row(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": ACTION_ROW, "components": list(buttons)}


def _clip(lines: Iterable[str], limit: int = FIELD_MAX) -> str:
    out: list[str] = []
    size = 0
    items = list(lines)
    for index, line in enumerate(items):
        if size + len(line) + 1 > limit - 20:
            out.append(f"ほか{len(items) - index}人")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out) or "—"


def _world(invitation: Mapping[str, Any]) -> str:
    name = str(invitation["worldName"]).replace("[", "(").replace("]", ")")
    link = invitation.get("worldLink")
    return f"[{name}]({link})" if link else name


def mention(user_id: str, name: str) -> str:
    """A Discord member as a mention; a deleted account's pseudonym (not a Discord id) as the stored
    placeholder name, since `<@deleted-...>` would show as broken text."""
    return f"<@{user_id}>" if user_id.isdigit() else name


def _sender(ticket: Mapping[str, Any]) -> str:
    """Who sent a ticket: the mention and the name they gave, or only the placeholder of a deleted account."""
    user_id, name = str(ticket["userId"]), str(ticket["userName"])
    return f"<@{user_id}>（{name}）" if user_id.isdigit() else name


def _host(invitation: Mapping[str, Any], with_profile: bool = False) -> str:
    """The host; their VRChat profile only where the domain shows it (host, joined, staff: the staff
    channel), never in the public message (shared/invitations/views.py)."""
    host = mention(str(invitation["hostId"]), str(invitation.get("hostName") or ""))
    profile = invitation.get("vrchatProfile") if with_profile else None
    return f"{host}（[VRChat]({profile})）" if profile else host


def invitation_message(invitation: Mapping[str, Any]) -> dict[str, Any]:
    """The message in the invitations channel: the embed and the Join / Leave / Cancel / Take row."""
    status = invitation.get("status", "recruiting")
    joined = int(invitation.get("joinedCount", 0))
    final = status in ("completed", "cancelled")
    participants = [p for p in invitation.get("participants", []) if p.get("status") == "joined"]
    interested = [p for p in invitation.get("participants", []) if p.get("status") == "interested"]
    fields = [
        {"name": "日時", "value": when(invitation["startTime"], invitation["endTime"]), "inline": False},
        {"name": "ワールド", "value": _world(invitation), "inline": True},
        {"name": "タグ", "value": invitation["tag"], "inline": True},
        {
            "name": "インスタンス",
            "value": commands.INSTANCE_TYPE_LABELS.get(
                invitation["instanceType"], invitation["instanceType"]
            ),
            "inline": True,
        },
        {"name": "参加", "value": f"{joined}/{invitation['maxParticipants']}人", "inline": True},
        {"name": "状態", "value": texts.STATUS_LABELS.get(status, status), "inline": True},
        {"name": "主催", "value": _host(invitation), "inline": True},
    ]
    if invitation.get("staffName"):
        fields.append({"name": "担当スタッフ", "value": str(invitation["staffName"]), "inline": True})
    if participants:
        fields.append(
            {
                "name": "参加者",
                "value": _clip(mention(str(p["userId"]), str(p.get("userName") or "")) for p in participants),
                "inline": False,
            }
        )
    if interested:
        fields.append(
            {
                "name": "興味あり",
                "value": _clip(mention(str(p["userId"]), str(p.get("userName") or "")) for p in interested),
                "inline": False,
            }
        )
    full = status == "full"
    return {
        "content": "",
        "embeds": [
            {
                "title": invitation["eventName"],
                "description": invitation["description"],
                "color": COLORS.get(status, COLORS["recruiting"]),
                "fields": fields,
            }
        ],
        "components": [
            _row(
                _button(
                    texts.BUTTON_FULL if full else texts.BUTTON_JOIN,
                    custom_ids.invitation_button("join"),
                    SUCCESS,
                    final or full,
                ),
                _button(texts.BUTTON_LEAVE, custom_ids.invitation_button("leave"), SECONDARY, final),
                _button(texts.BUTTON_CANCEL, custom_ids.invitation_button("cancel"), DANGER, final),
                _button(texts.BUTTON_TAKE, custom_ids.invitation_button("take"), PRIMARY, final),
            )
        ],
        "allowed_mentions": {"parse": []},
    }


def staff_message(invitation: Mapping[str, Any], invitation_id: str, link: str) -> dict[str, Any]:
    """The notice in the staff channel: what, who, when, who from staff took it."""
    status = invitation.get("status", "recruiting")
    final = status in ("completed", "cancelled")
    return {
        "content": texts.STAFF_NEW_INVITATION.format(link=link),
        "embeds": [
            {
                "title": invitation["eventName"],
                "color": COLORS.get(status, COLORS["recruiting"]),
                "fields": [
                    {"name": "日時", "value": when(invitation["startTime"], invitation["endTime"])},
                    {"name": "主催", "value": _host(invitation, with_profile=True), "inline": True},
                    {"name": "状態", "value": texts.STATUS_LABELS.get(status, status), "inline": True},
                    {
                        "name": "担当スタッフ",
                        "value": str(invitation.get("staffName") or "未定"),
                        "inline": True,
                    },
                ],
            }
        ],
        "components": [
            _row(
                _button(
                    texts.BUTTON_TAKE, custom_ids.invitation_button("take", invitation_id), PRIMARY, final
                )
            )
        ],
        "allowed_mentions": {"parse": []},
    }


def ticket_message(ticket: Mapping[str, Any], content: str | None) -> dict[str, Any]:
    """A ticket in the staff channel, with its Close button."""
    closed = ticket["status"] == "closed"
    embed: dict[str, Any] = {
        "title": commands.TICKET_CATEGORY_LABELS.get(ticket["category"], ticket["category"]),
        "color": COLORS["completed" if closed else "full"],
        "fields": [
            {"name": "送信者", "value": _sender(ticket), "inline": True},
            {"name": "状態", "value": commands.TICKET_STATUS_LABELS[ticket["status"]], "inline": True},
        ],
    }
    if content:
        embed["description"] = content
    return {
        "content": texts.STAFF_NEW_TICKET.format(id=ticket["id"]),
        "embeds": [embed],
        "components": [
            _row(_button(texts.BUTTON_CLOSE_TICKET, custom_ids.ticket_close(ticket["id"]), DANGER, closed))
        ],
        "allowed_mentions": {"parse": []},
    }


def ephemeral(text: str) -> dict[str, Any]:
    return {"content": text, "flags": 64, "allowed_mentions": {"parse": []}}


def _list_reply(
    title: str, lines: list[str], next_id: str | None, extra_rows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    rows = list(extra_rows or [])
    if next_id is not None:
        rows.append(_row(_button(texts.NEXT_PAGE, next_id, SECONDARY)))
    return {
        "content": "",
        "embeds": [{"title": title, "description": "\n\n".join(lines)[:4000]}],
        "components": rows,
        "flags": 64,
        "allowed_mentions": {"parse": []},
    }


def invitation_list(
    items: list[dict[str, Any]], tag: str | None, next_id: str | None, guild_id: str, channel_id: str
) -> dict[str, Any]:
    lines = [
        f"**[{item['eventName']}]({message_link(guild_id, channel_id, item['id'])})**\n"
        f"<t:{_unix(item['startTime'])}:f> ・ {item['tag']} ・ {item['joinedCount']}/{item['maxParticipants']}人"
        f" ・ {texts.STATUS_LABELS.get(item['status'], item['status'])}"
        for item in items
    ]
    title = f"募集中のお誘い（{tag}）" if tag else "募集中のお誘い"
    return _list_reply(title, lines, next_id)


def participation_list(
    items: list[dict[str, Any]], next_id: str | None, guild_id: str, channel_id: str
) -> dict[str, Any]:
    labels = {"joined": "参加", "interested": "興味あり"}
    lines = [
        f"**[{item['eventName']}]({message_link(guild_id, channel_id, item['invitationId'])})**\n"
        f"<t:{_unix(item['startTime'])}:f> ・ {labels.get(item['status'], item['status'])}"
        f" ・ {texts.STATUS_LABELS.get(item['invitationStatus'], item['invitationStatus'])}"
        for item in items
    ]
    return _list_reply("参加予定・興味あり", lines, next_id)


def ticket_list(items: list[dict[str, Any]], status: str, next_id: str | None) -> dict[str, Any]:
    lines = [
        f"**#{item['id']}** {commands.TICKET_CATEGORY_LABELS.get(item['category'], item['category'])}"
        f" ・ {_sender(item)} ・ <t:{_unix(item['createdAt'])}:R>"
        for item in items
    ]
    open_items = [item for item in items if item["status"] == "open"]
    rows = [
        _row(
            *(
                _button(
                    f"#{item['id'][-6:]} {texts.BUTTON_CLOSE_TICKET}",
                    custom_ids.ticket_close(item["id"]),
                    DANGER,
                )
                for item in open_items[start : start + 5]
            )
        )
        for start in range(0, len(open_items), 5)
    ][:4]
    title = f"チケット（{commands.TICKET_STATUS_LABELS[status]}）"
    return _list_reply(title, lines, next_id, rows)
