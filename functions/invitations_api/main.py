"""`invitations_api` (HTTPS). Routes are added by its issue; /healthz checks the stores it uses."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.http import Api

api = Api("invitations_api", stores=("postgres", "redis"))


@functions_framework.http
def invitations_api(request: Request) -> Response:
    return api(request)
