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
FUNCTIONS = ("matching_api", "issue_tokens", "discord_auth")


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
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
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
