"""docs/openapi/<function>.yaml and the routes the function really serves agree (invitations_api has
its own, stricter test in test_invitations_openapi.py)."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest
import yaml

from deploy.manifest import ROOT

METHODS = {"get", "post", "put", "patch", "delete"}
FUNCTIONS = ("matching_api", "issue_tokens", "account_api", "discord_auth")


@pytest.fixture(params=FUNCTIONS)
def function(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def load_spec(function: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docs" / "openapi" / f"{function}.yaml").read_text())  # type: ignore[no-any-return]


def load_api(function: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"{function}_main", ROOT / "functions" / function / "main.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.api


def served_routes(function: str) -> set[tuple[str, str]]:
    routes = set()
    for endpoint in load_api(function)._routes:
        method, path = endpoint.split(" ", 1)
        # werkzeug's <room_id> is OpenAPI's {roomId}
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + _camel(m.group(1)) + "}", path)
        routes.add((method.lower(), path))
    return routes


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def documented_routes(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item if method in METHODS}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def _resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    target: Any = spec
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return dict(target)


def test_document_is_openapi_3_1_and_its_references_resolve(function: str) -> None:
    spec = load_spec(function)
    assert spec["openapi"].startswith("3.1.")
    for ref in refs(spec):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_every_route_is_documented_and_every_documented_route_is_served(function: str) -> None:
    spec = load_spec(function)
    assert served_routes(function) == documented_routes(spec)


def test_path_parameters_are_declared(function: str) -> None:
    spec = load_spec(function)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            parameters = [_resolved(spec, p) for p in operation.get("parameters", [])]
            declared = {p["name"] for p in parameters if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)


def test_authenticated_routes_document_401_and_bad_input_routes_document_400(function: str) -> None:
    spec = load_spec(function)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or operation.get("security") == []:
                continue
            assert "401" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)


# -- account_api: every rule the server enforces is in the document ----------------------------------
def test_account_api_documents_every_write_routes_budget_and_the_codes_vocabulary() -> None:
    from shared import ids, vocab
    from shared.account import pages, requests
    from shared.validate import TIME_PATTERN

    spec = load_spec("account_api")
    api = load_api("account_api")
    for endpoint, route in api._routes.items():
        method, path = endpoint.split(" ", 1)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + _camel(m.group(1)) + "}", path)
        operation = spec["paths"][path][method.lower()]
        if route.budget is not None:
            assert "429" in operation["responses"], endpoint
    schemas = spec["components"]["schemas"]
    assert schemas["ReportReason"]["enum"] == list(vocab.REPORT_REASONS)
    assert schemas["Suspension"]["properties"]["kind"]["enum"] == list(vocab.SUSPENSION_KINDS)
    assert schemas["UserId"]["pattern"] == ids.USER_ID_PATTERN
    assert schemas["RoomId"]["pattern"] == ids.ROOM_ID_PATTERN
    assert schemas["Note"]["maxLength"] == requests.NOTE_MAX
    limit = spec["components"]["parameters"]["Limit"]["schema"]
    assert (limit["maximum"], limit["default"]) == (pages.MAX_LIMIT, pages.DEFAULT_LIMIT)
    assert spec["components"]["parameters"]["Cursor"]["schema"]["maxLength"] == pages.MAX_CURSOR_LENGTH
    suspension = spec["paths"]["/users/{userId}/suspension"]["put"]["requestBody"]["content"]
    body = suspension["application/json"]["schema"]
    assert body["properties"]["until"]["type"] == ["string", "null"]  # nullable: a ban
    assert body["properties"]["until"]["pattern"] == TIME_PATTERN
    assert body["properties"]["reason"]["maxLength"] == requests.REASON_MAX
    resolve = spec["paths"]["/reports/{reportId}/resolve"]["post"]
    assert resolve["parameters"][0]["schema"]["pattern"] == "^" + requests.REPORT_ID.pattern + "$"
    assert resolve["requestBody"]["content"]["application/json"]["schema"]["properties"]["resolution"][
        "enum"
    ] == list(vocab.RESOLUTIONS)
    assert "http://127.0.0.1:8000/account_api" in [server["url"] for server in spec["servers"]]


def test_the_routes_that_enforce_safety_document_their_403() -> None:
    matching = load_spec("matching_api")
    for path in ("/queue", "/rooms", "/rooms/join"):
        assert "403" in matching["paths"][path]["post"]["responses"], path
    described = matching["components"]["responses"]["Forbidden"]["description"]
    assert "adult_confirmation_required" in described and "suspended" in described
    tokens = load_spec("issue_tokens")
    for path in ("/livekit-token", "/ws-token"):
        assert "403" in tokens["paths"][path]["post"]["responses"], path
    assert "suspended" in tokens["components"]["responses"]["Forbidden"]["description"]


def test_text_patterns_in_every_document_are_the_servers_own() -> None:
    """A text rule written into a document is one of shared/text.py's patterns, word for word, so the
    documents and the server cannot drift apart (tests/test_input_layer.py checks the patterns
    against the server's checks)."""
    from shared import text

    own = {
        text.ONE_LINE_PATTERN,
        text.ONE_LINE_NOT_BLANK_PATTERN,
        text.MULTI_LINE_PATTERN,
        text.MULTI_LINE_NOT_BLANK_PATTERN,
    }
    found = 0
    for path in sorted((ROOT / "docs" / "openapi").glob("*.yaml")):
        for pattern in re.findall(r"pattern: '([^']*\\x00[^']*)'", path.read_text()):
            assert pattern in own, (path.name, pattern)
            found += 1
    assert found >= 4
