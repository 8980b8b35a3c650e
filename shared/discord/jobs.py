"""PostgreSQL records that make the worker idempotent (tables from migrations/versions/0003).

Why PostgreSQL and not Redis: a job's record must outlive every redelivery Pub/Sub may still make
(days, not a TTL), it is written in the same database as the invitation it creates, and a lost
Redis key would mean a second post in the channel. The volume is one row per posted invitation or
ticket.

- `discord_jobs`: a post job keyed `<kind>:<interaction id>`. `claim` takes a lease (so two
  deliveries of the same message never run it at once; a crashed worker's lease simply runs out)
  and returns the progress so far: each id Discord returned is saved right after the call that
  returned it, so a redelivery resumes after the last call that succeeded instead of repeating it.
  (Creating a message also sends `nonce` + `enforce_nonce`, Discord's own guard for the window
  between its answer and our save.)
- `discord_messages`: a message the bot keeps up to date, with the hash of the last payload sent.
  `claim_message` leases it so two edits of one message never interleave (a stale render cannot
  land last).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.invitations.queries import sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

LEASE_S = 90  # longer than the worker's own deadline, shorter than a redelivery backoff tail


class Busy(RuntimeError):
    """Another delivery holds the lease: fail this one so Pub/Sub delivers it again later."""


@dataclass
class Job:
    key: str
    done: bool
    progress: dict[str, Any] = field(default_factory=dict)


@dataclass
class MessageRecord:
    subject: str
    channel_id: str
    message_id: str
    rendered_hash: str | None
    context: dict[str, Any]


def claim(engine: Engine, key: str, lease_s: int = LEASE_S) -> Job:
    with engine.begin() as conn:
        conn.execute(
            sql("INSERT INTO discord_jobs (job_key) VALUES (:key) ON CONFLICT DO NOTHING"), {"key": key}
        )
        progress = conn.execute(
            sql(
                "UPDATE discord_jobs SET lease_until = now() + make_interval(secs => :lease), "
                "attempts = attempts + 1, updated_at = now() "
                "WHERE job_key = :key AND done_at IS NULL AND (lease_until IS NULL OR lease_until < now()) "
                "RETURNING progress"
            ),
            {"key": key, "lease": lease_s},
        ).scalar()
        if progress is not None:
            return Job(key, False, dict(progress))
        row = conn.execute(
            sql("SELECT done_at, progress FROM discord_jobs WHERE job_key = :key"), {"key": key}
        ).first()
    if row is not None and row[0] is not None:
        return Job(key, True, dict(row[1]))
    raise Busy(f"{key} is being run by another delivery")


def save(engine: Engine, key: str, progress: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sql(
                "UPDATE discord_jobs SET progress = CAST(:progress AS jsonb), updated_at = now() WHERE job_key = :key"
            ),
            {"key": key, "progress": json.dumps(progress)},
        )


def finish(conn: Connection, key: str, progress: dict[str, Any]) -> None:
    conn.execute(
        sql(
            "UPDATE discord_jobs SET progress = CAST(:progress AS jsonb), done_at = now(), lease_until = NULL, "
            "updated_at = now() WHERE job_key = :key"
        ),
        {"key": key, "progress": json.dumps(progress)},
    )


def release(engine: Engine, key: str) -> None:
    """Give the lease back after a failure, so the redelivery need not wait for it to run out."""
    with engine.begin() as conn:
        conn.execute(sql("UPDATE discord_jobs SET lease_until = NULL WHERE job_key = :key"), {"key": key})


# -- messages the bot keeps up to date --------------------------------------------------------------
def record_message(
    conn: Connection,
    subject: str,
    channel_id: str,
    message_id: str,
    rendered_hash: str | None,
    context: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        sql(
            "INSERT INTO discord_messages (subject, channel_id, message_id, rendered_hash, context) "
            "VALUES (:subject, :channel_id, :message_id, :hash, CAST(:context AS jsonb)) "
            "ON CONFLICT (subject) DO UPDATE SET channel_id = EXCLUDED.channel_id, "
            "message_id = EXCLUDED.message_id, rendered_hash = EXCLUDED.rendered_hash, "
            "context = EXCLUDED.context, updated_at = now()"
        ),
        {
            "subject": subject,
            "channel_id": channel_id,
            "message_id": message_id,
            "hash": rendered_hash,
            "context": json.dumps(context or {}),
        },
    )


def claim_message(engine: Engine, subject: str, lease_s: int = LEASE_S) -> MessageRecord | None:
    """The leased record, None when the bot has no such message (e.g. made through the web)."""
    with engine.begin() as conn:
        row = (
            conn.execute(
                sql(
                    "UPDATE discord_messages SET lease_until = now() + make_interval(secs => :lease) "
                    "WHERE subject = :subject AND (lease_until IS NULL OR lease_until < now()) "
                    "RETURNING subject, channel_id, message_id, rendered_hash, context"
                ),
                {"subject": subject, "lease": lease_s},
            )
            .mappings()
            .first()
        )
        if row is None:
            exists = conn.execute(
                sql("SELECT 1 FROM discord_messages WHERE subject = :subject"), {"subject": subject}
            ).first()
            if exists is None:
                return None
            raise Busy(f"message {subject} is being edited by another delivery")
    return MessageRecord(
        row["subject"], row["channel_id"], row["message_id"], row["rendered_hash"], dict(row["context"])
    )


def release_message(engine: Engine, subject: str, rendered_hash: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            sql(
                "UPDATE discord_messages SET lease_until = NULL, updated_at = now(), "
                "rendered_hash = COALESCE(:hash, rendered_hash) WHERE subject = :subject"
            ),
            {"subject": subject, "hash": rendered_hash},
        )
