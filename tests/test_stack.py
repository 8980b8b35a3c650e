"""The local stack behaves like Google Cloud: gateway, Firestore 2nd-gen triggers, Pub/Sub, schedules."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from deploy.manifest import load_manifest
from devstack.firestore_rest import FirestoreRest
from devstack.stack import Stack
from tests.conftest import http, wait_for

HTTP_FUNCTIONS = [name for name, spec in load_manifest().items() if spec.trigger_type == "http"]


def deliveries(stack: Stack) -> list[dict[str, Any]]:
    status, body, _ = http("GET", f"{stack.router_url}/deliveries")
    assert status == 200
    return list(body)


def function_log_events(stack: Stack, function: str, message: str) -> list[dict[str, Any]]:
    lines = (stack.logs_dir / f"fn-{function}.log").read_text(errors="replace").splitlines()
    events = []
    for line in lines:
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("message") == message:
                events.append(entry)
    return events


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_healthz_reports_each_store_through_the_gateway(gateway: str, function: str) -> None:
    status, body, headers = http("GET", f"{gateway}/{function}/healthz")
    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["stores"]) == set(load_manifest()[function].stores)
    for check in body["stores"].values():
        assert check["status"] == "ok"
        assert check["latencyMs"] >= 0
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_requests_without_a_valid_id_token_get_401_json(gateway: str, function: str) -> None:
    # Any authenticated route: the router authenticates before it validates the body.
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}):
        status, body, _ = http("POST", f"{gateway}/{function}/healthz-does-not-exist", {}, headers)
        assert status in (401, 404), body
        assert "error" in body and {"code", "message"} <= set(body["error"])


def test_unknown_function_and_route_are_404_json(gateway: str) -> None:
    status, body, _ = http("GET", f"{gateway}/no_such_function/x")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body, _ = http("GET", f"{gateway}/issue_tokens/no/such/route")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body, headers = http("DELETE", f"{gateway}/issue_tokens/healthz")
    assert status == 405 and headers["Allow"] == "GET"


def test_cors_preflight_is_answered(gateway: str) -> None:
    status, _, headers = http(
        "OPTIONS",
        f"{gateway}/matching_api/queue",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5173")
    assert "Authorization" in headers["Access-Control-Allow-Headers"]


def test_stack_json_lists_the_endpoints(stack: Stack) -> None:
    info = json.loads((stack.state_dir / "stack.json").read_text())
    for key in (
        "gatewayUrl",
        "FIRESTORE_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "DATABASE_URL",
        "REDIS_URL",
        "projectId",
        "functions",
        "livekit",
    ):
        assert info[key], key
    assert set(info["functions"]) == set(load_manifest())
    assert info["livekit"]["apiKey"] == "devkey"


def test_firestore_write_reaches_the_trigger_as_a_real_cloudevent(
    stack: Stack, firestore_rest: FirestoreRest
) -> None:
    uid = f"stack-{uuid.uuid4().hex}"
    assert firestore_rest.set(f"users/{uid}", {"displayName": "Trigger Test", "status": "offline"}) == 200

    def handled() -> list[dict[str, Any]]:
        return [
            e
            for e in function_log_events(stack, "on_user_written", "firestore event handled")
            if e.get("result", {}).get("document") == f"users/{uid}" or uid in json.dumps(e)
        ]

    wait_for(handled)
    delivered = [d for d in deliveries(stack) if d["kind"] == "firestore" and uid in (d.get("subject") or "")]
    assert delivered and delivered[-1]["function"] == "on_user_written" and delivered[-1]["status"] == 200


def test_failed_delivery_is_retried_with_the_same_event_id(
    stack: Stack, firestore_rest: FirestoreRest
) -> None:
    """The function's instance is down when the event arrives; Eventarc-style retries deliver it later."""
    stack.stop_process("fn:on_room_written")
    room_id = f"retry-{uuid.uuid4().hex}"
    try:
        firestore_rest.set(f"rooms/{room_id}", {"type": "select", "status": "waiting", "participants": []})

        def failed_attempt() -> list[dict[str, Any]]:
            return [
                d for d in deliveries(stack) if room_id in (d.get("subject") or "") and d["status"] != 200
            ]

        failures = wait_for(failed_attempt)
    finally:
        stack.restart_process("fn:on_room_written")

    def succeeded() -> list[dict[str, Any]]:
        return [d for d in deliveries(stack) if room_id in (d.get("subject") or "") and d["status"] == 200]

    success = wait_for(succeeded, timeout_s=30)
    assert success[0]["eventId"] == failures[0]["eventId"]
    assert success[0]["attempt"] > failures[0]["attempt"]


def test_pubsub_message_runs_the_function_with_topic_and_id(stack: Stack) -> None:
    marker = uuid.uuid4().hex
    message = {
        "data": base64.b64encode(json.dumps({"kind": "probe"}).encode()).decode(),
        "attributes": {"probe": marker},
    }
    url = f"http://127.0.0.1:{stack.port('pubsub')}/v1/projects/{stack.project}/topics/vrm-sync:publish"
    status, body, _ = http("POST", url, {"messages": [message]})
    assert status == 200
    message_id = body["messageIds"][0]

    def handled() -> list[dict[str, Any]]:
        return [
            e
            for e in function_log_events(stack, "sync_vrm_models", "pubsub event handled")
            if e.get("eventId") == message_id
        ]

    wait_for(handled)
    # The hub records a delivery once the function's answer is back, a moment after its log line.
    delivered = wait_for(
        lambda: [d for d in deliveries(stack) if d["kind"] == "pubsub" and d["eventId"] == message_id]
    )
    assert delivered[-1]["function"] == "sync_vrm_models" and delivered[-1]["status"] == 200


def test_scheduler_fires_a_job_through_pubsub(stack: Stack) -> None:
    status, jobs, _ = http("GET", f"{stack.router_url}/scheduler/jobs")
    assert status == 200
    assert set(jobs) == {s.name for spec in load_manifest().values() for s in spec.schedules}
    assert all(job["nextRun"] for job in jobs.values())
    status, fired, _ = http("POST", f"{stack.router_url}/scheduler/jobs/vrm-sync:run")
    assert status == 200

    def delivered() -> list[dict[str, Any]]:
        return [
            d
            for d in deliveries(stack)
            if d["kind"] == "pubsub" and d["eventId"] == fired["messageId"] and d["status"] == 200
        ]

    wait_for(delivered)
    assert delivered()[0]["function"] == "sync_vrm_models"
