"""The restore drill (docs/operations.md "Restore drill"): a dump restored into a fresh cluster is
the same database, table by table, and the drill would notice if it were not."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import replace

import pytest

from deploy.manifest import ROOT
from devstack import restore_drill
from devstack.stack import Stack

pytestmark = pytest.mark.stack


def test_the_live_stack_database_restores_identically(stack: Stack) -> None:
    """Drilled while the stack runs: counts and checksums come from the very snapshot dumped."""
    report = restore_drill.drill(stack.port("postgres"))
    assert report.ok, "\n".join(report.lines())
    assert {"invitations", "participants", "tickets", "call_sessions", "alembic_version"} <= set(
        report.source
    )
    # The roles came along: the groups' grants and the function logins' memberships.
    kinds = {grant[0] for grant in report.source_privileges}
    assert kinds == {"table", "column", "member", "database"}
    assert set(report.timings_s) == {"dump", "fresh cluster", "restore", "compare"}


def test_a_difference_is_reported(stack: Stack) -> None:
    conn = restore_drill._connect(stack.port("postgres"), "vchat")
    try:
        before = restore_drill.fingerprints(conn)
        session = f"drill-{uuid.uuid4().hex}"
        conn.run(
            "INSERT INTO call_sessions (session_id, room_id, room_type, participant_count, started_at, "
            "ended_at, duration_seconds, end_reason) VALUES (:s, 'r', 'random', 1, now(), now(), 0, 'normal')",
            s=session,
        )
        after = restore_drill.fingerprints(conn)
        conn.run("DELETE FROM call_sessions WHERE session_id = :s", s=session)
    finally:
        conn.close()
    assert after["call_sessions"] != before["call_sessions"]
    assert after["invitations"] == before["invitations"]
    report = restore_drill.DrillReport(before, after, set(), set())
    assert not report.ok and report.mismatched_tables == ["call_sessions"]
    assert "restore drill: FAILED" in report.lines()
    lost = replace(report, restored=before, restored_privileges={("member", "x", "vchat_y", "")})
    assert not lost.ok


def test_make_restore_drill_seeds_dumps_restores_and_compares() -> None:
    """What `make restore-drill` runs: a private cluster migrated, with logins, seeded, drilled."""
    result = subprocess.run(
        [sys.executable, "-m", "devstack.restore_drill", "--rows", "300"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore drill: OK" in result.stdout
    assert "invitations" in result.stdout and " 300 " in result.stdout
