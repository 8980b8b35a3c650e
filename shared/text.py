"""What text the backend can store, and what a one-line field may hold.

Every store we use speaks UTF-8: a string holding an unpaired UTF-16 surrogate (possible in JSON
through `\\ud800` escapes) cannot be encoded at all, and PostgreSQL refuses NUL in text. Both are
refused at the door with a 400 naming the field, so they never reach a driver. Format characters
(right-to-left marks, zero-width joiners in emoji, a BOM) are ordinary text and are kept as sent.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: nothing a
# name, a title or an id may contain.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# In longer text (a description), line breaks and tabs are text; other controls are not.
_NOT_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# What counts as white space, exactly as in the documents' (ECMAScript) regular expressions, so a
# value the document calls blank is blank here too (Python's str.isspace() disagrees on U+FEFF).
WHITESPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_NOT_BLANK = re.compile(f"[^{WHITESPACE}]")

# The same rules as patterns the OpenAPI documents carry word for word (tests/test_openapi.py checks),
# written without look-arounds so that any JSON Schema tool can generate matching text.
ONE_LINE_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]*$"
ONE_LINE_NOT_BLANK_PATTERN = (
    "^[ \\xa0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\ufeff]*"
    "[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]"
    "[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]*$"
)
MULTI_LINE_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"


def is_blank(value: str) -> bool:
    return _NOT_BLANK.search(value) is None


def unstorable(value: str) -> str | None:
    """Why `value` cannot be stored, or None when it can."""
    if _SURROGATE.search(value):
        return "contains an unpaired UTF-16 surrogate"
    if "\x00" in value:
        return "contains a NUL character"
    return None


def not_multi_line(value: str) -> str | None:
    """Why `value` is not text (control characters other than line breaks and tabs), or None."""
    if _NOT_MULTI_LINE.search(value):
        return "must not contain control characters"
    return None


def not_one_line(value: str) -> str | None:
    """Why `value` is not a single line of text (control characters, line breaks), or None."""
    if _NOT_ONE_LINE.search(value):
        return "must be a single line without control characters"
    return None
