"""Read the dates `date` prints, whatever the locale.

The wrapper runs plain `date`, so the format follows LC_TIME of whoever ran the
plugin: `Fri Aug 27 07:55:52 EDT 2021` (C), `Fri Nov 27 08:13:37 PM UTC 2026`
(en_US), `ven. 27 nov. 2026 20:13:37 UTC` (fr_FR), `2026年 11月 27日 金曜日
20:13:37 UTC` (ja_JP), ISO 8601 and RFC 2822 from `date -I`/`-R`... Rather than
one pattern per locale, pick the parts out: a clock time, an optional AM/PM
word, a four-digit year, a month (number or name in common languages), a day
and a zone (abbreviation or offset). Unknown zones give a naive datetime.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

_MONTH_PREFIXES: dict[str, int] = {}
for _month, _names in enumerate(
    [
        "jan janv ene gen янв",
        "feb fev fév févr фев",
        "mar mär mrz mars мар",
        "apr avr abr апр",
        "may mai mag mei мая май",
        "jun juin giu июн",
        "jul juil lug июл",
        "aug août ago авг",
        "sep set сен",
        "oct okt ott out окт",
        "nov ноя",
        "dec dez déc dic дек",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTH_PREFIXES[_name] = _month

_ZONES: dict[str, float] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
    "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5,
    "BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "WEST": 1,
    "EET": 2, "EEST": 3, "MSK": 3,
    "SGT": 8, "HKT": 8, "AWST": 8, "JST": 9, "KST": 9,
    "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11,
    "NZST": 12, "NZDT": 13,
}  # fmt: skip

_TIME = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?!\d)")
_PM = re.compile(r"(?i)(?<![a-z])(pm|p\.\s?m\.)(?![a-z])|午後|下午|오후")
_AM = re.compile(r"(?i)(?<![a-z])(am|a\.\s?m\.)(?![a-z])|午前|上午|오전")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_CJK_MONTH = re.compile(r"(\d{1,2})\s*月")
_CJK_DAY = re.compile(r"(\d{1,2})\s*[日일]")
_WORD = re.compile(r"[^\W\d_]+\.?", re.UNICODE)
_OFFSET = re.compile(r"(?<![\d:])([+-])(\d{2}):?(\d{2})?(?![\d:])")
_DAY = re.compile(r"(?<![\d:+-])(\d{1,2})(?![\d:])")
MAX_LENGTH = 200  # `date` prints under 60 characters in any locale: longer lines are not dates


def _month_from_word(word: str) -> int | None:
    word = word.lower().rstrip(".")
    best: tuple[int, int] | None = None
    for prefix, month in _MONTH_PREFIXES.items():
        if word.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), month)
    return best[1] if best else None


# `date` in the C and en_US locales, by far the most common: read without the general search.
_ENGLISH_MONTHS = {
    name: number for number, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}
_USUAL = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) "
    r"(\d\d):(\d\d):(\d\d)(?: ([AP]M))? ([A-Z]{1,5}) (\d{4})"
)


@lru_cache(maxsize=1024)  # start and end dates of nearby calls repeat within a second
def parse_date(text: str) -> datetime | None:
    """A datetime for a `date` line, or None when it cannot be read."""
    text = text.strip()
    usual = _USUAL.fullmatch(text)
    if usual is not None:
        moment = _usual_date(usual)
        if moment is not None:
            return moment
    return _parse_any(text)


def _usual_date(match: re.Match[str]) -> datetime | None:
    month = _ENGLISH_MONTHS.get(match.group(1))
    hours = _ZONES.get(match.group(7))
    if month is None or hours is None:
        return None  # the general reader decides
    hour = int(match.group(3))
    if match.group(6) == "PM" and hour < 12:
        hour += 12
    elif match.group(6) == "AM" and hour == 12:
        hour = 0
    zone = timezone(timedelta(hours=hours), match.group(7)) if hours else UTC
    try:
        return datetime(
            int(match.group(8)), month, int(match.group(2)), hour, int(match.group(4)), int(match.group(5)), 0, zone
        )
    except ValueError:
        return None


def _parse_any(text: str) -> datetime | None:
    if not text or len(text) > MAX_LENGTH:  # not a date, and not worth a slow look
        return None
    try:
        return datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        pass

    clock = _TIME.search(text)
    if clock is None:
        return None
    hour, minute = int(clock.group(1)), int(clock.group(2))
    second = int(clock.group(3) or 0)
    micro = int((clock.group(4) or "0")[:6].ljust(6, "0"))
    rest = text[: clock.start()] + " " * (clock.end() - clock.start()) + text[clock.end() :]

    if _PM.search(rest) and hour < 12:
        hour += 12
    elif _AM.search(rest) and hour == 12:
        hour = 0

    year = month = day = None
    numeric = _NUMERIC_DATE.search(rest)
    if numeric:
        year, month, day = (int(g) for g in numeric.groups())
    else:
        found_year = _YEAR.search(rest)
        if found_year is None:
            return None
        year = int(found_year.group(1))
        rest = rest[: found_year.start()] + "    " + rest[found_year.end() :]
        cjk_month = _CJK_MONTH.search(rest)
        cjk_day = _CJK_DAY.search(rest)
        if cjk_month and cjk_day:
            month, day = int(cjk_month.group(1)), int(cjk_day.group(1))
        else:
            months = [m for m in (_month_from_word(w) for w in _WORD.findall(rest)) if m]
            if not months:
                return None
            # A weekday can read as a month (es "mar" = martes): the weekday
            # comes first, so prefer the last candidate.
            month = months[-1]
            days = _DAY.findall(rest)
            if not days:
                return None
            day = int(days[0])

    zone = _zone(rest)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        return None


def _zone(text: str) -> timezone | None:
    offset = _OFFSET.search(text)
    if offset and int(offset.group(2)) < 24 and int(offset.group(3) or 0) < 60:  # else not an offset
        sign = -1 if offset.group(1) == "-" else 1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3) or 0)
        return timezone(sign * timedelta(minutes=minutes))
    for word in re.findall(r"\b[A-Z]{1,5}\b", text):
        hours = _ZONES.get(word)
        if hours is not None:
            return timezone(timedelta(hours=hours), word) if hours else UTC
    return None
