"""The HTTP side of a function: routing, CORS, authentication, JSON errors, one log line a request.

A function's main.py builds an `Api`, registers routes with `@api.route(...)` and hands every
request to it. Routing uses werkzeug's Map (already loaded by functions-framework's Flask), so
paths like `/rooms/<room_id>/leave` cost nothing extra at cold start.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Request, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from shared import log
from shared.config import ConfigError, settings
from shared.errors import ApiError, invalid
from shared.request_body import MAX_BODY_BYTES, decode_object, read_limited
from shared.text import not_one_line, unstorable

if TYPE_CHECKING:
    from shared.auth import Caller
    from shared.ratelimit import Pending

logger = log.get_logger("shared.http")

JSON_TYPE = "application/json"


@dataclass
class Reply:
    """What a route returns: a status, a JSON-serialisable body, extra headers, and fields for the
    request's one log line (what the route learned: a cache hit, the room; never a secret)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApiRequest:
    raw: Request
    params: dict[str, Any]
    caller: Caller | None = None
    allowed_query: frozenset[str] = frozenset()
    budget: Pending | None = None  # set for a route whose Budget is taken `with_first_read`
    _body: bytes | None = field(default=None, repr=False)

    @property
    def uid(self) -> str:
        assert self.caller is not None, "route declared auth=False"
        return self.caller.uid

    def json(self, *, optional: bool = False) -> dict[str, Any]:
        """The body as a JSON object; 400/413/415 JSON errors for anything else (shared.request_body)."""
        if self._body is None:
            self._body = read_limited(self.raw.stream, self.raw.content_length)
        if not self._body:
            if optional:
                return {}
            raise ApiError(400, "invalid_json", "request body must be a JSON object")
        mimetype = self.raw.mimetype
        if mimetype and mimetype != JSON_TYPE:
            raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
        return decode_object(self._body)

    def query(self, name: str) -> str | None:
        """A query parameter, or None when it is left out. Given, it must be one line of text that is
        not empty (leave it out instead): anything else is a 400."""
        # A parameter the route did not declare would be refused before the handler runs.
        assert name in self.allowed_query, f"declare query parameter {name!r} in the route"
        value = self.raw.args.get(name)
        if value is None:
            return None
        if value == "":
            raise invalid(name, "must not be empty (leave it out instead)")
        reason = unstorable(value) or not_one_line(value)
        if reason:
            raise invalid(name, reason)
        return value


Handler = Callable[[ApiRequest], Reply]


@dataclass
class _Seen:
    """What dispatch learned before anything failed, for the request's log line."""

    route: str | None = None
    uid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    log_line: bool = True


def not_found_route(method: str, path: str) -> ApiError:
    # repr() keeps a control character in the path from breaking the message onto two lines.
    return ApiError(404, "not_found", f"no route for {method} {path!r}")


@dataclass(frozen=True)
class Budget:
    """A per-user token bucket shared by the routes that name it: `per_minute()` reads its size
    from the settings at first use (shared/ratelimit.py does the counting)."""

    name: str
    per_minute: Callable[[], int]
    # The handler takes from the bucket in the script of its first Redis read (`ApiRequest.budget`,
    # shared.ratelimit.Pending): one round trip for both. Whatever the handler does, the request
    # pays once, and an empty bucket answers 429 before any other answer.
    with_first_read: bool = False
    # How many requests the bucket holds (what a caller may send at once), from the settings; None:
    # a minute's allowance.
    burst: Callable[[], int] | None = None


@dataclass
class _Route:
    handler: Handler
    auth: bool
    budget: Budget | None = None
    exclusive: str | None = None
    query: frozenset[str] = frozenset()


class Api:
    """Routes of one HTTP function plus its `/healthz`."""

    def __init__(self, name: str, stores: Iterable[str]) -> None:
        self.name = name
        self.stores = tuple(stores)
        self._map = Map(strict_slashes=False, merge_slashes=False)
        self._routes: dict[str, _Route] = {}
        self.route("GET", "/healthz", auth=False)(self._healthz)
        _register_error_handler(self.http_error)

    def route(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        budget: Budget | None = None,
        exclusive: str | None = None,
        query: Iterable[str] = (),
    ) -> Callable[[Handler], Handler]:
        """Register a handler. `budget`: the caller's token bucket this route draws from (429 with
        Retry-After when empty, checked before the body is read, or in the handler's first Redis
        read when the budget says `with_first_read`). `exclusive`: one request of the
        caller at a time for this scope (shared/user_lock.py). `query`: the query parameters it
        reads; any other, or one given twice, is a 400."""
        if (budget or exclusive) and not auth:
            raise ValueError("budgets and locks are per user: the route must authenticate")

        def register(handler: Handler) -> Handler:
            endpoint = f"{method} {path}"
            methods = [method, "HEAD"] if method == "GET" else [method]
            self._map.add(Rule(path, endpoint=endpoint, methods=methods))
            self._routes[endpoint] = _Route(handler, auth, budget, exclusive, frozenset(query))
            return handler

        return register

    def _healthz(self, request: ApiRequest) -> Reply:
        from shared.health import check_stores

        report = check_stores(self.stores)
        status = 200 if report["status"] == "ok" else 503
        return Reply(status, {"function": self.name, **report})

    def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        trace_token = log.set_trace(log.trace_from_headers(request.headers, _project_or_none()))
        try:
            seen = _Seen()
            reply = self._reply(request, seen)
            seen.extra.update(reply.log)
            response = self._encode(reply, request)
            if seen.log_line:
                self._log_request(request, response, seen, started)
            return response
        finally:
            log.reset_trace(trace_token)

    def _reply(self, request: Request, seen: _Seen) -> Reply:
        try:
            return Reply(204, None) if request.method == "OPTIONS" else self._dispatch(request, seen)
        except ApiError as exc:
            # A flood's repeated refusal is counted into the next logged one, not a line each.
            seen.log_line = not getattr(exc, "quiet", False)
            if refusals := getattr(exc, "unlogged_refusals", None):
                seen.extra["unloggedRefusals"] = refusals
            return Reply(exc.status, exc.body(), exc.headers)
        except ConfigError as exc:
            # Misconfiguration is the operator's problem: name the variable in the log and in the
            # response (the message never holds a secret's value).
            logger.error("configuration error", extra={"fields": {"error": str(exc)}})
            return Reply(500, {"error": {"code": "misconfigured", "message": str(exc)}})
        except Exception as exc:
            from shared.outages import is_outage

            where = {"route": seen.route or request.path, "uid": seen.uid, "function": self.name}
            if is_outage(exc):
                # A store did not answer: not a bug and not the caller's fault; worth a retry.
                log.log_event(logger, "store unavailable", logging.WARNING, error=type(exc).__name__, **where)
                body = {
                    "error": {"code": "unavailable", "message": "a data store did not answer; retry shortly"}
                }
                return Reply(503, body, {"Retry-After": "5"})
            # A bug: the stack trace, the route and the caller go to the log (with the trace id the
            # formatter adds), the client gets a JSON 500 that reveals nothing.
            logger.exception("unhandled error", extra={"fields": where})
            return Reply(500, {"error": {"code": "internal", "message": "internal error"}})

    def _log_request(self, request: Request, response: Response, seen: _Seen, started: float) -> None:
        fields = {k: v for k, v in seen.extra.items() if v is not None}
        # The request line's own fields win over a route's of the same name.
        fields.update(
            httpRequest={
                "requestMethod": request.method,
                "requestUrl": request.path,
                "status": response.status_code,
                "latency": f"{time.perf_counter() - started:.6f}s",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            function=self.name,
            uid=seen.uid,
        )
        log.log_event(
            logger,
            # The route is "METHOD /template"; a request that matched none is named by its path.
            f"{seen.route or f'{request.method} {request.path}'} {response.status_code}",
            logging.WARNING if response.status_code >= 500 else logging.INFO,
            **fields,
        )

    def _dispatch(self, request: Request, seen: _Seen) -> Reply:
        path = request.path or "/"
        adapter = self._map.bind("localhost", path_info=path)
        try:
            endpoint, params = adapter.match(path, method=request.method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(set(exc.valid_methods or []) - {"HEAD"}))
            raise ApiError(
                405, "method_not_allowed", f"allowed: {allowed}", headers={"Allow": allowed}
            ) from None
        except NotFound:
            raise not_found_route(request.method, path) from None
        seen.route = endpoint
        for name, value in params.items():
            reason = unstorable(value) or not_one_line(value)
            if reason:
                raise invalid(name, reason)
        route = self._routes[endpoint]
        _check_query(request, route.query)
        caller = None
        if route.auth:
            # Imported here: a function whose routes take no ID token (discord_interactions, discord_auth)
            # never loads PyJWT and cryptography's RSA/EC code at cold start.
            from shared.auth import bearer_token, verify_id_token

            caller = verify_id_token(bearer_token(request.headers.get("Authorization")))
        seen.uid = caller.uid if caller else None
        api_request = ApiRequest(request, dict(params), caller, route.query)
        pending = None
        if caller is not None and route.budget is not None:
            from shared import ratelimit

            burst = route.budget.burst() if route.budget.burst is not None else None
            limit = ratelimit.Limit(route.budget.name, route.budget.per_minute(), burst)
            if route.budget.with_first_read:
                ratelimit.refuse_known_empty(limit, caller.uid)
                pending = api_request.budget = ratelimit.Pending(limit, caller.uid)
            else:
                ratelimit.check(limit, caller.uid)
        try:
            return self._handle(route, api_request, caller)
        finally:
            if pending is not None and not pending.taken:
                pending.take()  # an empty bucket's 429 replaces the handler's answer, error or not

    @staticmethod
    def _handle(route: _Route, api_request: ApiRequest, caller: Caller | None) -> Reply:
        if caller is not None and route.exclusive is not None:
            from shared.user_lock import exclusive

            with exclusive(caller.uid, route.exclusive):
                return route.handler(api_request)
        return route.handler(api_request)

    def http_error(self, exc: HTTPException) -> Response:
        """Errors raised before a request reaches `__call__` (functions-framework's own routing, e.g. a
        path with a line break): the same JSON shape as every other error, never Flask's HTML."""
        from flask import request

        status = exc.code or 500
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            status, "bad_request"
        )
        if status >= 500:
            code = "internal"
        body = {"error": {"code": code, "message": exc.description or exc.name}}
        return self._encode(Reply(status, body), request)

    def _encode(self, reply: Reply, request: Request) -> Response:
        payload = (
            b""
            if reply.body is None
            else json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False, default=str).encode()
        )
        if _body_may_be_unbounded(request):
            # functions-framework reads whatever body is left after the answer; a body that claims
            # megabytes (or never says, chunked) would hold this thread for as long as the client
            # likes. A streamed answer is exempt from that read, and `close` ends the connection.
            response = Response(iter([payload]), status=reply.status, mimetype=JSON_TYPE)
            response.headers["Connection"] = "close"
        elif reply.body is None:
            response = Response(status=reply.status)
        else:
            response = Response(payload, status=reply.status, mimetype=JSON_TYPE)
        response.headers.setdefault("Cache-Control", "no-store")
        for name, value in reply.headers.items():
            response.headers[name] = value
        _add_cors(response, request)
        return response


def _body_may_be_unbounded(request: Request) -> bool:
    length = request.content_length
    if length is not None:
        return length > MAX_BODY_BYTES
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _check_query(request: Request, allowed: frozenset[str]) -> None:
    for name in request.args:
        if name not in allowed:
            raise invalid(name or "query", f"query parameter {name!r} is not known here")
        if len(request.args.getlist(name)) > 1:
            raise invalid(name, "must be given once")


def _register_error_handler(handler: Callable[[HTTPException], Response]) -> None:
    """functions-framework imports main.py inside its Flask app's context: errors its own routing
    raises (before our handler runs) then answer in our JSON shape too. Imported anywhere else (a
    test, a tool), there is no app of ours to register on."""
    from flask import current_app, has_app_context

    if has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if not getattr(app, "_got_first_request", False):
            app.register_error_handler(HTTPException, handler)


def _project_or_none() -> str | None:
    try:
        return settings().project_id
    except ConfigError:
        return None


# What browser code may read besides the CORS-safelisted headers: when to retry (429, 503) and
# whether a list came from the cache (invitations_api).
EXPOSED_HEADERS = "Retry-After, X-Cache"
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


def _add_cors(response: Response, request: Request) -> None:
    allowed = settings().cors_allowed_origins
    if "*" not in allowed:
        # With a list, the answer depends on the Origin header (present, absent, refused): a shared
        # cache must not hand one origin's answer to another (the JWKS is cacheable).
        response.headers["Vary"] = "Origin"
    origin = request.headers.get("Origin")
    if not origin:
        return
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
    else:
        return
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, traceparent"
        response.headers["Access-Control-Max-Age"] = "3600"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
