"""The realtime room service: one WebSocket per participant for avatar motion, chat and room events.

A Cloud Run service (functions cannot hold WebSockets), asyncio with the `websockets` library. Each
module has one job: `config` (settings), `tokens` (WebSocket JWT against issue_tokens' JWKS),
`messages` (what clients may send and what they receive, close codes), `outbox` (a connection's
bounded send queue and rate limits), `rooms` (local registry and Redis pub/sub fan-out between
instances), `connection` (one socket from handshake to close), `app` (the server and `/healthz`).
"""

import time

STARTED_AT = time.monotonic()  # the first import of the service: its start-up time is measured from here
