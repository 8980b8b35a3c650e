"""Seed the invitations schema with a realistic volume using generate_series (server-side, seconds).

    DATABASE_URL=postgresql+pg8000://... INVITATIONS_ENCRYPTION_KEYS=... \
        .venv/bin/python bench/invitations_seed.py [--invitations 100000] [--per-invitation 10]

Shape: start times spread over one year around now; past invitations are completed (90%) or
cancelled, except every 200th, left `recruiting`/`full` as an auto-close backlog for Q4; upcoming
ones are recruiting (85%), full (5%) or cancelled. Each invitation has `per-invitation`
participants (the first 6 joined, the rest interested) drawn from 50,000 users, so a user has
about 20 participations. The encrypted columns hold real Fernet tokens of the configured key.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

INVITATION_BASE = 1_000_000_000_000_000_000
THREAD_BASE = 2_000_000_000_000_000_000
USER_BASE = 4_000_000_000
USERS = 50_000

# The engine's sessions end a statement after DB_STATEMENT_TIMEOUT_MS; a bulk load of a million rows
# is no request and may take longer, for its own transaction only.
NO_STATEMENT_LIMIT = "SET LOCAL statement_timeout = 0"
SEED_INVITATIONS = """
INSERT INTO invitations (id, thread_id, host_id, host_name, event_name, start_time, end_time, world_name,
  world_link, tag, description, instance_type, vrchat_profile, instance_link, max_participants, status,
  created_at, updated_at, joined_count)
SELECT (CAST(:inv_base AS bigint) + g)::text, (CAST(:thread_base AS bigint) + g)::text,
  (3000000000 + mod(g, 5000))::text, 'host ' || mod(g, 5000),
  'Event #' || g, t.start_time, t.start_time + interval '2 hours', 'World ' || (mod(g, 997)),
  'https://vrchat.com/home/world/wrld_' || (mod(g, 997)),
  (ARRAY['観光', 'ゲーム', 'まったり', '撮影会', 'イベント', 'その他'])[1 + mod(g, 6)], 'seeded invitation',
  (ARRAY['group', 'friend', 'friendplus', 'public'])[1 + mod(g, 4)], :profile, :link,
  CASE WHEN s.status = 'full' THEN 6 ELSE 10 + mod(g, 91) END, s.status,
  t.start_time - interval '7 days', t.start_time - interval '7 days',
  least(:per, 6)  -- the joined seats SEED_PARTICIPANTS gives every invitation
FROM generate_series(1, :n) AS g
CROSS JOIN LATERAL (
  SELECT date_trunc('minute', now() AT TIME ZONE 'UTC')
         + (mod(g * 7, 365) - 182) * interval '1 day' + (mod(g, 1440)) * interval '1 minute' AS start_time
) AS t
CROSS JOIN LATERAL (
  SELECT CASE
    WHEN t.start_time + interval '2 hours' < now() AT TIME ZONE 'UTC' THEN
      CASE WHEN mod(g, 200) = 0 THEN 'recruiting' WHEN mod(g, 200) = 1 THEN 'full'
           WHEN mod(g, 10) = 0 THEN 'cancelled' ELSE 'completed' END
    ELSE CASE WHEN mod(g, 20) = 0 THEN 'full' WHEN mod(g, 10) = 3 THEN 'cancelled' ELSE 'recruiting' END
  END AS status
) AS s
"""

SEED_PARTICIPANTS = """
INSERT INTO participants (invitation_id, user_id, user_name, status, created_at)
SELECT (CAST(:inv_base AS bigint) + g)::text,
  (CAST(:user_base AS bigint) + mod(g * 7919 + k * 4729, :users))::text, 'user',
  CASE WHEN k < 6 THEN 'joined' ELSE 'interested' END,
  timestamp '2025-01-01' + (mod(g, 500000)) * interval '1 minute' + k * interval '1 second'
FROM generate_series(1, :n) AS g CROSS JOIN generate_series(0, :per - 1) AS k
"""

WRONG_COUNTS = """
SELECT count(*) FROM invitations i
LEFT JOIN (SELECT invitation_id, count(*) AS joined FROM participants WHERE status = 'joined'
           GROUP BY invitation_id) AS c ON c.invitation_id = i.id
WHERE i.joined_count <> coalesce(c.joined, 0)
"""


def user_id(index: int) -> str:
    return str(USER_BASE + index % USERS)


def invitation_id(index: int) -> str:
    return str(INVITATION_BASE + index)


def seed(
    engine: Any, invitations: int = 100_000, per_invitation: int = 10, echo: Any = print
) -> dict[str, float]:
    """Replace the invitations data with the seeded set; returns seconds per step."""
    from sqlalchemy import text

    from shared.invitations import crypto

    if per_invitation > 10:
        raise ValueError("per_invitation is at most 10 (the user-id stride repeats after 10)")
    params = {
        "n": invitations,
        "per": per_invitation,
        "inv_base": INVITATION_BASE,
        "thread_base": THREAD_BASE,
        "user_base": USER_BASE,
        "users": USERS,
        "profile": crypto.encrypt("https://vrchat.com/home/user/usr_seeded"),
        "link": crypto.encrypt("https://vrchat.com/home/launch?worldId=wrld_seed&instanceId=1"),
    }
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(NO_STATEMENT_LIMIT))
        conn.execute(text("TRUNCATE participants, invitations, tickets RESTART IDENTITY"))
        conn.execute(text(SEED_INVITATIONS), params)
    timings["invitations"] = time.perf_counter() - started
    echo(f"  {invitations:,} invitations in {timings['invitations']:.1f}s")
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(NO_STATEMENT_LIMIT))
        # A bulk load, as a restore is: the rows arrive with their invitations' joined_count already
        # written, so the counting triggers stay off (each would rewrite every invitation row once
        # more, leaving the table and its indexes with a second version of every open row).
        conn.execute(text("ALTER TABLE participants DISABLE TRIGGER USER"))
        conn.execute(text(SEED_PARTICIPANTS), params)
        conn.execute(text("ALTER TABLE participants ENABLE TRIGGER USER"))
        wrong = conn.execute(text(WRONG_COUNTS)).scalar_one()
        if wrong:
            raise RuntimeError(
                f"{wrong} seeded invitations have a joined_count their participants disagree with"
            )
    timings["participants"] = time.perf_counter() - started
    echo(f"  {invitations * per_invitation:,} participants in {timings['participants']:.1f}s")
    started = time.perf_counter()
    vacuum(engine)
    timings["vacuum_analyze"] = time.perf_counter() - started
    echo(f"  VACUUM ANALYZE in {timings['vacuum_analyze']:.1f}s")
    return timings


def vacuum(engine: Any) -> None:
    """VACUUM ANALYZE (visibility map for index-only scans, fresh statistics); needs autocommit."""
    from sqlalchemy import text

    from shared.clients.postgres import autocommit_read

    with autocommit_read(engine) as conn:
        conn.execute(text("SET statement_timeout = 0"))  # VACUUM cannot run in a transaction
        try:
            conn.execute(text("VACUUM (ANALYZE) invitations, participants, tickets"))
        finally:
            conn.execute(text("RESET statement_timeout"))  # back to the session's own (pooled)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--per-invitation", type=int, default=10)
    args = parser.parse_args()
    from shared.clients.postgres import get_engine

    seed(get_engine(), args.invitations, args.per_invitation)


if __name__ == "__main__":
    main()
