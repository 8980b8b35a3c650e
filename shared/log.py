"""Structured JSON logging in the shape Cloud Logging reads from stdout.

One JSON object per line with `severity`, `message`, `logging.googleapis.com/trace` (from the
current request's trace context) and any `fields` passed by the caller. Never pass a token or a
secret as a field: nothing here can tell them apart from other strings.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)
_configured = False

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


def trace_from_headers(headers: Any, project_id: str | None) -> str | None:
    """`projects/P/traces/T` from `traceparent` (W3C) or `X-Cloud-Trace-Context`."""
    trace_id = None
    traceparent = headers.get("traceparent")
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) >= 3 and len(parts[1]) == 32:
            trace_id = parts[1]
    if trace_id is None:
        cloud = headers.get("X-Cloud-Trace-Context")
        if cloud:
            trace_id = cloud.split("/", 1)[0] or None
    if trace_id is None:
        return None
    return f"projects/{project_id}/traces/{trace_id}" if project_id else trace_id


def set_trace(trace: str | None) -> contextvars.Token[str | None]:
    return _trace.set(trace)


def reset_trace(token: contextvars.Token[str | None]) -> None:
    _trace.reset(token)


class CloudLoggingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        trace = _trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["stack_trace"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure() -> None:
    """Route the root logger to stdout as JSON lines (idempotent)."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    _configured = True


def get_logger(name: str) -> logging.Logger:
    configure()
    return logging.getLogger(name)


def log_event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """One structured line: `message` plus `fields` as top-level JSON keys."""
    logger.log(level, message, extra={"fields": fields})
