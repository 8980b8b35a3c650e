"""The bot's slash commands: the one list `make discord-commands` registers (bulk overwrite of the
guild's commands, so a command removed here disappears from Discord too) and the handlers read.

Choices come from the domain's allowed values (shared/invitations/model.py), so Discord's picker can
only offer what the database accepts. The free-text parts of `/invite` and `/ticket` are asked in a
modal (shared/discord/handlers.py): a modal holds at most five inputs, so the fixed choices (tag,
instance type, seats, ticket category) are command options instead.
"""

from __future__ import annotations

from typing import Any

from shared.invitations import model

# Command option types (Discord "Application Command Option Type")
STRING = 3
INTEGER = 4
# Where commands may run: in the guild only (staff and channels are guild things).
GUILD_CONTEXT = 0
GUILD_INSTALL = 0

INVITE = "invite"
INVITES = "invites"
MINE = "mine"
TICKET = "ticket"
TICKETS = "tickets"

INSTANCE_TYPE_LABELS = {
    "group": "グループ",
    "friend": "フレンド",
    "friendplus": "フレンド+",
    "public": "パブリック",
}
TICKET_CATEGORY_LABELS = {"question": "質問", "trouble": "トラブル", "other": "その他"}
TICKET_STATUS_LABELS = {"open": "対応中", "closed": "クローズ済み"}


def _choices(values: tuple[str, ...], labels: dict[str, str] | None = None) -> list[dict[str, str]]:
    return [{"name": (labels or {}).get(value, value), "value": value} for value in values]


def _command(name: str, ja_name: str, description: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "name_localizations": {"ja": ja_name},
        "type": 1,  # CHAT_INPUT
        "description": description,
        "options": options,
        "contexts": [GUILD_CONTEXT],
        "integration_types": [GUILD_INSTALL],
    }


COMMANDS: list[dict[str, Any]] = [
    _command(
        INVITE,
        "募集",
        "お誘いを募集します（内容は次の画面で入力）",
        [
            {
                "type": STRING,
                "name": "tag",
                "name_localizations": {"ja": "タグ"},
                "description": "募集のタグ",
                "required": True,
                "choices": _choices(model.TAGS),
            },
            {
                "type": STRING,
                "name": "instance_type",
                "name_localizations": {"ja": "インスタンス"},
                "description": "インスタンスの種類",
                "required": True,
                "choices": _choices(model.INSTANCE_TYPES, INSTANCE_TYPE_LABELS),
            },
            {
                "type": INTEGER,
                "name": "max_participants",
                "name_localizations": {"ja": "定員"},
                "description": "定員（1〜100人）",
                "required": True,
                "min_value": 1,
                "max_value": model.MAX_PARTICIPANTS,
            },
        ],
    ),
    _command(
        INVITES,
        "募集一覧",
        "募集中のお誘いを表示します",
        [
            {
                "type": STRING,
                "name": "tag",
                "name_localizations": {"ja": "タグ"},
                "description": "タグで絞り込む",
                "required": False,
                "choices": _choices(model.TAGS),
            }
        ],
    ),
    _command(MINE, "参加予定", "自分が参加・興味ありのお誘いを表示します", []),
    _command(
        TICKET,
        "問い合わせ",
        "スタッフに問い合わせます（内容は次の画面で入力）",
        [
            {
                "type": STRING,
                "name": "category",
                "name_localizations": {"ja": "種類"},
                "description": "問い合わせの種類",
                "required": True,
                "choices": _choices(model.TICKET_CATEGORIES, TICKET_CATEGORY_LABELS),
            }
        ],
    ),
    _command(
        TICKETS,
        "チケット一覧",
        "【スタッフ】問い合わせチケットを一覧・クローズします",
        [
            {
                "type": STRING,
                "name": "status",
                "name_localizations": {"ja": "状態"},
                "description": "表示する状態（既定: 対応中）",
                "required": False,
                "choices": _choices(model.TICKET_STATUSES, TICKET_STATUS_LABELS),
            }
        ],
    ),
]


def names() -> set[str]:
    return {command["name"] for command in COMMANDS}
