"""Playing Discord against the test stack: members, signed interactions, the stand-in's records."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy

from devstack.stack import Stack
from shared.discord.jst import JST
from standins import discord_tools
from tests.conftest import http, wait_for


def snowflake() -> str:
    return str(uuid.uuid4().int)[:18]


@dataclass
class Discord:
    stack: Stack
    info: dict[str, Any]

    @property
    def standin(self) -> str:
        return discord_tools.standin_url(self.info)

    @property
    def staff_role(self) -> str:
        return str(self.info["staffRoleId"])

    # -- members and interactions -----------------------------------------------------------------
    def member(self, staff: bool = False, name: str | None = None) -> dict[str, Any]:
        user_id = snowflake()
        return discord_tools.member(
            user_id, name or f"メンバー{user_id[-4:]}", [self.staff_role] if staff else []
        )

    def send(self, payload: dict[str, Any]) -> tuple[int, Any]:
        return discord_tools.send(self.info, payload)

    def command(self, who: dict[str, Any], name: str, **options: Any) -> dict[str, Any]:
        status, answer = self.send(discord_tools.command(self.info, who, name, options))
        assert status == 200, answer
        return dict(answer)

    def click(
        self, who: dict[str, Any], custom_id: str, message_id: str, channel_id: str | None = None
    ) -> dict[str, Any]:
        message = {"id": message_id, "channel_id": channel_id or self.info["channelId"]}
        status, answer = self.send(discord_tools.button(self.info, who, custom_id, message))
        assert status == 200, answer
        return dict(answer)

    def submit(
        self, who: dict[str, Any], custom_id: str, values: dict[str, str]
    ) -> tuple[dict[str, Any], str]:
        payload = discord_tools.modal_submit(self.info, who, custom_id, values)
        status, answer = self.send(payload)
        assert status == 200, answer
        return dict(answer), str(payload["id"])

    # -- invitations ------------------------------------------------------------------------------
    def invite(
        self,
        host: dict[str, Any],
        *,
        tag: str = "観光",
        instance_type: str = "friend",
        seats: int = 3,
        **values: str,
    ) -> tuple[dict[str, Any], str]:
        """/invite then the modal; returns (the submit's answer, the interaction id)."""
        modal = self.command(host, "invite", tag=tag, instance_type=instance_type, max_participants=seats)
        assert modal["type"] == 9, modal
        return self.submit(host, modal["data"]["custom_id"], {**invitation_values(), **values})

    def posted(self, interaction_id: str, timeout_s: float = 20.0) -> dict[str, Any]:
        """The finished post job of an /invite: messageId, threadId, staffMessageId..."""
        return dict(
            wait_for(lambda: finished_job(self.stack, f"invitation.post:{interaction_id}"), timeout_s)
        )

    def new_invitation(self, host: dict[str, Any], **kwargs: Any) -> str:
        answer, interaction_id = self.invite(host, **kwargs)
        assert "受け付けました" in answer["data"]["content"], answer
        return str(self.posted(interaction_id)["messageId"])

    # -- the stand-in -----------------------------------------------------------------------------
    def message(self, message_id: str) -> dict[str, Any] | None:
        status, body, _ = http("GET", f"{self.standin}/_messages/{message_id}")
        return body if status == 200 else None

    def original(self, token: str) -> dict[str, Any] | None:
        status, body, _ = http("GET", f"{self.standin}/_originals/{urllib.parse.quote(token)}")
        return body if status == 200 else None

    def calls(self, since: int = 0, route: str | None = None) -> list[dict[str, Any]]:
        _, body, _ = http("GET", f"{self.standin}/_calls?since={since}")
        return [c for c in body["calls"] if route is None or c["route"] == route]

    def last_call(self) -> int:
        _, body, _ = http("GET", f"{self.standin}/_calls?since=999999999")
        return int(body["last"])

    def fault(self, **fault: Any) -> None:
        status, _, _ = http("POST", f"{self.standin}/_faults", fault)
        assert status == 200

    def clear_faults(self) -> None:
        http("DELETE", f"{self.standin}/_faults")

    def wait_for_message(self, message_id: str, predicate: Any, timeout_s: float = 20.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            message = self.message(message_id)
            return message if message is not None and predicate(message) else None

        return dict(wait_for(check, timeout_s))


def invitation_values(days: int = 2) -> dict[str, str]:
    day = (datetime.now(JST) + timedelta(days=days)).strftime("%Y-%m-%d")
    return {
        "event_name": "夜の観光ツアー",
        "when": f"{day} 21:00 - 23:00",
        "world": "The Great Pug\nhttps://vrchat.com/home/world/wrld_1",
        "description": "ゆっくり巡ります",
        "links": "https://vrchat.com/home/user/usr_host\nhttps://vrchat.com/home/launch?worldId=wrld_1&instanceId=1",
    }


def field(message: dict[str, Any], name: str) -> str | None:
    for item in message["embeds"][0]["fields"]:
        if item["name"] == name:
            return str(item["value"])
    return None


def buttons(message: dict[str, Any]) -> dict[str, bool]:
    """custom_id -> disabled."""
    return {b["custom_id"]: b["disabled"] for row in message["components"] for b in row["components"]}


def db(stack: Stack, query: str, **params: Any) -> Any:
    from shared.clients.postgres import get_engine

    with get_engine().begin() as conn:
        result = conn.execute(sqlalchemy.text(query), params)
        return result.mappings().first() if result.returns_rows else None


def finished_job(stack: Stack, key: str) -> dict[str, Any] | None:
    row = db(stack, "SELECT progress, done_at FROM discord_jobs WHERE job_key = :key", key=key)
    if row is None or row["done_at"] is None:
        return None
    progress = row["progress"]
    return dict(progress if isinstance(progress, dict) else json.loads(progress))
