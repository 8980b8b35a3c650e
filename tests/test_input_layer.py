"""The request-decoding layer under generated input: unpaired surrogates, NUL, right-to-left marks,
byte-order marks, control characters, any bytes at all. It returns a value or refuses with a 400 that
names the field; nothing else escapes. The text rules the documents state as patterns agree with
the server's own checks on every string."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared import text
from shared.errors import ApiError
from shared.request_body import MAX_DEPTH, decode_json
from shared.validate import get_str
from tests.conftest import http

# Text a hostile client would try: any code point, surrogates included (json.dumps writes them as
# \\udXXX escapes), weighted towards the troublemakers.
TROUBLE = st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\u202e", "\u200f", "\ufeff", "\u2028", "\n", "\x1b", "\x85"]
)
TEXT = st.lists(st.one_of(st.characters(), TROUBLE), max_size=30).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        return text.unstorable(value) is None
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    return True


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_json_value_decodes_exactly_or_is_refused_naming_where(value: Any) -> None:
    raw = json.dumps(value).encode()
    # What the bytes say, read by the standard parser: two surrogates that form a pair in `value`
    # are written as "\\ud800\\udc00", which every JSON reader reads as the one character U+10000.
    meant = json.loads(raw)
    try:
        decoded = decode_json(raw)
    except ApiError as error:
        assert error.status == 400
        assert not _storable(meant)
        assert error.field  # names the key path, or `body` for a bare string
        return
    assert _storable(meant) and decoded == meant


def test_a_surrogate_pair_in_escapes_is_one_storable_character() -> None:
    assert decode_json(json.dumps({"\ud800\udc00": "\ud83d\ude00"}).encode()) == {"\U00010000": "\U0001f600"}
    with pytest.raises(ApiError):
        decode_json(json.dumps({"a": "\udc00\ud800"}).encode())  # reversed: two lone surrogates


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_are_a_400(raw: bytes) -> None:
    try:
        decode_json(raw)
    except ApiError as error:
        assert error.status == 400


def test_depth_is_bounded_at_the_limit() -> None:
    assert decode_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(ApiError):
        decode_json(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_the_documents_text_patterns_agree_with_the_server(value: str) -> None:
    if text.unstorable(value):
        return  # refused before any pattern applies (a JSON Schema string has no lone surrogates)
    one_line_ok = text.not_one_line(value) is None
    assert bool(re.fullmatch(text.ONE_LINE_PATTERN, value)) == one_line_ok
    assert bool(re.fullmatch(text.ONE_LINE_NOT_BLANK_PATTERN, value)) == (
        one_line_ok and not text.is_blank(value)
    )
    multi_line_ok = text.not_multi_line(value) is None
    assert bool(re.fullmatch(text.MULTI_LINE_PATTERN, value)) == multi_line_ok
    assert bool(re.fullmatch(text.MULTI_LINE_NOT_BLANK_PATTERN, value)) == (
        multi_line_ok and not text.is_blank(value)
    )
    try:
        got = get_str({"name": value}, "name", max_len=10_000, not_blank=True)
    except ApiError as error:
        assert error.status == 400 and error.field == "name"
        assert not (one_line_ok and not text.is_blank(value) and value)
    else:
        assert got == value and re.fullmatch(text.ONE_LINE_NOT_BLANK_PATTERN, value)


# -- through the stack ---------------------------------------------------------------------------------
@pytest.mark.stack
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_name=TEXT, description=TEXT)
@example(event_name="\ud800\udc00", description="\ud800")  # a pair (one character) and a lone one
def test_generated_text_is_stored_exactly_or_refused(
    gateway: str, token: Callable[..., str], event_name: str, description: str
) -> None:
    host = str(uuid.uuid4().int)[:18]
    start = datetime.now(UTC) + timedelta(days=2)
    body = {
        "id": str(uuid.uuid4().int)[:18],
        "threadId": str(uuid.uuid4().int)[:18],
        "eventName": event_name,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
        "worldName": "World",
        "tag": "その他",
        "description": description,
        "instanceType": "group",
        "maxParticipants": 3,
    }
    headers = {"Authorization": f"Bearer {token(host)}"}
    raw = json.dumps(body).encode()  # ASCII with \\u escapes: lone surrogates reach the server as such
    status, reply, _ = http("POST", f"{gateway}/invitations_api/invitations", raw, headers)
    assert status in (201, 400), reply
    if status == 400:
        assert reply["error"]["field"] in ("eventName", "description")
        return
    status, stored, _ = http("GET", f"{gateway}/invitations_api/invitations/{body['id']}", None, headers)
    # What the bytes said: two generated surrogates that form a pair travel as one escaped character.
    meant = json.loads(raw)
    assert status == 200 and (stored["eventName"], stored["description"]) == (
        meant["eventName"],
        meant["description"],
    )
