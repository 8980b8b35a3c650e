"""`account_api` (HTTPS, Firebase ID token): the caller's account and the safety tools.

Blocks, reports, staff suspensions and report review (the `staff` claim), the data export and
account deletion (202, finished by the `account_deletion` job). What it decides is enforced by the
queue, select rooms, pairing and the token routes (shared/safety.py). Contract:
docs/openapi/account_api.yaml; design: docs/account.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from flask import Request, Response

from shared import ids
from shared.account import blocks, deletion, export, pages, reports, requests, suspensions
from shared.budgets import READS
from shared.config import settings
from shared.errors import forbidden
from shared.http import Api, ApiRequest, Budget, Reply

api = Api("account_api", stores=("firestore", "redis", "pubsub", "auth"))
# Changes that can take the caller out of a room share matching_api's per-user lock scope.
USER_STATE = "user-state"
BLOCKS = Budget("blocks", lambda: settings().rate_limit_blocks_per_min)
REPORTS = Budget("reports", lambda: settings().rate_limit_reports_per_min)
STAFF = Budget("staff-actions", lambda: settings().rate_limit_staff_actions_per_min)
ACCOUNT = Budget("account", lambda: settings().rate_limit_account_per_min)


def _now() -> datetime:
    return datetime.now(UTC)


def _require_staff(request: ApiRequest) -> str:
    assert request.caller is not None
    if not request.caller.is_staff:
        raise forbidden("staff only")
    return request.uid


# -- blocks -----------------------------------------------------------------------------------------
@api.route("GET", "/blocks", budget=READS, query=("limit", "cursor"))
def list_blocks(request: ApiRequest) -> Reply:
    limit = pages.parse_limit(request.query("limit"))
    cursor = pages.decode_cursor(request.query("cursor"))
    return Reply(200, blocks.list_blocks(request.uid, limit, cursor).to_json())


@api.route("POST", "/blocks", budget=BLOCKS, exclusive=USER_STATE)
def block_user(request: ApiRequest) -> Reply:
    other = requests.block_body(request.json())
    block, created = blocks.block(request.uid, other, _now())
    return Reply(201 if created else 200, block.to_json())


@api.route("DELETE", "/blocks/<user_id>", budget=BLOCKS)
def unblock_user(request: ApiRequest) -> Reply:
    other = ids.user_id(request.params["user_id"])
    return Reply(200, {"userId": other, "removed": blocks.unblock(request.uid, other)})


# -- reports ----------------------------------------------------------------------------------------
@api.route("POST", "/reports", budget=REPORTS)
def file_report(request: ApiRequest) -> Reply:
    new = requests.report_body(request.json())
    filed = reports.file_report(request.uid, new.room_id, new.user_id, new.reason, new.note, _now())
    return Reply(201, filed.body)


@api.route("GET", "/reports", budget=READS, query=("status", "limit", "cursor"))
def list_reports(request: ApiRequest) -> Reply:
    _require_staff(request)
    status = requests.report_status(request.query("status"))
    limit = pages.parse_limit(request.query("limit"))
    cursor = pages.decode_cursor(request.query("cursor"))
    return Reply(200, reports.list_reports(status, limit, cursor).to_json())


@api.route("POST", "/reports/<report_id>/resolve", budget=STAFF)
def resolve_report(request: ApiRequest) -> Reply:
    staff = _require_staff(request)
    report_id = requests.report_id(request.params["report_id"])
    resolution, note = requests.resolve_body(request.json())
    return Reply(200, reports.resolve(report_id, staff, resolution, note, _now()))


# -- suspensions (staff) ----------------------------------------------------------------------------
@api.route("PUT", "/users/<user_id>/suspension", budget=STAFF)
def suspend_user(request: ApiRequest) -> Reply:
    staff = _require_staff(request)
    uid = ids.user_id(request.params["user_id"])
    now = _now()
    until, reason = requests.suspension_body(request.json(), now)
    return Reply(200, suspensions.suspend(uid, until, reason, staff, now).to_json())


@api.route("DELETE", "/users/<user_id>/suspension", budget=STAFF)
def lift_suspension(request: ApiRequest) -> Reply:
    staff = _require_staff(request)
    uid = ids.user_id(request.params["user_id"])
    return Reply(200, {"userId": uid, "lifted": suspensions.lift(uid, staff)})


# -- the caller's own account -----------------------------------------------------------------------
@api.route("DELETE", "/me", budget=ACCOUNT, exclusive=USER_STATE)
def delete_me(request: ApiRequest) -> Reply:
    assert request.caller is not None
    return Reply(202, deletion.request_deletion(request.uid, request.caller.claims, _now()))


@api.route("GET", "/me/export", budget=ACCOUNT)
def export_me(request: ApiRequest) -> Reply:
    return Reply(
        200,
        export.export(request.uid, _now()),
        {"Content-Disposition": 'attachment; filename="vchat-export.json"'},
    )


@functions_framework.http
def account_api(request: Request) -> Response:
    return api(request)
