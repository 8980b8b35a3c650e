"""Call analytics in PostgreSQL: one `call_sessions` row per finished call (written by the room trigger).

Rows are written from a Firestore trigger, which is delivered at least once: the insert is
`ON CONFLICT (session_id) DO NOTHING`, so a redelivered event leaves the first row as it was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared import vocab

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class CallSessionRow:
    session_id: str  # the Firestore callSessions document id
    room_id: str
    room_type: str
    participant_count: int
    started_at: datetime  # timezone-aware
    ended_at: datetime
    duration_seconds: int
    end_reason: str
    avg_fps: float | None = None
    connection_quality: str | None = None
    audio_quality: str | None = None

    def __post_init__(self) -> None:
        # The same rules as the table's CHECK constraints, raised before a round trip.
        if not 1 <= len(self.session_id) <= 64 or not 1 <= len(self.room_id) <= 64:
            raise ValueError("session_id and room_id must be 1 to 64 characters")
        if self.room_type not in vocab.ROOM_TYPES:
            raise ValueError(f"room_type must be one of {vocab.ROOM_TYPES}")
        if self.end_reason not in vocab.END_REASONS:
            raise ValueError(f"end_reason must be one of {vocab.END_REASONS}")
        if self.started_at.tzinfo is None or self.ended_at.tzinfo is None:
            raise ValueError("started_at and ended_at must be timezone-aware")
        if self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        if self.participant_count < 0 or self.duration_seconds < 0:
            raise ValueError("participant_count and duration_seconds must not be negative")


INSERT = """
INSERT INTO call_sessions (session_id, room_id, room_type, participant_count, started_at, ended_at,
  duration_seconds, end_reason, avg_fps, connection_quality, audio_quality)
VALUES (:session_id, :room_id, :room_type, :participant_count, :started_at, :ended_at,
  :duration_seconds, :end_reason, :avg_fps, :connection_quality, :audio_quality)
ON CONFLICT (session_id) DO NOTHING
"""


def record_call_session(engine: Engine, row: CallSessionRow) -> bool:
    """Insert the row unless its session is already recorded; returns whether it inserted."""
    from sqlalchemy import text

    with engine.begin() as conn:
        return bool(conn.execute(text(INSERT), asdict(row)).rowcount)
