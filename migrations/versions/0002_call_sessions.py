"""Call analytics: one row per finished call session (written by on_room_written).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE call_sessions (
  session_id          VARCHAR(64) PRIMARY KEY,
  room_id             VARCHAR(64) NOT NULL,
  room_type           VARCHAR(10) NOT NULL,
  participant_count   INTEGER     NOT NULL,
  started_at          TIMESTAMPTZ NOT NULL,
  ended_at            TIMESTAMPTZ NOT NULL,
  duration_seconds    INTEGER     NOT NULL,
  end_reason          VARCHAR(10) NOT NULL,
  avg_fps             REAL,
  connection_quality  VARCHAR(20),
  audio_quality       VARCHAR(20),
  recorded_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT chk_call_session_room_type CHECK (room_type IN ('random', 'select')),
  CONSTRAINT chk_call_session_participant_count CHECK (participant_count >= 0),
  CONSTRAINT chk_call_session_time_range CHECK (ended_at >= started_at),
  CONSTRAINT chk_call_session_duration CHECK (duration_seconds >= 0),
  CONSTRAINT chk_call_session_end_reason CHECK (end_reason IN ('normal', 'timeout', 'error'))
);

CREATE INDEX idx_call_session_started ON call_sessions (started_at DESC);
CREATE INDEX idx_call_session_room_type ON call_sessions (room_type, started_at);

COMMENT ON TABLE call_sessions IS
  'Finished call sessions (analytics); session_id is the Firestore callSessions doc id';
COMMENT ON COLUMN call_sessions.recorded_at IS 'When the row was written (first delivery of the room event)';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE call_sessions")
