"""Key rotation of the encrypted columns: re-encrypt every value not yet under the newest key.

Operators run it through `python -m deploy.invitation_keys` (docs/invitations.md, "Rotating the key").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.clients.postgres import autocommit_read
from shared.invitations import crypto
from shared.invitations.queries import sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


BATCH = (
    "SELECT id, vrchat_profile, instance_link FROM invitations WHERE id > :after "
    "AND (vrchat_profile IS NOT NULL OR instance_link IS NOT NULL) "
    "ORDER BY id LIMIT :limit"
)


def _current(row: Any, keys: str | None) -> bool:
    return crypto.is_current(row["vrchat_profile"], keys) and crypto.is_current(row["instance_link"], keys)


def reencrypt_all(engine: Engine, batch_size: int = 500, keys: str | None = None) -> int:
    """Re-encrypt every encrypted value not yet under the newest key; returns the rows rewritten.

    Run after putting a new key first in INVITATIONS_ENCRYPTION_KEYS, before dropping the old one.
    `keys` overrides the configured keys (same format). Final rows are re-encrypted too: the
    final-state trigger allows a change of the ciphertext columns alone.
    """
    rewritten, after = 0, ""
    while True:
        with engine.begin() as conn:
            rows = (
                conn.execute(sql(BATCH + " FOR UPDATE"), {"after": after, "limit": batch_size})
                .mappings()
                .all()
            )
            for row in rows:
                if not _current(row, keys):
                    conn.execute(
                        sql("UPDATE invitations SET vrchat_profile = :p, instance_link = :l WHERE id = :id"),
                        {
                            "p": crypto.rotate(row["vrchat_profile"], keys),
                            "l": crypto.rotate(row["instance_link"], keys),
                            "id": row["id"],
                        },
                    )
                    rewritten += 1
        if len(rows) < batch_size:
            return rewritten
        after = rows[-1]["id"]


def stale_rows(engine: Engine, batch_size: int = 500, keys: str | None = None) -> int:
    """How many invitations still hold a value encrypted under an older key (read only)."""
    stale, after = 0, ""
    while True:
        with autocommit_read(engine) as conn:
            rows = conn.execute(sql(BATCH), {"after": after, "limit": batch_size}).mappings().all()
        stale += sum(1 for row in rows if not _current(row, keys))
        if len(rows) < batch_size:
            return stale
        after = rows[-1]["id"]
