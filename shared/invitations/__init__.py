"""Invitations domain (PostgreSQL): meetup invitations, their participants, support tickets.

- model:       the allowed values (mirroring the CHECK constraints), typed records, time helpers
- validation:  request JSON -> typed records, every failure a 400 naming the field
- crypto:      MultiFernet encryption of the two sensitive columns, with key rotation
- cursor:      opaque keyset-pagination cursors
- cache:       cache-aside for the list query in Redis with versioned keys
- errors:      a constraint violation that reaches PostgreSQL -> the same 4xx the validation gives
- queries:     what the SQL modules share: pages, the invitation row lock, seat counting
- invitations, participants, support_tickets: the SQL of each aggregate (Q1-Q3 and the writes), one
               short transaction per operation; writes retire the cached list pages themselves
- key_rotation: re-encryption under the newest key (operator command: python -m deploy.invitation_keys)
- completion:  Q4, completing finished invitations in bounded batches (run by auto_close)

Nothing here imports sqlalchemy, redis or cryptography at module level (cold-start rule).
"""
