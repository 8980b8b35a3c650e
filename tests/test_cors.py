"""CORS as a browser meets it: the allowed origins (the local stack: the reference web app's), every
documented method allowed by the preflight, and the headers browser code must read exposed
(Retry-After on 429/503, X-Cache on invitation lists). The browser test (test_web_app.py) reads
X-Cache from a real page; these pin the headers themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import yaml
from flask import Request, Response
from werkzeug.test import EnvironBuilder

from deploy.manifest import ROOT
from devstack import webapp
from devstack.stack import Stack
from shared.config import reset_settings
from tests.conftest import http

APIS = ("matching_api", "issue_tokens", "invitations_api", "account_api", "discord_auth")
METHODS = ("get", "post", "put", "patch", "delete")


def _listed(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


@pytest.mark.stack
def test_the_web_app_reads_x_cache_and_retry_after(stack: Stack, token: Callable[..., str]) -> None:
    origin = webapp.url(stack.ports)
    status, _, headers = http(
        "GET",
        f"{stack.gateway_url}/invitations_api/invitations",
        headers={"Origin": origin, "Authorization": f"Bearer {token('cors-reader')}"},
    )
    assert status == 200 and headers["X-Cache"] in ("HIT", "MISS")
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "origin" in _listed(headers["Vary"])
    assert {"x-cache", "retry-after"} <= _listed(headers["Access-Control-Expose-Headers"])


@pytest.mark.stack
def test_a_refused_origin_gets_no_cors_headers(stack: Stack) -> None:
    status, _, headers = http(
        "GET",
        f"{stack.gateway_url}/issue_tokens/.well-known/jwks.json",
        headers={"Origin": "https://evil.example"},
    )
    assert status == 200
    assert "Access-Control-Allow-Origin" not in headers
    # cacheable (the JWKS): a shared cache must keep answers per origin
    assert "origin" in _listed(headers["Vary"])


@pytest.mark.stack
def test_the_preflight_allows_every_documented_route(stack: Stack) -> None:
    origin = webapp.url(stack.ports)
    refused = []
    for api in APIS:
        spec = yaml.safe_load((ROOT / "docs" / "openapi" / f"{api}.yaml").read_text())
        for path, item in spec["paths"].items():
            for method in (m for m in METHODS if m in item):
                concrete = path.replace("{", "x").replace("}", "")
                status, _, headers = http(
                    "OPTIONS",
                    f"{stack.gateway_url}/{api}{concrete}",
                    headers={
                        "Origin": origin,
                        "Access-Control-Request-Method": method.upper(),
                        "Access-Control-Request-Headers": "authorization,content-type",
                    },
                )
                allowed = _listed(headers.get("Access-Control-Allow-Methods", ""))
                allowed_headers = _listed(headers.get("Access-Control-Allow-Headers", ""))
                if (
                    status != 204
                    or headers.get("Access-Control-Allow-Origin") != origin
                    or method not in allowed
                    or not {"authorization", "content-type"} <= allowed_headers
                ):
                    refused.append(f"{method.upper()} {api}{path}: {status} {allowed}")
    assert not refused, refused


@pytest.fixture
def origins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    def set_origins(value: str) -> None:
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", value)
        reset_settings()

    yield set_origins
    monkeypatch.undo()
    reset_settings()


def _answer(origin: str | None, method: str = "GET") -> Response:
    from shared.http import _add_cors

    headers = {"Origin": origin} if origin else {}
    request = Request(EnvironBuilder(method=method, headers=headers).get_environ())
    response = Response()
    _add_cors(response, request)
    return response


def test_a_star_allows_any_origin_and_varies_on_nothing(origins: Callable[[str], None]) -> None:
    origins("*")
    response = _answer("https://anywhere.example")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in response.headers
    assert _listed(response.headers["Access-Control-Expose-Headers"]) == {"retry-after", "x-cache"}


def test_a_list_varies_on_origin_even_without_one(origins: Callable[[str], None]) -> None:
    origins("https://app.example, https://staging.example")
    assert (
        _answer("https://staging.example").headers["Access-Control-Allow-Origin"] == "https://staging.example"
    )
    assert "Access-Control-Allow-Origin" not in _answer("https://evil.example").headers
    for response in (_answer(None), _answer("https://evil.example"), _answer("https://app.example")):
        assert response.headers["Vary"] == "Origin"
    preflight = _answer("https://app.example", "OPTIONS")
    assert {"get", "post", "put", "patch", "delete"} <= _listed(
        preflight.headers["Access-Control-Allow-Methods"]
    )
