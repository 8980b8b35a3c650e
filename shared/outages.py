"""Which exceptions mean "a store is unreachable right now" (not a bug, not the caller's fault).

An HTTP function answers those with 503 and Retry-After instead of a bare 500, so a client knows to
come back; event functions let them escape so the platform retries. Only libraries already imported
are consulted: asking must not load a client a function does not use (cold start).
"""

from __future__ import annotations

import sys

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
        if isinstance(seen, kinds):
            return True
        if getattr(seen, "connection_invalidated", False):
            # SQLAlchemy discarded the connection the statement ran on: the session was lost (the
            # server closed it: a failover, a terminated backend), whatever error class it came as.
            return True
        seen = seen.__cause__ or seen.__context__
    return False
