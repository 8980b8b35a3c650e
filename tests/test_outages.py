"""A store that failed a call (not the caller's fault, not a bug) is a 503 with Retry-After.

Firestore answers CANCELLED now and then in production (an RPC the server gave up on), and the
emulator does when a listen stream broke during the commit's fan-out: worth a retry, never a 500.
"""

from __future__ import annotations

import json

from flask import Request
from google.api_core import exceptions
from werkzeug.test import EnvironBuilder

from shared.http import Api
from shared.outages import is_outage


def test_store_failures_count_as_outages_directly_and_through_their_cause() -> None:
    for error in (
        exceptions.Cancelled("call already cancelled"),
        exceptions.ServiceUnavailable("down"),
        exceptions.DeadlineExceeded("slow"),
    ):
        assert is_outage(error), error
        try:
            try:
                raise error
            except exceptions.GoogleAPICallError as cause:
                raise RuntimeError("wrapped") from cause
        except RuntimeError as wrapped:
            assert is_outage(wrapped)
    assert not is_outage(exceptions.InvalidArgument("a bug of ours"))
    assert not is_outage(ValueError("a bug of ours"))


def test_a_lost_database_session_is_an_outage_whatever_it_comes_as() -> None:
    import sqlalchemy.exc

    # pg8000 lets a reset socket through unwrapped when the server closed a pooled connection.
    assert is_outage(ConnectionResetError(104, "Connection reset by peer"))
    # The server's FATAL goodbye is a plain DatabaseError; SQLAlchemy marks the connection invalidated.
    lost = sqlalchemy.exc.DBAPIError("SELECT 1", {}, Exception("57P01"), connection_invalidated=True)
    assert is_outage(lost)
    kept = sqlalchemy.exc.DBAPIError("SELECT 1", {}, Exception("23505"), connection_invalidated=False)
    assert not is_outage(kept)  # a constraint violation is the caller's or ours, not an outage


def test_a_cancelled_store_call_is_a_json_503_with_retry_after() -> None:
    api = Api("outage_probe", stores=())

    @api.route("POST", "/write", auth=False)
    def write(request: object) -> dict[str, str]:
        raise exceptions.Cancelled("call already cancelled")

    @api.route("POST", "/bug", auth=False)
    def bug(request: object) -> dict[str, str]:
        raise exceptions.InvalidArgument("a request we built wrong")

    response = api(Request(EnvironBuilder(method="POST", path="/write").get_environ()))
    assert response.status_code == 503
    assert json.loads(response.get_data())["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    response = api(Request(EnvironBuilder(method="POST", path="/bug").get_environ()))
    assert response.status_code == 500
    assert json.loads(response.get_data()) == {"error": {"code": "internal", "message": "internal error"}}
