"""What PostgreSQL said about a failed statement: the fields of its ErrorResponse.

pg8000 raises a server's error with those fields as its first argument, a dict keyed by the
protocol's one-letter codes: "C" the SQLSTATE, "S" the severity, "n" the constraint, "c" the column.
SQLAlchemy wraps it and keeps it as `.orig`. Reading them needs neither library loaded.
"""

from __future__ import annotations

from typing import Any

# The statement waited past lock_timeout for rows another transaction holds, or its transaction was
# aborted to end a deadlock or a serialization conflict: other writers' doing, gone in a moment.
CONTENDED = frozenset({"55P03", "40P01", "40001"})
QUERY_CANCELED = "57014"  # ran past statement_timeout (or was cancelled by an operator)


def fields(error: BaseException) -> dict[str, Any]:
    """The ErrorResponse fields of a pg8000 error or of SQLAlchemy's wrapper of one; {} for any other."""
    args = getattr(getattr(error, "orig", None) or error, "args", ())
    found = args[0] if args else None
    return found if isinstance(found, dict) else {}


def sqlstate(error: BaseException) -> str | None:
    code = fields(error).get("C")
    return code if isinstance(code, str) else None
