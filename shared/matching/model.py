"""Preferences and compatibility, and parsing of the matching request bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared import keys
from shared.errors import ApiError
from shared.validate import get_object, get_str, reject_unknown

GENDERS = ("male", "female", "other")
NO_GENDER = "none"  # a user whose profile has no (valid) gender
ANY = "any"  # no preference
MIN_ROOM_SIZE, MAX_ROOM_SIZE = 2, 8


def class_queues() -> list[str]:
    """The 16 class sets that together hold the random queue, in the order pair.lua numbers them."""
    return [keys.matching_class_queue(g, w) for g in (*GENDERS, NO_GENDER) for w in (*GENDERS, ANY)]


@dataclass(frozen=True)
class Preferences:
    gender: str | None = None  # the gender the user wants to meet, None = anyone

    def to_doc(self) -> dict[str, Any]:
        return {"gender": self.gender} if self.gender else {}

    @property
    def want(self) -> str:
        return self.gender or ANY


def own_gender(user: dict[str, Any]) -> str:
    gender = user.get("gender")
    return gender if gender in GENDERS else NO_GENDER


def accepts(want: str, gender: str) -> bool:
    return want in (ANY, gender)


def compatible(gender_a: str, want_a: str, gender_b: str, want_b: str) -> bool:
    """Both users accept each other (the same rule pair.lua applies in Redis)."""
    return accepts(want_a, gender_b) and accepts(want_b, gender_a)


def parse_queue_body(body: dict[str, Any]) -> Preferences:
    reject_unknown(body, ("preferences",))
    preferences = get_object(body, "preferences")
    reject_unknown(preferences, ("gender",), prefix="preferences.")
    if "gender" not in preferences:
        return Preferences()
    try:
        gender = get_str(preferences, "gender", choices=GENDERS)
    except ApiError as error:
        error.field = f"preferences.{error.field}"
        error.message = f"preferences.{error.message}"
        raise
    return Preferences(gender)
