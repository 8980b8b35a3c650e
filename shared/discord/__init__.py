"""Discord as the invitations system's front door: HTTP interactions, the REST worker, web sign-in.

- config:      DISCORD_* settings, read on first use
- signature:   Ed25519 verification of interaction requests (X-Signature-Ed25519 / -Timestamp)
- interaction: the interaction JSON -> a typed `Interaction` (who, what, which values)
- commands:    the slash command definitions, the one list `make discord-commands` registers
- custom_ids:  what a button's or modal's custom_id carries (at most 100 characters)
- jst:         the modal's date-time text (JST) -> aware datetimes
- texts:       every Japanese sentence the bot says
- render:      invitations, lists and tickets -> message payloads (embeds, buttons)
- handlers:    interaction -> response within Discord's 3 s (validation, domain call, outbox publish)
- outbox:      the Pub/Sub messages to the worker (`discord-outbox`) and their shapes
- publish:     publishing them (the one module here that needs the Pub/Sub client)
- rest:        Discord REST client: per-route buckets, the global limit, 429 `retry_after`, bounded retries
- jobs:        PostgreSQL records that make the worker idempotent (job progress, message leases)
- worker:      what the worker does per outbox message (post, thread, staff channel, edits)
- oauth:       OAuth2 authorization code + PKCE, `users/@me`, the guild member lookup
- custom_token: Firebase custom tokens (IAM signBlob in production, unsigned for the Auth emulator)

Nothing here imports sqlalchemy, redis, Pub/Sub or requests at module level (cold-start rule).
"""
