"""The connection budget: every instance of every Postgres-using function at its pool's limit must
fit in Cloud SQL's max_connections, with room left for the owner and for PostgreSQL itself.

    demand = sum over functions of (DB_POOL_SIZE + overflow) x max_instances
    demand + reserved + admin headroom <= max_connections

DB_POOL_SIZE comes from the function's manifest env (else shared/config.py's default), the pool
arithmetic from shared/clients/postgres.py, max_instances from the manifest and max_connections
from the Terraform environment (tests/test_connection_budget.py; docs/operations.md explains).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy.manifest import FunctionSpec
from shared.clients.postgres import max_connections_per_instance
from shared.config import DEFAULT_DB_POOL_SIZE

# PostgreSQL keeps superuser_reserved_connections (default 3) for superusers (on Cloud SQL, its own
# cloudsqladmin agent); the owner needs a few more for migrations, grant-roles, a psql session,
# the Auth Proxy and a restore check.
RESERVED = 3
ADMIN_HEADROOM = 10


@dataclass(frozen=True)
class Line:
    function: str
    pool_size: int
    per_instance: int
    max_instances: int

    @property
    def connections(self) -> int:
        return self.per_instance * self.max_instances


@dataclass(frozen=True)
class Budget:
    max_connections: int
    lines: tuple[Line, ...]

    @property
    def demand(self) -> int:
        return sum(line.connections for line in self.lines)

    @property
    def available(self) -> int:
        return self.max_connections - RESERVED - ADMIN_HEADROOM

    @property
    def fits(self) -> bool:
        return self.demand <= self.available


def budget(functions: Mapping[str, FunctionSpec], max_connections: int) -> Budget:
    lines = []
    for name, spec in functions.items():
        if not spec.uses_postgres:
            continue
        pool_size = int(spec.env.get("DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE))
        lines.append(Line(name, pool_size, max_connections_per_instance(pool_size), spec.max_instances))
    return Budget(max_connections, tuple(lines))
