"""docs/openapi/matching_api.yaml and the routes matching_api really serves agree."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import yaml

from devstack.manifest import ROOT

SPEC_PATH = ROOT / "docs" / "openapi" / "matching_api.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


def load_api() -> Any:
    spec = importlib.util.spec_from_file_location(
        "matching_api_main", ROOT / "functions" / "matching_api" / "main.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.api


def served_routes() -> set[tuple[str, str]]:
    routes = set()
    for endpoint in load_api()._routes:
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


def test_document_is_openapi_3_1_and_its_references_resolve() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    assert spec["openapi"].startswith("3.1.")
    for ref in refs(spec):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_every_route_is_documented_and_every_documented_route_is_served() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    assert served_routes() == documented_routes(spec)


def test_path_parameters_are_declared() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)


def test_authenticated_routes_document_401_and_bad_input_routes_document_400() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or operation.get("security") == []:
                continue
            assert "401" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)
