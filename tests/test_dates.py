from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cnilint.parse.dates import parse_date

UTC = UTC
MOMENT = datetime(2026, 11, 27, 20, 13, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "Fri Nov 27 08:13:37 PM UTC 2026",  # en_US
        "Fri Nov 27 20:13:37 UTC 2026",  # C / POSIX
        "Fri 27 Nov 20:13:37 UTC 2026",  # en_GB
        "Fr 27. Nov 20:13:37 UTC 2026",  # de_DE
        "ven. 27 nov. 2026 20:13:37 UTC",  # fr_FR
        "vie 27 nov 2026 20:13:37 UTC",  # es_ES
        "ven 27 nov 2026, 20:13:37, UTC",  # it_IT
        "sex 27 nov 2026 20:13:37 UTC",  # pt_BR
        "vr 27 nov 2026 20:13:37 UTC",  # nl_NL
        "Пт 27 ноя 2026 20:13:37 UTC",  # ru_RU
        "2026年 11月 27日 金曜日 20:13:37 UTC",  # ja_JP
        "2026年 11月 27日 星期五 20:13:37 UTC",  # zh_CN
        "2026. 11. 27. (금) 20:13:37 UTC",  # ko_KR
        "2026-11-27T20:13:37+00:00",  # date -Iseconds
        "Fri, 27 Nov 2026 20:13:37 +0000",  # date -R
        "2026-11-27 20:13:37+00:00",  # date --rfc-3339=seconds
        "Fri Nov 27 08:13:37 PM GMT 2026",
    ],
)
def test_date_formats_of_common_locales(text: str) -> None:
    assert parse_date(text) == MOMENT


def test_named_zone_gives_its_offset() -> None:
    assert parse_date("Fri Aug 27 07:55:52 EDT 2021") == datetime(
        2021, 8, 27, 7, 55, 52, tzinfo=timezone(timedelta(hours=-4))
    )


def test_twelve_hour_clock_edges() -> None:
    assert parse_date("Fri Nov 27 12:05:00 AM UTC 2026").hour == 0
    assert parse_date("Fri Nov 27 12:05:00 PM UTC 2026").hour == 12


def test_spanish_weekday_martes_is_not_march() -> None:
    assert parse_date("mar 24 nov 2026 20:13:37 UTC").month == 11


def test_unknown_zone_gives_naive_time() -> None:
    moment = parse_date("Fri Nov 27 20:13:37 XYZT 2026")
    assert moment == datetime(2026, 11, 27, 20, 13, 37)


@pytest.mark.parametrize("text", ["", "not a date", "Fri Nov 27 UTC 2026", "99:99:99 2026"])
def test_unreadable_dates_give_none(text: str) -> None:
    assert parse_date(text) is None
