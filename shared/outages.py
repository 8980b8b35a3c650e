"""Which exceptions mean "a store is unreachable right now" (not a bug, not the caller's fault).

That includes a store that gave up on a statement because of other work (a lock held too long, a
deadlock): the request did nothing wrong and the same request a moment later succeeds.

An HTTP function answers those with 503 and Retry-After instead of a bare 500, so a client knows to
come back; event functions let them escape so the platform retries. Only libraries already imported
are consulted: asking must not load a client a function does not use (cold start).
"""

from __future__ import annotations

import sys

from shared.pg_errors import CONTENDED, QUERY_CANCELED, sqlstate

# (module, class name) of the errors that say the store did not answer in time or at all.
_OUTAGES = (
    ("redis.exceptions", "ConnectionError"),
    ("redis.exceptions", "TimeoutError"),
    ("redis.exceptions", "BusyLoadingError"),
    ("google.api_core.exceptions", "ServiceUnavailable"),
    ("google.api_core.exceptions", "DeadlineExceeded"),
    ("google.api_core.exceptions", "RetryError"),
    # The server gave up on the call: rare in production, and the emulator's answer to a commit
    # whose fan-out met a broken listen stream. A write may or may not have applied.
    ("google.api_core.exceptions", "Cancelled"),
    ("sqlalchemy.exc", "OperationalError"),
    ("sqlalchemy.exc", "TimeoutError"),  # no pooled connection came free in time
    ("sqlalchemy.exc", "InterfaceError"),
)


# SQLSTATEs of a statement PostgreSQL gave up on because of other work, not because of the statement
# (the limits are set in shared/clients/postgres.py). Retrying later succeeds.
_GAVE_UP_SQLSTATES = CONTENDED | {QUERY_CANCELED}


def _types() -> tuple[type[BaseException], ...]:
    # A socket a store client was using broke (reset, broken pipe, refused): pg8000 lets these
    # through unwrapped when a server closes a pooled connection between two statements.
    found: list[type[BaseException]] = [ConnectionError]
    for module_name, name in _OUTAGES:
        module = sys.modules.get(module_name)
        kind = getattr(module, name, None) if module is not None else None
        if isinstance(kind, type) and issubclass(kind, BaseException):
            found.append(kind)
    return tuple(found)


def is_outage(error: BaseException) -> bool:
    """Whether `error` (or what it was raised from) is a store being unreachable."""
    kinds = _types()
    seen: BaseException | None = error
    for _ in range(5):  # follow `raise ... from` a little way
        if seen is None:
            return False
        if isinstance(seen, kinds) or sqlstate(seen) in _GAVE_UP_SQLSTATES:
            return True
        if getattr(seen, "connection_invalidated", False):
            # SQLAlchemy discarded the connection the statement ran on: the session was lost (the
            # server closed it: a failover, a terminated backend), whatever error class it came as.
            return True
        seen = seen.__cause__ or seen.__context__
    return False
