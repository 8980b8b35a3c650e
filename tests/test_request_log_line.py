"""Every HTTP request writes one JSON log line; a route adds what it learned to that line."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from shared.http import Api, ApiRequest, Reply
from shared.log import CloudLoggingFormatter


def test_a_route_adds_its_fields_to_the_one_request_line(caplog: pytest.LogCaptureFixture) -> None:
    api = Api("log_probe", stores=())

    @api.route("POST", "/things/<thing_id>", auth=False)
    def thing(request: ApiRequest) -> Reply:
        fields = {"cacheHit": False, "thingId": request.params["thing_id"], "uid": "forged", "function": "x"}
        return Reply(200, {"ok": True}, log=fields)

    with caplog.at_level(logging.INFO, logger="shared.http"):
        response = api(Request(EnvironBuilder(method="POST", path="/things/t1").get_environ()))
    assert response.status_code == 200
    lines = [json.loads(CloudLoggingFormatter().format(record)) for record in caplog.records]
    assert len(lines) == 1
    line = lines[0]
    assert line["message"] == "POST /things/<thing_id> 200"  # the route, its method named once
    assert line["cacheHit"] is False and line["thingId"] == "t1"  # False is logged, not dropped
    assert line["uid"] is None and line["function"] == "log_probe"  # a route cannot overwrite these
    assert line["httpRequest"]["requestUrl"] == "/things/t1"
