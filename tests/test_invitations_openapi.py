"""docs/openapi/invitations_api.yaml matches the function: the same routes both ways, the same
enums as the code, and the same fields as real responses from the stack."""

from __future__ import annotations

import importlib.util
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.manifest import ROOT
from shared.http import Api
from shared.invitations import model
from tests.conftest import http

SPEC_PATH = ROOT / "docs" / "openapi" / "invitations_api.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


def load_api() -> Api:
    spec = importlib.util.spec_from_file_location(
        "invitations_api_main", ROOT / "functions/invitations_api/main.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.api  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return dict(yaml.safe_load(Path(SPEC_PATH).read_text()))


def normalized(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_it_is_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["firebase"]["scheme"] == "bearer"


def test_every_documented_route_exists_in_the_function_and_vice_versa(spec: dict[str, Any]) -> None:
    documented = {
        (method.upper(), normalized(path))
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }
    served = {
        (method, normalized(rule.rule))
        for rule in load_api()._map.iter_rules()
        for method in (rule.methods or ())
        if method != "HEAD"
    }
    assert documented == served


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _walk(node: Any) -> list[str]:
    if isinstance(node, dict):
        refs = [node["$ref"]] if "$ref" in node else []
        return refs + [ref for value in node.values() for ref in _walk(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _walk(value)]
    return []


def test_refs_resolve_path_parameters_are_declared_and_routes_are_secured(spec: dict[str, Any]) -> None:
    for ref in _walk(spec):
        assert _resolve(spec, {"$ref": ref}) is not None, ref
    for path, item in spec["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", path))
        declared = {
            _resolve(spec, p)["name"] for p in item.get("parameters", []) if _resolve(spec, p)["in"] == "path"
        }
        assert names == declared, path
        for method, operation in item.items():
            if method not in METHODS:
                continue
            assert operation["responses"], (method, path)
            secured = operation.get("security", spec["security"])
            assert (secured == []) == (path == "/healthz"), (method, path)


def test_enums_are_the_codes_values(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert tuple(schemas["Tag"]["enum"]) == model.TAGS
    assert tuple(schemas["InvitationStatus"]["enum"]) == model.INVITATION_STATUSES
    assert tuple(schemas["InstanceType"]["enum"]) == model.INSTANCE_TYPES
    assert tuple(schemas["Ticket"]["properties"]["category"]["enum"]) == model.TICKET_CATEGORIES
    assert schemas["NewInvitation"]["properties"]["maxParticipants"]["maximum"] == model.MAX_PARTICIPANTS


def _fields(spec: dict[str, Any], name: str) -> set[str]:
    schema = spec["components"]["schemas"][name]
    parts = schema.get("allOf", [schema])
    fields: set[str] = set()
    for part in parts:
        part = _resolve(spec, part)
        assert set(part.get("required", [])) == set(part["properties"]), (
            f"{name}: every field is always present"
        )
        fields |= set(part["properties"])
    return fields


@pytest.mark.stack
def test_real_responses_have_exactly_the_documented_fields(
    spec: dict[str, Any], gateway: str, token: Callable[..., str]
) -> None:
    uid = str(uuid.uuid4().int)[:18]  # a Discord id, as a discord_auth sign-in carries it
    headers = {"Authorization": f"Bearer {token(uid, name='Spec', staff=True, discord_id=uid)}"}
    base = f"{gateway}/invitations_api"
    start = datetime.now(UTC) + timedelta(days=3)
    invitation_id, ticket_id = str(uuid.uuid4().int)[:19], str(uuid.uuid4().int)[:19]
    body = {
        "id": invitation_id,
        "threadId": str(uuid.uuid4().int)[:19],
        "eventName": "spec",
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
        "worldName": "w",
        "tag": "その他",
        "description": "d",
        "instanceType": "group",
        "maxParticipants": 3,
    }
    status, created, _ = http("POST", f"{base}/invitations", body, headers)
    assert status == 201 and set(created) == _fields(spec, "Invitation")
    status, joined, _ = http(
        "POST", f"{base}/invitations/{invitation_id}/participants", {"status": "joined"}, headers
    )
    assert status == 201 and set(joined) == _fields(spec, "Participation")
    _, detail, _ = http("GET", f"{base}/invitations/{invitation_id}", None, headers)
    item_schema = spec["components"]["schemas"]["Invitation"]["allOf"][1]["properties"]["participants"][
        "items"
    ]
    assert set(detail["participants"][0]) == set(item_schema["properties"])
    _, page, _ = http("GET", f"{base}/invitations?limit=1", None, headers)
    assert set(page) == _fields(spec, "InvitationPage") and set(page["items"][0]) == _fields(
        spec, "InvitationSummary"
    )
    _, history, _ = http("GET", f"{base}/me/participations", None, headers)
    assert set(history["items"][0]) == _fields(spec, "ParticipationHistoryItem")
    status, ticket, _ = http("POST", f"{base}/tickets", {"id": ticket_id, "category": "other"}, headers)
    assert status == 201 and set(ticket) == _fields(spec, "Ticket")
    _, tickets, _ = http("GET", f"{base}/tickets", None, headers)
    assert set(tickets) == _fields(spec, "TicketPage")
    status, error, _ = http("GET", f"{base}/invitations?limit=0", None, headers)
    assert status == 400 and set(error) == set(spec["components"]["schemas"]["Error"]["properties"])
