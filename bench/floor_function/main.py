"""The floor of an HTTP function on this stack, for bench/issue_tokens_bench.py: what every
authenticated route of every function pays and nothing more.

It is served like a deployed function (functions-framework under gunicorn with the threads of the
function it stands beside, behind the same gateway; devstack.stack.ExtraFunction) and goes through
the same `shared.http.Api`: trace context, routing, the Firebase ID token checked by
shared/auth.py, the JSON body read and decoded, a JSON answer with CORS and the request's log line.
No store is touched. It is not in functions/manifest.yaml: nothing deploys it.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.http import Api, ApiRequest, Reply

api = Api("bench_floor", stores=())


@api.route("POST", "/floor")
def floor(request: ApiRequest) -> Reply:
    request.json(optional=True)  # the same small body the token routes read
    return Reply(200, {"uid": request.uid})


@functions_framework.http
def bench_floor(request: Request) -> Response:
    return api(request)
