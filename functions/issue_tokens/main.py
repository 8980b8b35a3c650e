"""`issue_tokens` (HTTPS). Routes are added by its issue; /healthz checks the stores it uses."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.http import Api

api = Api("issue_tokens", stores=("firestore", "redis"))


@functions_framework.http
def issue_tokens(request: Request) -> Response:
    return api(request)
