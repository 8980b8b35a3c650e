"""/healthz's Pub/Sub probe: an answer from the service counts, whatever it says about the topic (a
publisher-only service account cannot read topics); no answer is a store that is down."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.ports import free_port
from devstack.stack import Stack
from shared.clients import pubsub
from shared.config import reset_settings

pytestmark = pytest.mark.stack


@pytest.fixture
def emulator_at() -> Iterator[None]:
    saved = os.environ.get("PUBSUB_EMULATOR_HOST")
    yield
    if saved is not None:
        os.environ["PUBSUB_EMULATOR_HOST"] = saved
    reset_settings()
    pubsub.get_publisher.reset()


def test_a_reachable_service_is_healthy_though_the_probe_topic_does_not_exist(
    stack: Stack, emulator_at: None
) -> None:
    pubsub.get_publisher.reset()
    pubsub.ping()


def test_an_unreachable_service_is_down(stack: Stack, emulator_at: None) -> None:
    os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{free_port()}"  # nothing listens there
    reset_settings()
    pubsub.get_publisher.reset()
    with pytest.raises(Exception) as raised:
        pubsub.ping(timeout_s=1.0)
    assert "NotFound" not in type(raised.value).__name__
    assert "PermissionDenied" not in type(raised.value).__name__
