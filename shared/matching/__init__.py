"""Random matching, select rooms and presence (issue 5).

Entry points other functions use:
- `shared.matching.tickets.remove_from_queue(uid, *, reason)`: take a user out of matching.
- `shared.matching.tickets.expire_tickets(now, limit)`: bounded sweep of expired tickets.

Modules: `config` (settings), `model` (preferences, classes, request parsing), `scripts` (the Lua
steps in this folder), `store` (Firestore names and transaction helpers), `tickets` (enqueue,
leave, expiry), `pairing` (the worker: claim pairs in Redis, create rooms in Firestore, settle),
`rooms` (select rooms by code, leave), `codes` (room codes), `presence` (heartbeats).
"""
