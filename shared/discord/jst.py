"""The `/invite` modal's date-time text, written in JST the way members write it, -> aware datetimes.

Accepted (full-width digits and colons too, since Japanese IMEs produce them):
    2025-02-01 21:00 - 23:30          end on the same day, or the next day when it is earlier
    2025/2/1(土) 21:00〜2025/2/2 01:00
    2/1 21:00~23:00                    no year: the next such date (today counts)
    2月1日 21時〜23時30分
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")
EXAMPLE = "2025-02-01 21:00 - 23:30"

_DATE = r"(?:(?P<{p}y>\d{{4}})\s*[-/年.]\s*)?(?P<{p}m>\d{{1,2}})\s*[-/月.]\s*(?P<{p}d>\d{{1,2}})\s*日?(?:\s*[(（][^)）]{{1,3}}[)）])?"
_TIME = r"(?P<{p}H>\d{{1,2}})\s*(?:[:時]\s*(?P<{p}M>\d{{2}})?\s*分?)"
_SEPARATOR = r"(?:-|~|〜|～|－|–|—|から)"
_RANGE = re.compile(
    r"^\s*"
    + _DATE.format(p="s")
    + r"\s*"
    + _TIME.format(p="s")
    + r"\s*"
    + _SEPARATOR
    + r"\s*(?:"
    + _DATE.format(p="e")
    + r"\s+)?"
    + _TIME.format(p="e")
    + r"\s*(?:まで)?\s*$"
)


class JstError(ValueError):
    """The text is not a date-time range; the message is for the member (Japanese)."""


def _date(groups: dict[str, str | None], prefix: str, today: date) -> date | None:
    if groups.get(prefix + "m") is None:
        return None
    month, day = int(groups[prefix + "m"] or 0), int(groups[prefix + "d"] or 0)
    year_text = groups.get(prefix + "y")
    year = int(year_text) if year_text else today.year
    try:
        found = date(year, month, day)
    except ValueError:
        raise JstError(f"{month}月{day}日 という日付はありません。") from None
    if not year_text and found < today:
        try:
            found = date(year + 1, month, day)
        except ValueError:  # 29 February
            raise JstError(f"{year + 1}年に{month}月{day}日はありません。") from None
    return found


def _time(groups: dict[str, str | None], prefix: str) -> tuple[time, bool]:
    """(time of day, rolls over to the next day) — `24:00` is midnight at the end of the day."""
    hour, minute = int(groups[prefix + "H"] or 0), int(groups.get(prefix + "M") or 0)
    if hour == 24 and minute == 0:
        return time(0, 0), True
    if hour > 23 or minute > 59:
        raise JstError(f"{hour}:{minute:02d} という時刻はありません。")
    return time(hour, minute), False


def parse_range(text: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(start, end) in JST; JstError with a member-facing message when `text` is not a range."""
    normalized = unicodedata.normalize("NFKC", text).strip()
    match = _RANGE.match(normalized)
    if match is None:
        raise JstError(f"日時は「{EXAMPLE}」のように、開始と終了を日本時間で入力してください。")
    groups = match.groupdict()
    today = (now or datetime.now(JST)).astimezone(JST).date()
    start_day = _date(groups, "s", today)
    assert start_day is not None  # the pattern requires the start date
    start_time, start_rolls = _time(groups, "s")
    if start_rolls:
        raise JstError("開始時刻は 0:00〜23:59 で入力してください。")
    end_day = _date(groups, "e", start_day) or start_day
    end_time, end_rolls = _time(groups, "e")
    start = datetime.combine(start_day, start_time, JST)
    end = datetime.combine(end_day, end_time, JST) + timedelta(days=1 if end_rolls else 0)
    if groups.get("em") is None and end <= start:
        end += timedelta(days=1)  # "23:00 - 01:00" crosses midnight
    if end <= start:
        raise JstError("終了は開始より後にしてください。")
    return start, end
