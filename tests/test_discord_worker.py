"""discord_worker against the stand-in: Discord's 429s (bucket and global) and 5xx, exhausted buckets,
refusals that will not pass, and redelivered Pub/Sub messages that must not post twice."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from devstack.stack import Stack
from shared.discord import outbox
from shared.discord.publish import publish_all
from shared.discord.rest import DiscordRest, RateLimiter, RetryLater
from tests.conftest import http, wait_for
from tests.discord_helpers import Discord, db, field

pytestmark = pytest.mark.stack

POST_MESSAGE = "POST /channels/{channel_id}/messages"
EDIT_MESSAGE = "PATCH /channels/{channel_id}/messages/{message_id}"
START_THREAD = "POST /channels/{channel_id}/messages/{message_id}/threads"


@pytest.fixture(scope="module")
def discord(stack: Stack) -> Discord:
    return Discord(stack, stack.info()["discord"])


@pytest.fixture(autouse=True)
def no_faults_left(discord: Discord) -> Any:
    discord.clear_faults()
    yield
    discord.clear_faults()


def posts_with_nonce(discord: Discord, since: int, nonce: str) -> list[dict[str, Any]]:
    return [
        c
        for c in discord.calls(since, POST_MESSAGE)
        if c["status"] == 200 and (c["json"] or {}).get("nonce") == nonce
    ]


def test_a_429_is_waited_out_for_retry_after_and_the_post_lands(discord: Discord) -> None:
    before = discord.last_call()
    discord.fault(route=POST_MESSAGE, status=429, retryAfter=0.4, times=1)
    _, interaction_id = discord.invite(discord.member())
    job = discord.posted(interaction_id)
    calls = discord.calls(before, POST_MESSAGE)
    limited = next(c for c in calls if c["status"] == 429)
    posted = next(c for c in calls if c["status"] == 200 and c["json"]["nonce"] == interaction_id)
    assert posted["at"] - limited["at"] >= 0.4 * 0.95  # it waited retry_after before calling again
    assert len(posts_with_nonce(discord, before, interaction_id)) == 1 and job["messageId"]


def test_the_global_limit_is_honoured_on_edits(discord: Discord) -> None:
    invitation = discord.new_invitation(discord.member())
    before = discord.last_call()
    discord.fault(route=EDIT_MESSAGE, status=429, retryAfter=0.3, times=1, **{"global": True})
    discord.click(discord.member(), "inv:join", invitation)
    discord.wait_for_message(invitation, lambda m: field(m, "参加") == "1/3人")
    edits = discord.calls(before, EDIT_MESSAGE)
    assert [c["status"] for c in edits][:2] == [429, 200]
    assert edits[1]["at"] - edits[0]["at"] >= 0.3 * 0.95


def test_an_exhausted_bucket_is_waited_for_instead_of_hitting_429(discord: Discord) -> None:
    before = discord.last_call()
    # The next thread start says "0 left for 1 s": the following one on that channel must wait.
    discord.fault(route=START_THREAD, exhaust=True, resetAfter=1.0, times=1)
    first = discord.new_invitation(discord.member())
    second = discord.new_invitation(discord.member())
    threads = [c for c in discord.calls(before, START_THREAD) if c["status"] == 201]
    assert {c["path"].split("/")[-2] for c in threads} == {first, second}
    assert not [c for c in discord.calls(before) if c["early"]], "a call was made before the bucket refilled"
    assert threads[1]["at"] - threads[0]["at"] >= 1.0 * 0.9


def test_5xx_are_retried_within_a_delivery(discord: Discord) -> None:
    invitation = discord.new_invitation(discord.member())
    before = discord.last_call()
    discord.fault(route=EDIT_MESSAGE, status=502, times=2)
    discord.click(discord.member(), "inv:join", invitation)
    discord.wait_for_message(invitation, lambda m: field(m, "参加") == "1/3人")
    assert [c["status"] for c in discord.calls(before, EDIT_MESSAGE)][:3] == [502, 502, 200]


def test_persistent_5xx_fail_the_delivery_and_pubsub_redelivers_without_a_second_post(
    discord: Discord,
) -> None:
    before = discord.last_call()
    # More failures than one delivery's attempts: the delivery fails, Pub/Sub delivers again.
    discord.fault(route=POST_MESSAGE, status=500, times=6)
    _, interaction_id = discord.invite(discord.member())
    job = discord.posted(interaction_id, timeout_s=60)
    statuses = [
        c["status"]
        for c in discord.calls(before, POST_MESSAGE)
        if (c["json"] or {}).get("nonce") == interaction_id
    ]
    assert statuses.count(500) == 6 and statuses.count(200) == 1
    row = db(
        discord.stack,
        "SELECT attempts FROM discord_jobs WHERE job_key = :k",
        k=f"invitation.post:{interaction_id}",
    )
    assert row["attempts"] >= 2  # the first delivery failed; a redelivery finished the job
    assert db(discord.stack, "SELECT 1 AS one FROM invitations WHERE id = :id", id=job["messageId"])


def test_a_redelivered_post_message_does_not_post_twice(discord: Discord) -> None:
    host = discord.member()
    _, interaction_id = discord.invite(host)
    job = discord.posted(interaction_id)
    before = discord.last_call()
    key = f"invitation.post:{interaction_id}"
    # The same outbox message again (what a redelivery is), through Pub/Sub and straight to the router.
    body = {
        "eventName": "夜の観光ツアー",
        "startTime": "2099-01-01T21:00:00+09:00",
        "endTime": "2099-01-01T23:00:00+09:00",
        "worldName": "w",
        "tag": "観光",
        "description": "d",
        "instanceType": "friend",
        "maxParticipants": 3,
        "hostName": "h",
    }
    message = outbox.post_invitation(
        interaction_id, discord.info["applicationId"], "token", host["user"]["id"], body
    )
    publish_all([message])
    push = {
        "message": {
            "data": base64.b64encode(json.dumps(message).encode()).decode(),
            "messageId": "redelivered-1",
        },
        "subscription": "projects/demo-vchat/subscriptions/discord_worker-push",
    }
    for _ in range(2):
        status, _, _ = http("POST", f"{discord.stack.router_url}/pubsub/discord_worker", push)
        assert status == 204
    wait_for(
        lambda: (
            len(
                [
                    d
                    for d in http("GET", f"{discord.stack.router_url}/deliveries")[1]
                    if d.get("eventId") == "redelivered-1"
                ]
            )
            == 2
        )
    )
    wait_for(
        lambda: (
            db(discord.stack, "SELECT attempts FROM discord_jobs WHERE job_key = :k", k=key)["attempts"] >= 1
        )
    )
    assert posts_with_nonce(discord, before, interaction_id) == []
    assert discord.calls(before, START_THREAD) == []
    count = db(discord.stack, "SELECT count(*) AS n FROM invitations WHERE thread_id = :t", t=job["threadId"])
    assert count["n"] == 1


def delivered(discord: Discord) -> set[str]:
    """Pub/Sub message ids the worker acknowledged."""
    deliveries = http("GET", f"{discord.stack.router_url}/deliveries")[1]
    return {
        d.get("eventId")
        for d in deliveries
        if d.get("function") == "discord_worker" and 200 <= d["status"] < 300
    }


def test_a_redelivered_refresh_edits_nothing_when_nothing_changed(discord: Discord) -> None:
    invitation = discord.new_invitation(discord.member())
    discord.click(discord.member(), "inv:join", invitation)
    edited = discord.wait_for_message(invitation, lambda m: field(m, "参加") == "1/3人")
    before = discord.last_call()
    message_ids = set(publish_all([outbox.refresh_invitation(invitation)] * 3))
    wait_for(lambda: message_ids <= delivered(discord))
    assert [c for c in discord.calls(before, EDIT_MESSAGE) if invitation in c["path"]] == []
    assert discord.message(invitation)["edits"] == edited["edits"]  # type: ignore[index]


def test_a_refusal_that_will_not_pass_ends_the_job_and_tells_the_host(discord: Discord) -> None:
    before = discord.last_call()
    discord.fault(route=START_THREAD, status=403, times=1)  # e.g. the bot lacks Create Public Threads
    _, interaction_id = discord.invite(discord.member())
    job = discord.posted(interaction_id)
    assert "403" in job["error"]
    posted = next(c for c in discord.calls(before, POST_MESSAGE) if c["json"]["nonce"] == interaction_id)
    deleted = [c for c in discord.calls(before) if c["method"] == "DELETE" and c["status"] == 204]
    assert deleted, "the orphan message was deleted"
    assert posted["status"] == 200
    replies = [
        c["json"]["content"]
        for c in discord.calls(before, "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original")
    ]
    assert any(r.startswith("募集を投稿できませんでした") for r in replies)
    assert db(discord.stack, "SELECT 1 AS one FROM invitations WHERE id = :id", id=job["messageId"]) is None
    assert discord.message(job["messageId"]) is None


def test_a_wait_past_the_deadline_gives_up_at_once_and_remembers_the_limit(discord: Discord) -> None:
    """In process against the stand-in: the REST client does not sleep 5 s inside a 1 s deadline."""
    discord.fault(route="GET /guilds/{guild_id}/members/{user_id}", status=429, retryAfter=5.0, times=1)
    limiter = RateLimiter()
    sleeps: list[float] = []
    rest = DiscordRest(
        discord.info["apiUrl"], _bot_token(discord), deadline_s=1.0, limiter=limiter, sleep=sleeps.append
    )
    params = {"guild_id": discord.info["guildId"], "user_id": "284102390000000001"}
    before = discord.last_call()
    with pytest.raises(RetryLater) as caught:
        rest.request("GET", "/guilds/{guild_id}/members/{user_id}", params)
    assert caught.value.retry_after == pytest.approx(5.0, abs=0.5) and sleeps == []
    with pytest.raises(RetryLater):  # still limited: not even one call is made
        DiscordRest(discord.info["apiUrl"], _bot_token(discord), deadline_s=1.0, limiter=limiter).request(
            "GET", "/guilds/{guild_id}/members/{user_id}", params
        )
    assert len(discord.calls(before)) == 1
    fresh = DiscordRest(discord.info["apiUrl"], _bot_token(discord), limiter=RateLimiter())
    assert fresh.request("GET", "/guilds/{guild_id}/members/{user_id}", params)["user"]["username"] == "alice"


def _bot_token(discord: Discord) -> str:
    return str(json.loads((discord.stack.state_dir / "secrets.json").read_text())["DISCORD_BOT_TOKEN"])
