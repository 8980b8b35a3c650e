"""Pool size x max instances of every Postgres-using function, summed, fits each environment's
Cloud SQL max_connections (set explicitly in Terraform) with room for the owner; the pool the code
builds is the one the budget counts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from deploy.connection_budget import ADMIN_HEADROOM, RESERVED, budget
from deploy.manifest import ROOT, load_manifest
from shared.config import reset_settings

ENVIRONMENTS = ("dev", "prod")


def max_connections(environment: str) -> int:
    root = (ROOT / "terraform" / "environments" / environment / "main.tf").read_text()
    match = re.search(r"^\s*sql_max_connections\s*=\s*(\d+)\s*$", root, re.M)
    assert match, f"{environment}: sql_max_connections must be set explicitly"
    return int(match.group(1))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_instance_at_its_pool_limit_fits_max_connections(environment: str) -> None:
    plan = budget(load_manifest(), max_connections(environment))
    assert {line.function for line in plan.lines} == {
        "invitations_api",
        "on_room_written",
        "auto_close",
        "account_deletion",
        "discord_interactions",
        "discord_worker",
    }
    table = ", ".join(f"{x.function} {x.per_instance}x{x.max_instances}={x.connections}" for x in plan.lines)
    assert plan.fits, (
        f"{environment}: {table} = {plan.demand} > {plan.max_connections} - {RESERVED} reserved "
        f"- {ADMIN_HEADROOM} admin: lower DB_POOL_SIZE or max_instances, or raise sql_max_connections"
    )


def test_the_module_default_is_the_smallest_environment() -> None:
    variables = (ROOT / "terraform" / "modules" / "vchat" / "variables.tf").read_text()
    default = re.search(r'variable "sql_max_connections" \{.*?default\s*=\s*(\d+)', variables, re.S)
    assert default and int(default.group(1)) == min(max_connections(env) for env in ENVIRONMENTS)


def test_the_documented_arithmetic_is_the_current_one() -> None:
    """docs/operations.md shows the dev budget line by line: it must not go stale."""
    plan = budget(load_manifest(), max_connections("dev"))
    doc = (ROOT / "docs" / "operations.md").read_text()
    for line in plan.lines:
        row = f"| `{line.function}` | {line.pool_size} | {line.per_instance} | {line.max_instances} | {line.connections} |"
        assert row in doc, row
    assert f"**{plan.demand}**" in doc


@pytest.fixture
def settings_with_pool() -> Iterator[None]:
    reset_settings({"DATABASE_URL": "postgresql+pg8000://u@127.0.0.1:1/db", "DB_POOL_SIZE": "2"})
    yield
    reset_settings()


def test_the_engine_the_functions_build_has_the_budgeted_pool(settings_with_pool: None) -> None:
    from shared.clients.postgres import _create

    engine = _create()  # no connection is opened
    try:
        # Twice DB_POOL_SIZE, none of it overflow (closed at check-in, so reopened under load).
        assert engine.pool.size() == 4 and engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()
