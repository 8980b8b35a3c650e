"""Errors that become `{"error": {"code", "message"[, "field"]}}` JSON responses."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with an HTTP status and a stable machine-readable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.details = details or {}  # extra members of the error object (e.g. `until`)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        error.update(self.details)
        return {"error": error}


def invalid(field: str, message: str) -> ApiError:
    """400 for a request field that fails validation; the message names the field."""
    return ApiError(400, "invalid_argument", f"{field}: {message}", field=field)


def unprocessable(field: str, message: str) -> ApiError:
    """422 for a request the document allows but the server cannot carry out: a rule between
    fields, against the current time, or about what a value means (a cursor of another list).
    400 stays for requests that do not match the document."""
    return ApiError(422, "unprocessable", f"{field}: {message}", field=field)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "permission_denied", message)


def conflict(message: str, code: str = "conflict") -> ApiError:
    return ApiError(409, code, message)


class Busy(ApiError):
    """What the caller asked to change is held by other writers for longer than a request waits
    (contended Firestore documents, PostgreSQL rows another transaction holds). Safe to retry."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "busy",
            "the data you asked to change is busy; retry in a moment",
            headers={"Retry-After": "1"},
        )
