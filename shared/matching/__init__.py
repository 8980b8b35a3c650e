"""Random matching: the queue and the worker that pairs it.

Modules: `model` (preferences, compatibility, request parsing), `queue` (enqueue, leave, expiry,
healing orphaned claims), `pairing` (the worker: claim pairs in Redis, create their rooms in
Firestore, settle). The Lua steps beside them run through shared.redis_scripts. Select rooms and
leaving a room are shared.rooms; the user's status is shared.users.state.
"""
