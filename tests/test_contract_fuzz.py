"""Each OpenAPI document is the contract, checked by a fuzzer against the running stack.

schemathesis generates requests from every operation of each document, both ones the document
allows and ones it forbids, and runs every check it has on the answers: no 5xx, every status and
header and body as documented, allowed requests accepted, forbidden ones refused with a 4xx, routes
that need a token refuse to work without one. Configuration (seed, examples, which statuses an
allowed request may get): tests/schemathesis.toml. Every case signs in as a new user, so budgets and
one user's state never leak into the next case.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections import Counter, defaultdict
from typing import Any

import pytest
import schemathesis
import yaml
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from deploy.manifest import ROOT
from devstack.config import DEFAULT_PROJECT
from devstack.firestore_rest import unsigned_token
from devstack.stack import Stack

pytestmark = pytest.mark.stack

CONFIG = SchemathesisConfig.from_path(ROOT / "tests" / "schemathesis.toml")
DOCUMENTS = ROOT / "docs" / "openapi"
matching_api = schemathesis.openapi.from_path(DOCUMENTS / "matching_api.yaml", config=CONFIG)
issue_tokens = schemathesis.openapi.from_path(DOCUMENTS / "issue_tokens.yaml", config=CONFIG)
invitations_api = schemathesis.openapi.from_path(DOCUMENTS / "invitations_api.yaml", config=CONFIG)
account_api = schemathesis.openapi.from_path(DOCUMENTS / "account_api.yaml", config=CONFIG)
SCHEMAS = (matching_api, issue_tokens, invitations_api, account_api)
ALL_CHECKS = CHECKS.get_all()
PROJECT = DEFAULT_PROJECT  # the test stack's
# Every other caller is staff, so staff-only routes are exercised past their 403 too.
_callers = itertools.count()


class FreshUser:
    """A new user for every case (no caching), through schemathesis's own auth hook: a case meant to
    go without a token (a negative one, or the ignored-auth check's probe) then really does."""

    def get(self, case: Any, context: Any) -> str:
        claims: dict[str, Any] = {"staff": True} if next(_callers) % 2 else {}
        # A member signed in through discord_auth: invitations_api acts on the discord_id claim.
        claims["discord_id"] = str(uuid.uuid4().int)[:18]
        return unsigned_token(f"fz{uuid.uuid4().hex[:12]}", PROJECT, **claims)

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


for _schema in SCHEMAS:
    _schema.auth(refresh_interval=None)(FreshUser)


REPORT = ROOT / "build" / "reports" / "contract_fuzz.json"
# operation -> statuses seen, so the last test can show the pass really got past authentication
STATUSES: dict[str, Counter[int]] = defaultdict(Counter)


def _call(stack: Stack, function: str, case: Any) -> None:
    response = case.call_and_validate(
        base_url=f"{stack.gateway_url}/{function}", checks=ALL_CHECKS, timeout=30
    )
    STATUSES[f"{function} {case.operation.label}"][response.status_code] += 1


@matching_api.parametrize()
def test_matching_api(case: Any, stack: Stack) -> None:
    _call(stack, "matching_api", case)


@issue_tokens.parametrize()
def test_issue_tokens(case: Any, stack: Stack) -> None:
    _call(stack, "issue_tokens", case)


@invitations_api.parametrize()
def test_invitations_api(case: Any, stack: Stack) -> None:
    _call(stack, "invitations_api", case)


@account_api.parametrize()
def test_account_api(case: Any, stack: Stack) -> None:
    _call(stack, "account_api", case)


def test_the_pass_reached_every_operation_signed_in() -> None:
    """Not a pass of 401s: every operation answered something other than 401 and a share of all answers were 2xx,
    so the checks above judged real work. Runs after the fuzz tests above (file order)."""
    operations = sum(
        1
        for name in ("matching_api", "issue_tokens", "invitations_api", "account_api")
        for item in yaml.safe_load((DOCUMENTS / f"{name}.yaml").read_text())["paths"].values()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )
    assert len(STATUSES) == operations, sorted(STATUSES)
    for operation, statuses in STATUSES.items():
        assert set(statuses) - {401}, (operation, statuses)
    successes = sum(n for statuses in STATUSES.values() for status, n in statuses.items() if status < 300)
    # The tally, to read after a run: build/reports/contract_fuzz.json (operation -> status -> answers).
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        json.dumps({op: dict(sorted(s.items())) for op, s in sorted(STATUSES.items())}, indent=1)
    )
    assert successes >= 0.05 * sum(sum(statuses.values()) for statuses in STATUSES.values()), dict(STATUSES)
