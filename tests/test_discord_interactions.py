"""discord_interactions end to end: signed requests through the gateway, every command and button,
the worker posting and editing through the Discord stand-in, PostgreSQL underneath."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from devstack.stack import Stack
from shared.discord import texts
from shared.invitations import crypto
from standins import discord_tools
from tests.conftest import http, wait_for
from tests.discord_helpers import Discord, buttons, db, field, snowflake

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def discord(stack: Stack) -> Discord:
    return Discord(stack, stack.info()["discord"])


def content(answer: dict[str, Any]) -> str:
    assert answer["type"] == 4 and answer["data"]["flags"] == 64, answer  # ephemeral
    return str(answer["data"]["content"])


# -- the local stack ------------------------------------------------------------------------------
def test_stack_json_describes_the_local_discord(discord: Discord) -> None:
    from shared.discord.signature import public_key_of

    info = discord.info
    assert set(info) == {
        "apiUrl",
        "applicationId",
        "publicKey",
        "testSigningKey",
        "guildId",
        "channelId",
        "staffChannelId",
        "staffRoleId",
        "interactionsUrl",
    }
    assert public_key_of(info["testSigningKey"]) == info["publicKey"] and len(info["publicKey"]) == 64
    assert info["interactionsUrl"] == f"{discord.stack.gateway_url}/discord_interactions"
    saved = json.loads((discord.stack.state_dir / "stack.json").read_text())["discord"]
    assert saved == info


def test_the_commands_of_the_one_file_are_registered_at_start_and_by_the_command(discord: Discord) -> None:
    from deploy.discord_commands import register
    from shared.discord.commands import COMMANDS

    _, registered, _ = http("GET", f"{discord.standin}/_commands")
    assert [c["name"] for c in registered[discord.info["guildId"]]] == [c["name"] for c in COMMANDS]
    token = json.loads((discord.stack.state_dir / "secrets.json").read_text())["DISCORD_BOT_TOKEN"]
    again = register(discord.info["apiUrl"], discord.info["applicationId"], discord.info["guildId"], token)
    assert [c["name"] for c in again] == [c["name"] for c in COMMANDS] and all(c["id"] for c in again)


# -- the endpoint: signatures ---------------------------------------------------------------------
def test_a_signed_ping_gets_pong(discord: Discord) -> None:
    status, answer = discord.send(discord_tools.ping(discord.info))
    assert (status, answer) == (200, {"type": 1})


@pytest.mark.parametrize(
    "case", ["tampered", "stale", "wrong key", "no signature", "no timestamp", "garbage"]
)
def test_a_bad_signature_is_a_401(discord: Discord, case: str) -> None:
    body = json.dumps(discord_tools.ping(discord.info)).encode()
    seed = discord.info["testSigningKey"]
    headers = discord_tools.signed_headers(seed, body)
    if case == "tampered":
        body = body.replace(b'"type": 1', b'"type": 2')
    elif case == "stale":
        headers = discord_tools.signed_headers(seed, body, str(int(time.time()) - 3600))
    elif case == "wrong key":
        headers = discord_tools.signed_headers("42" * 32, body)
    elif case == "no signature":
        del headers["X-Signature-Ed25519"]
    elif case == "no timestamp":
        del headers["X-Signature-Timestamp"]
    else:
        headers["X-Signature-Ed25519"] = "not hex at all"
    status, answer = discord_tools.post(discord.info["interactionsUrl"], body, headers)
    assert status == 401 and answer["error"]["code"] == "invalid_signature"


def test_outside_the_guild_and_other_guilds_are_answered_politely(discord: Discord) -> None:
    who = discord.member()
    payload = discord_tools.command(discord.info, who, "mine")
    dm = {k: v for k, v in payload.items() if k not in ("member", "guild_id")} | {"user": who["user"]}
    assert content(discord.send(dm)[1]) == texts.GUILD_ONLY
    assert content(discord.send({**payload, "guild_id": snowflake()})[1]) == texts.WRONG_GUILD


# -- /invite ----------------------------------------------------------------------------------------
def test_invite_posts_the_message_thread_and_staff_notice_then_stores_the_row(discord: Discord) -> None:
    host = discord.member(name="ホストさん")
    answer, interaction_id = discord.invite(host, seats=4)
    assert content(answer) == texts.INVITE_ACCEPTED.format(channel=discord.info["channelId"])
    job = discord.posted(interaction_id)
    message_id = job["messageId"]
    assert job["threadId"] == message_id  # a thread started from a message shares its id
    message = discord.message(message_id)
    assert message is not None and message["channel_id"] == discord.info["channelId"]
    assert message["nonce"] == interaction_id and message["thread"]["name"] == "夜の観光ツアー"
    assert message["embeds"][0]["title"] == "夜の観光ツアー" and field(message, "参加") == "0/4人"
    # The host's VRChat profile and the instance link are for joiners, host and staff (the domain's
    # rule): not in the public message; the staff channel's shows the profile.
    assert field(message, "主催") == f"<@{host['user']['id']}>"
    assert "instanceId" not in json.dumps(message) and "usr_host" not in json.dumps(message)
    assert set(buttons(message)) == {"inv:join", "inv:leave", "inv:cancel", "inv:take"}
    staff = discord.message(job["staffMessageId"])
    assert staff is not None and staff["channel_id"] == discord.info["staffChannelId"]
    assert message_id in staff["content"] and buttons(staff) == {f"inv:take:{message_id}": False}
    assert (
        field(staff, "主催") == f"<@{host['user']['id']}>（[VRChat](https://vrchat.com/home/user/usr_host)）"
    )
    row = db(discord.stack, "SELECT * FROM invitations WHERE id = :id", id=message_id)
    assert (row["thread_id"], row["staff_message_id"]) == (message_id, job["staffMessageId"])
    assert (row["host_id"], row["host_name"], row["max_participants"]) == (
        host["user"]["id"],
        "ホストさん",
        4,
    )
    assert (row["tag"], row["instance_type"], row["world_link"]) == (
        "観光",
        "friend",
        "https://vrchat.com/home/world/wrld_1",
    )
    assert row["instance_link"].startswith("gAAAA") and "instanceId=1" in str(
        crypto.decrypt(row["instance_link"])
    )
    assert row["start_time"].hour == 12  # 21:00 JST stored as UTC
    payload_token = next(
        c
        for c in discord.calls(route="PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original")
        if message_id in json.dumps(c["json"])
    )
    assert payload_token["json"]["content"].startswith("募集を投稿しました")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"when": "来週のどこか"}, "日時は"),
        ({"when": "2020-01-01 21:00 - 23:00"}, texts.FIELD_RULES["endTime"]),
        ({"world": "The Great Pug\nhttp://insecure.example"}, texts.FIELD_RULES["worldLink"]),
        ({"world": "a\nb\nc"}, "ワールドは"),
        ({"event_name": "x" * 201}, texts.FIELD_RULES["eventName"]),
        ({"links": "https://vrchat.com/home/user/a\nhttps://vrchat.com/home/user/b"}, "それぞれ1つまで"),
        ({"links": "ftp://instance"}, texts.FIELD_RULES["instanceLink"]),
    ],
)
def test_invalid_invitations_are_refused_at_once_in_japanese(
    discord: Discord, values: dict[str, str], expected: str
) -> None:
    before = discord.last_call()
    answer, interaction_id = discord.invite(discord.member(), **values)
    assert expected in content(answer)
    assert (
        db(
            discord.stack,
            "SELECT 1 FROM discord_jobs WHERE job_key = :k",
            k=f"invitation.post:{interaction_id}",
        )
        is None
    )
    assert discord.calls(before, "POST /channels/{channel_id}/messages") == []


def test_invite_options_outside_the_choices_are_refused(discord: Discord) -> None:
    status, _ = discord.send(
        discord_tools.command(
            discord.info,
            discord.member(),
            "invite",
            {"tag": "釣り", "instance_type": "group", "max_participants": 3},
        )
    )
    assert status == 400
    answer = discord.command(
        discord.member(), "invite", tag="観光", instance_type="group", max_participants=101
    )
    assert content(answer) == texts.FIELD_RULES["maxParticipants"]


# -- buttons ----------------------------------------------------------------------------------------
def test_join_leave_and_full_edit_the_message(discord: Discord) -> None:
    host, bob, carol, dave = (discord.member() for _ in range(4))
    invitation = discord.new_invitation(host, seats=2)
    joined = content(discord.click(bob, "inv:join", invitation))
    assert joined.startswith("「夜の観光ツアー」に参加しました（1/2人）") and "instanceId=1" in joined
    assert "主催のVRChat: https://vrchat.com/home/user/usr_host" in joined
    discord.wait_for_message(invitation, lambda m: field(m, "参加") == "1/2人")
    assert "1/2人" in content(discord.click(bob, "inv:join", invitation))  # joining twice changes nothing
    content(discord.click(carol, "inv:join", invitation))
    full = discord.wait_for_message(invitation, lambda m: field(m, "状態") == "満員")
    assert (
        buttons(full)["inv:join"] is True
        and field(full, "参加者") == f"<@{bob['user']['id']}>\n<@{carol['user']['id']}>"
    )
    assert content(discord.click(dave, "inv:join", invitation)) == texts.CODES["invitation_full"]
    assert content(discord.click(bob, "inv:leave", invitation)).startswith(
        "「夜の観光ツアー」への参加を取り消しました（1/2人）"
    )
    again = discord.wait_for_message(invitation, lambda m: field(m, "状態") == "募集中")
    assert buttons(again)["inv:join"] is False and field(again, "参加") == "1/2人"
    assert content(discord.click(bob, "inv:leave", invitation)) == texts.NOT_PARTICIPATING
    rows = db(
        discord.stack, "SELECT count(*) AS n FROM participants WHERE invitation_id = :id", id=invitation
    )
    assert rows["n"] == 1


def test_a_button_on_a_message_not_stored_yet_says_so(discord: Discord) -> None:
    assert content(discord.click(discord.member(), "inv:join", snowflake())) == texts.NOT_READY


def test_cancel_is_for_the_host_and_staff_and_freezes_the_message(discord: Discord) -> None:
    host, other = discord.member(), discord.member()
    invitation = discord.new_invitation(host)
    assert content(discord.click(other, "inv:cancel", invitation)) == texts.CODES["permission_denied"]
    assert (
        content(discord.click(host, "inv:cancel", invitation)) == "「夜の観光ツアー」の募集を取り消しました。"
    )
    cancelled = discord.wait_for_message(invitation, lambda m: field(m, "状態") == "取り消し")
    assert all(buttons(cancelled).values())
    assert content(discord.click(other, "inv:join", invitation)) == texts.CODES["final_state"]
    staff_invitation = discord.new_invitation(discord.member())
    assert "取り消しました" in content(
        discord.click(discord.member(staff=True), "inv:cancel", staff_invitation)
    )


def test_deleting_an_account_edits_the_messages_that_showed_the_person(discord: Discord, token: Any) -> None:
    """A host and a participant delete their accounts (signed in on the web with Discord): the
    messages no longer mention them, the hosted invitation is cancelled, the seat is free again."""
    host, guest = discord.member(), discord.member()
    hosted = discord.new_invitation(host, seats=2)
    joined = discord.new_invitation(discord.member(), seats=2)
    for invitation in (hosted, joined):
        content(discord.click(guest, "inv:join", invitation))
    discord.wait_for_message(joined, lambda m: field(m, "参加") == "1/2人")
    for person in (host, guest):
        discord_id = person["user"]["id"]
        uid = f"discord:{discord_id}"
        status, body, _ = http(
            "DELETE",
            f"{discord.stack.gateway_url}/account_api/me",
            headers={"Authorization": f"Bearer {token(uid, discord_id=discord_id)}"},
        )
        assert status == 202, body
    cancelled = discord.wait_for_message(
        hosted,
        lambda m: field(m, "状態") == "取り消し" and field(m, "主催") == "(deleted user)",
        timeout_s=60,
    )
    assert f"<@{host['user']['id']}>" not in json.dumps(cancelled, ensure_ascii=False)
    freed = discord.wait_for_message(joined, lambda m: field(m, "参加") == "0/2人", timeout_s=60)
    assert f"<@{guest['user']['id']}>" not in json.dumps(freed, ensure_ascii=False)


def test_take_as_staff_needs_the_guild_role_and_shows_on_both_messages(discord: Discord) -> None:
    invitation = discord.new_invitation(discord.member())
    job = db(discord.stack, "SELECT staff_message_id FROM invitations WHERE id = :id", id=invitation)
    staff_message = job["staff_message_id"]
    assert content(discord.click(discord.member(), "inv:take", invitation)) == texts.STAFF_ONLY
    staff = discord.member(staff=True, name="スタッフ佐藤")
    answer = discord.click(staff, f"inv:take:{invitation}", staff_message, discord.info["staffChannelId"])
    assert content(answer) == "「夜の観光ツアー」をスタッフ スタッフ佐藤 さんが担当します。"
    discord.wait_for_message(invitation, lambda m: field(m, "担当スタッフ") == "スタッフ佐藤")
    discord.wait_for_message(staff_message, lambda m: field(m, "担当スタッフ") == "スタッフ佐藤")
    row = db(discord.stack, "SELECT staff_id, staff_name FROM invitations WHERE id = :id", id=invitation)
    assert (row["staff_id"], row["staff_name"]) == (staff["user"]["id"], "スタッフ佐藤")


def test_auto_close_completes_and_the_message_is_edited(discord: Discord) -> None:
    invitation = discord.new_invitation(discord.member())
    db(
        discord.stack,
        "UPDATE invitations SET start_time = now() AT TIME ZONE 'UTC' - interval '3 hours', "
        "end_time = now() AT TIME ZONE 'UTC' - interval '1 hour' WHERE id = :id",
        id=invitation,
    )
    status, _, _ = http("POST", f"{discord.stack.router_url}/scheduler/jobs/auto-close:run")
    assert status == 200
    done = discord.wait_for_message(invitation, lambda m: field(m, "状態") == "終了", timeout_s=30)
    assert all(buttons(done).values())
    staff_id = db(discord.stack, "SELECT staff_message_id FROM invitations WHERE id = :id", id=invitation)
    discord.wait_for_message(staff_id["staff_message_id"], lambda m: field(m, "状態") == "終了")


# -- lists ------------------------------------------------------------------------------------------
def test_invites_lists_recruiting_invitations_page_by_page(discord: Discord) -> None:
    host = discord.member()
    created = {discord.new_invitation(host, tag="撮影会") for _ in range(6)}
    answer = discord.command(discord.member(), "invites", tag="撮影会")
    assert answer["type"] == 4 and answer["data"]["flags"] == 64
    seen: set[str] = set()
    page = answer["data"]
    for _ in range(50):
        text = page["embeds"][0]["description"]
        assert page["embeds"][0]["title"] == "募集中のお誘い（撮影会）" and text.count("**[") <= 5
        seen |= {i for i in created if i in text}
        rows = page["components"]
        if not rows:
            break
        (next_button,) = rows[-1]["components"]
        assert next_button["custom_id"].startswith("list:3:")
        update = discord.click(discord.member(), next_button["custom_id"], snowflake())
        assert update["type"] == 7  # the list message itself turns the page
        page = update["data"]
    assert seen == created


def test_mine_lists_my_participations(discord: Discord) -> None:
    me = discord.member()
    first, second = discord.new_invitation(discord.member()), discord.new_invitation(discord.member())
    for invitation in (first, second):
        discord.click(me, "inv:join", invitation)
    answer = discord.command(me, "mine")
    text = answer["data"]["embeds"][0]["description"]
    assert first in text and second in text and "参加" in text
    assert content(discord.command(discord.member(), "mine")) == texts.NO_PARTICIPATIONS


# -- tickets ----------------------------------------------------------------------------------------
def test_a_ticket_reaches_the_staff_channel_and_staff_close_it(discord: Discord) -> None:
    member = discord.member(name="困った人")
    modal = discord.command(member, "ticket", category="trouble")
    assert modal["type"] == 9 and modal["data"]["custom_id"] == "ticket:1"
    answer, ticket_id = discord.submit(
        member, modal["data"]["custom_id"], {"content": "ワールドに入れません"}
    )
    assert content(answer) == texts.TICKET_OPENED.format(id=ticket_id)
    posted = wait_for(
        lambda: db(
            discord.stack,
            "SELECT message_id FROM discord_messages WHERE subject = :s",
            s=f"ticket:{ticket_id}",
        )
    )
    notice = discord.message(posted["message_id"])
    assert notice is not None and notice["channel_id"] == discord.info["staffChannelId"]
    assert notice["embeds"][0]["description"] == "ワールドに入れません" and field(notice, "状態") == "対応中"
    assert content(discord.command(member, "tickets")) == texts.STAFF_ONLY
    staff = discord.member(staff=True)
    listing = discord.command(staff, "tickets")["data"]
    ids = [b["custom_id"] for row in listing["components"] for b in row["components"]]
    assert listing["flags"] == 64 and f"tclose:{ticket_id}" in ids  # newest first
    assert content(discord.click(member, f"tclose:{ticket_id}", posted["message_id"])) == texts.STAFF_ONLY
    closed = discord.click(staff, f"tclose:{ticket_id}", posted["message_id"], discord.info["staffChannelId"])
    assert content(closed) == texts.TICKET_CLOSED.format(id=ticket_id)
    edited = discord.wait_for_message(posted["message_id"], lambda m: field(m, "状態") == "クローズ済み")
    assert all(buttons(edited).values()) and edited["embeds"][0]["description"] == "ワールドに入れません"
    again = discord.click(staff, f"tclose:{ticket_id}", posted["message_id"], discord.info["staffChannelId"])
    assert content(again) == texts.CODES["already_closed"]
    row = db(
        discord.stack, "SELECT user_id, user_name, category, status FROM tickets WHERE id = :id", id=ticket_id
    )
    assert dict(row) == {
        "user_id": member["user"]["id"],
        "user_name": "困った人",
        "category": "trouble",
        "status": "closed",
    }
