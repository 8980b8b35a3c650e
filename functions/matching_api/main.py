"""`matching_api` (HTTPS). Routes are added by its issue; /healthz checks the stores it uses."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.http import Api

api = Api("matching_api", stores=("firestore", "redis", "pubsub"))


@functions_framework.http
def matching_api(request: Request) -> Response:
    return api(request)
