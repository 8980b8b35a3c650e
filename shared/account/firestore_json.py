"""Firestore values as JSON: timestamps as RFC 3339, references as paths, bytes as base64."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from shared.times import rfc3339


def to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    path = getattr(value, "path", None)  # a DocumentReference
    if isinstance(path, str):
        return path
    latitude = getattr(value, "latitude", None)  # a GeoPoint
    if latitude is not None:
        return {"latitude": latitude, "longitude": value.longitude}
    return str(value)
