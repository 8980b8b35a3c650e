"""shared/discord without the stack: signatures, the modal's JST text, custom ids, interaction
parsing, the command definitions against Discord's limits, rendering, error texts, the rate limiter."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

import pytest

from shared.discord import commands, custom_ids, handlers, interaction, render, signature, texts
from shared.discord.jst import JST, JstError, parse_range
from shared.discord.rest import RateLimiter, route_of
from shared.errors import ApiError, Busy, invalid

SEED = "11" * 32
OTHER_SEED = "22" * 32
PUBLIC = signature.public_key_of(SEED)


# -- signatures -----------------------------------------------------------------------------------
def signed(body: bytes, seed: str = SEED, stamp: int | None = None) -> tuple[str, str]:
    timestamp = str(int(time.time()) if stamp is None else stamp)
    return signature.sign(seed, timestamp, body), timestamp


def test_a_valid_signature_passes() -> None:
    body = b'{"type":1}'
    signature.verify(PUBLIC, *signed(body), body)


@pytest.mark.parametrize(
    ("case", "mutate"),
    [
        ("tampered body", lambda sig, ts, body: (sig, ts, body + b" ")),
        ("tampered timestamp", lambda sig, ts, body: (sig, str(int(ts) - 1), body)),
        ("wrong key", lambda sig, ts, body: (signature.sign(OTHER_SEED, ts, body), ts, body)),
        ("missing signature", lambda sig, ts, body: (None, ts, body)),
        ("missing timestamp", lambda sig, ts, body: (sig, None, body)),
        ("not hex", lambda sig, ts, body: ("zz" * 64, ts, body)),
        ("short", lambda sig, ts, body: (sig[:-2], ts, body)),
        ("stale", lambda sig, ts, body: (*signed(body, stamp=int(ts) - 301), body)),
        ("future", lambda sig, ts, body: (*signed(body, stamp=int(ts) + 301), body)),
        ("timestamp not a number", lambda sig, ts, body: (sig, "12a", body)),
    ],
)
def test_every_bad_signature_is_a_401(case: str, mutate: object) -> None:
    body = b'{"type":1}'
    sig, ts, payload = mutate(*signed(body), body)  # type: ignore[operator]
    with pytest.raises(ApiError) as caught:
        signature.verify(PUBLIC, sig, ts, payload)
    assert caught.value.status == 401, case


# -- the modal's date-time text ---------------------------------------------------------------------
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=JST)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025-02-01 21:00 - 23:30", (2025, 2, 1, 21, 0), (2025, 2, 1, 23, 30)),
        ("2025/2/1(土) 21:00〜2025/2/2 01:00", (2025, 2, 1, 21, 0), (2025, 2, 2, 1, 0)),
        ("2/1 21:00~23:00", (2025, 2, 1, 21, 0), (2025, 2, 1, 23, 0)),
        ("2月1日 21時〜23時30分", (2025, 2, 1, 21, 0), (2025, 2, 1, 23, 30)),
        ("１月１０日　２１：００～２３：００", (2026, 1, 10, 21, 0), (2026, 1, 10, 23, 0)),  # past: next year
        ("2025-02-01 23:00-01:00", (2025, 2, 1, 23, 0), (2025, 2, 2, 1, 0)),  # crosses midnight
        ("2025-02-01 21:00-24:00", (2025, 2, 1, 21, 0), (2025, 2, 2, 0, 0)),
    ],
)
def test_jst_ranges_as_members_write_them(text: str, start: tuple[int, ...], end: tuple[int, ...]) -> None:
    assert parse_range(text, NOW) == (datetime(*start, tzinfo=JST), datetime(*end, tzinfo=JST))
    assert parse_range(text, NOW)[0].utcoffset().total_seconds() == 9 * 3600  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["", "明日の夜", "2025-02-30 21:00-22:00", "2025-02-01 25:00-26:00", "1/20 21:00 - 1/20 20:00"]
)
def test_jst_errors_are_sentences_for_members(text: str) -> None:
    with pytest.raises(JstError) as caught:
        parse_range(text, NOW)
    assert re.search(r"[ぁ-んァ-ン一-龥]", str(caught.value))


# -- custom ids -------------------------------------------------------------------------------------
def test_custom_ids_round_trip_and_fit_in_100_characters() -> None:
    from shared.invitations import cursor

    long_cursor = cursor.encode("q1", datetime(2030, 12, 31, 23, 59, 59, 999000), "9" * 20)
    for value in (
        custom_ids.invite_modal("撮影会", "friendplus", 100),
        custom_ids.list_page("イベント", long_cursor),
        custom_ids.tickets_page("closed", long_cursor),
        custom_ids.mine_page(long_cursor),
        custom_ids.invitation_button("take", "9" * 20),
        custom_ids.ticket_close("9" * 20),
    ):
        assert len(value) <= 100, value
    parsed = custom_ids.parse(custom_ids.invite_modal("撮影会", "friendplus", 100))
    assert parsed.kind == "invite" and custom_ids.pick(("a", "b", "c", "撮影会"), "3") == "撮影会"
    with pytest.raises(ApiError):
        custom_ids.pick(("a",), "7")


# -- interactions ---------------------------------------------------------------------------------
def base(kind: int, **extra: object) -> dict[str, object]:
    return {
        "id": "1234",
        "application_id": "99",
        "type": kind,
        "token": "t",
        "guild_id": "5",
        "channel_id": "6",
        "member": {
            "user": {"id": "7", "username": "u", "global_name": "ユーザー"},
            "roles": ["8"],
            "nick": None,
        },
        **extra,
    }


def test_interaction_parsing_reads_member_roles_and_modal_values() -> None:
    command = interaction.parse(
        base(2, data={"name": "invite", "options": [{"name": "tag", "type": 3, "value": "観光"}]})
    )
    assert command.command == "invite" and command.options == {"tag": "観光"}
    assert command.member == interaction.Member("7", "ユーザー", ("8",)) and command.in_guild
    modal = interaction.parse(
        base(
            5,
            data={
                "custom_id": "ticket:0",
                "components": [
                    {"type": 1, "components": [{"type": 4, "custom_id": "content", "value": "row"}]},
                    {"type": 18, "component": {"type": 4, "custom_id": "other", "value": "label"}},
                ],
            },
        )
    )
    assert modal.values == {"content": "row", "other": "label"}
    button = interaction.parse(base(3, data={"custom_id": "inv:join"}, message={"id": "42"}))
    assert button.message_id == "42" and button.custom_id == "inv:join"
    dm = interaction.parse(
        {**base(2, data={"name": "mine"}), "member": None, "user": {"id": "7", "username": "u"}}
    )
    assert not dm.in_guild


@pytest.mark.parametrize(
    "payload",
    [
        {"type": 2},
        base(2),  # no data.name
        base(3, data={}),  # no custom_id
        {**base(2, data={"name": "x"}), "id": "not-a-snowflake"},
        {**base(2, data={"name": "x"}), "member": {"user": {"id": "7"}, "roles": "8"}},
    ],
)
def test_malformed_interactions_are_400(payload: dict[str, object]) -> None:
    with pytest.raises(ApiError) as caught:
        interaction.parse(payload)
    assert caught.value.status == 400


# -- command definitions against Discord's limits ---------------------------------------------------
NAME = re.compile(r"^[-_\w]{1,32}$")


def test_command_definitions_fit_discords_limits() -> None:
    assert len(commands.COMMANDS) <= 100 and len(commands.names()) == len(commands.COMMANDS)
    for command in commands.COMMANDS:
        assert NAME.fullmatch(command["name"]) and command["name"] == command["name"].lower()
        assert 1 <= len(command["description"]) <= 100
        assert len(command["options"]) <= 25
        required_seen_optional = False
        for option in command["options"]:
            assert NAME.fullmatch(option["name"]) and 1 <= len(option["description"]) <= 100
            assert len(option.get("choices", [])) <= 25
            assert all(1 <= len(c["name"]) <= 100 for c in option.get("choices", []))
            if not option.get("required"):
                required_seen_optional = True
            assert not (option.get("required") and required_seen_optional), "required options come first"
    assert len(json.dumps(commands.COMMANDS, ensure_ascii=False)) < 8000
    assert set(handlers.COMMAND_HANDLERS) == commands.names()


def test_modals_fit_discords_limits() -> None:
    modal = handlers.invite_command(
        interaction.parse(
            base(
                2,
                data={
                    "name": "invite",
                    "options": [
                        {"name": "tag", "type": 3, "value": "観光"},
                        {"name": "instance_type", "type": 3, "value": "group"},
                        {"name": "max_participants", "type": 4, "value": 5},
                    ],
                },
            )
        ),
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
    )["data"]
    assert len(modal["title"]) <= 45 and len(modal["components"]) <= 5
    for row in modal["components"]:
        (text_input,) = row["components"]
        assert len(text_input["label"]) <= 45 and len(text_input["placeholder"]) <= 100
        assert text_input["max_length"] <= 4000


# -- rendering ------------------------------------------------------------------------------------
INVITATION = {
    "eventName": "夜の観光",
    "startTime": "2030-01-31T21:00:00+09:00",
    "endTime": "2030-01-31T23:00:00+09:00",
    "worldName": "The [Great] Pug",
    "worldLink": "https://vrchat.com/home/world/wrld_1",
    "tag": "観光",
    "description": "ゆっくり",
    "instanceType": "friend",
    "vrchatProfile": None,
    "instanceLink": "https://secret.example/instance",
    "maxParticipants": 2,
    "hostName": "Host",
}


def test_the_first_post_and_a_refresh_of_the_unchanged_row_render_the_same() -> None:
    posted = render.invitation_message(
        {**INVITATION, "hostId": "1", "status": "recruiting", "joinedCount": 0, "participants": []}
    )
    from_row = render.invitation_message(
        {
            **INVITATION,
            "startTime": "2030-01-31T12:00:00.000Z",
            "endTime": "2030-01-31T14:00:00.000Z",
            "id": "55",
            "hostId": "1",
            "status": "recruiting",
            "joinedCount": 0,
            "participants": [],
            "staffName": None,
        }
    )
    assert render.payload_hash(posted) == render.payload_hash(from_row)
    assert "secret.example" not in json.dumps(posted)  # the instance link goes to joiners only
    assert posted["allowed_mentions"] == {"parse": []}


def test_full_and_final_invitations_disable_their_buttons() -> None:
    view = {**INVITATION, "hostId": "1", "joinedCount": 2, "participants": []}
    full = render.invitation_message({**view, "status": "full"})["components"][0]["components"]
    assert [b["disabled"] for b in full] == [True, False, False, False] and full[0][
        "label"
    ] == texts.BUTTON_FULL
    done = render.invitation_message({**view, "status": "completed"})["components"][0]["components"]
    assert all(b["disabled"] for b in done)


# -- error texts ------------------------------------------------------------------------------------
def test_domain_errors_become_japanese_sentences() -> None:
    assert (
        texts.error_text(invalid("eventName", "must be 1 to 200 characters long"))
        == texts.FIELD_RULES["eventName"]
    )
    assert (
        texts.error_text(ApiError(409, "invitation_full", "the invitation is full"))
        == texts.CODES["invitation_full"]
    )
    assert texts.error_text(ApiError(500, "internal", "boom")) == texts.INTERNAL
    # Contended rows are worth retrying in a moment, unlike a server error.
    assert texts.error_text(Busy()) == texts.CODES["busy"] != texts.INTERNAL


# -- rate limiter ---------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_buckets_are_learned_from_headers_and_shared_per_resource() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    _, route, major = route_of("POST", "/channels/{channel_id}/messages", {"channel_id": "1"})
    assert route == "POST /channels/1/messages" and major == "1"
    assert limiter.delay(route, major) == 0
    limiter.update(
        route,
        major,
        {"X-RateLimit-Bucket": "b", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "2.5"},
    )
    assert limiter.delay(route, major) == pytest.approx(2.5)
    _, other_route, other_major = route_of("POST", "/channels/{channel_id}/messages", {"channel_id": "2"})
    assert limiter.delay(other_route, other_major) == 0  # another channel, its own limit
    clock.now += 2.6
    assert limiter.delay(route, major) == 0
    limiter.limited(route, major, 1.0, is_global=True)
    assert limiter.delay(other_route, other_major) == pytest.approx(1.0)  # the global limit stops all


def test_message_ids_of_a_route_share_its_limit() -> None:
    _, first, _ = route_of(
        "PATCH", "/channels/{channel_id}/messages/{message_id}", {"channel_id": "1", "message_id": "2"}
    )
    _, second, _ = route_of(
        "PATCH", "/channels/{channel_id}/messages/{message_id}", {"channel_id": "1", "message_id": "3"}
    )
    assert first == second == "PATCH /channels/1/messages/{message_id}"


# -- Terraform ------------------------------------------------------------------------------------
def test_terraform_gives_discord_its_topic_secrets_ids_and_a_self_only_signer() -> None:
    import yaml

    from deploy.manifest import ROOT
    from tests.test_terraform import MODULE, module_blocks, text

    manifest = yaml.safe_load((ROOT / "functions" / "manifest.yaml").read_text())["functions"]
    assert manifest["discord_worker"]["trigger"]["topic"] == "discord-outbox"  # a topic through local.topics
    secrets = {s for spec in manifest.values() for s in spec.get("secrets", {}).values()}
    assert {"discord-public-key", "discord-bot-token", "discord-client-secret"} <= secrets
    signer = module_blocks("resource")["google_service_account_iam_member.token_signer"]
    assert signer["role"] == "roles/iam.serviceAccountTokenCreator"
    assert "google_service_account.function[each.key].name" in text(signer)  # on its own account only
    assert "google_service_account.function[each.key].email" in text(signer)
    assert "discord" in module_blocks("variable")
    locals_text = (MODULE / "locals.tf").read_text()
    for spec in manifest.values():
        for name in spec.get("env", {}):
            if name.startswith("DISCORD_"):
                assert f"{name} " in locals_text, f"{name} is not filled from var.discord"
    assert "iamcredentials.googleapis.com" in (MODULE / "apis.tf").read_text()
