"""PostgreSQL through SQLAlchemy + pg8000.

Locally a direct `DATABASE_URL` (postgresql+pg8000://...). In production, when CLOUD_SQL_INSTANCE is
set, connections go through the Cloud SQL Python Connector with IAM database authentication and the
LAZY refresh strategy (certificates refreshed on demand, which suits instances throttled between
requests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import settings
from shared.lazy import Lazy

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def pool_limits(pool_size: int) -> dict[str, int]:
    """DB_POOL_SIZE kept open, as many more under a burst: an instance holds at most twice it.

    The connection budget (deploy/connection_budget.py, docs/operations.md) multiplies this by
    each function's max_instances and checks the sum against Cloud SQL's max_connections.
    """
    return {"pool_size": pool_size, "max_overflow": pool_size}


def max_connections_per_instance(pool_size: int) -> int:
    limits = pool_limits(pool_size)
    return limits["pool_size"] + limits["max_overflow"]


def _create() -> Engine:
    import sqlalchemy

    config = settings()
    pool = {
        **pool_limits(config.db_pool_size),
        "pool_timeout": 10,
        "pool_recycle": 1800,
        "pool_pre_ping": True,
    }
    instance = config.cloud_sql_instance
    if instance is None:
        return sqlalchemy.create_engine(_pg8000_url(config.database_url), **pool)

    from google.cloud.sql.connector import Connector, IPTypes

    connector = Connector(refresh_strategy="LAZY", ip_type=IPTypes.PRIVATE, enable_iam_auth=True)
    user, database = config.db_iam_user, config.db_name
    return sqlalchemy.create_engine(
        "postgresql+pg8000://",
        creator=lambda: connector.connect(instance, "pg8000", user=user, db=database),
        **pool,
    )


def _pg8000_url(url: str) -> str:
    return "postgresql+pg8000://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


get_engine: Lazy[Engine] = Lazy(_create)


def ping() -> None:
    """Health check: a `SELECT 1` through the pool."""
    import sqlalchemy

    with get_engine().connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))
