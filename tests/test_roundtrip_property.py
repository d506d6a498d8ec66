"""Any sequence of well-formed records, in any date format, round-trips through the parser."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logwriter import wrapper_record

from cnilint import parse

ZONES = {"UTC": 0, "EDT": -4, "CET": 1, "JST": 9}
EN_DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
EN_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DE_DAYS = "Mo Di Mi Do Fr Sa So".split()
DE_MONTHS = "Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez".split()
FR_DAYS = "lun. mar. mer. jeu. ven. sam. dim.".split()
FR_MONTHS = "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split()
JA_DAYS = "月曜日 火曜日 水曜日 木曜日 金曜日 土曜日 日曜日".split()


def _c(d: datetime, z: str) -> str:
    return f"{EN_DAYS[d.weekday()]} {EN_MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} {z} {d.year}"


def _en_us(d: datetime, z: str) -> str:
    hour = d.hour % 12 or 12
    return (
        f"{EN_DAYS[d.weekday()]} {EN_MONTHS[d.month - 1]} {d.day:2d} "
        f"{hour:02d}:{d:%M:%S} {'PM' if d.hour >= 12 else 'AM'} {z} {d.year}"
    )


def _en_gb(d: datetime, z: str) -> str:
    return f"{EN_DAYS[d.weekday()]} {d.day:2d} {EN_MONTHS[d.month - 1]} {d:%H:%M:%S} {z} {d.year}"


def _de(d: datetime, z: str) -> str:
    return f"{DE_DAYS[d.weekday()]} {d.day:2d}. {DE_MONTHS[d.month - 1]} {d:%H:%M:%S} {z} {d.year}"


def _fr(d: datetime, z: str) -> str:
    return f"{FR_DAYS[d.weekday()]} {d.day} {FR_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S} {z}"


def _ja(d: datetime, z: str) -> str:
    return f"{d.year}年 {d.month:2d}月 {d.day:2d}日 {JA_DAYS[d.weekday()]} {d:%H:%M:%S} {z}"


def _iso(d: datetime, z: str) -> str:
    return d.isoformat(timespec="seconds")


def _rfc(d: datetime, z: str) -> str:
    return f"{EN_DAYS[d.weekday()]}, {d.day:02d} {EN_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S %z}"


FORMATS = [_c, _en_us, _en_gb, _de, _fr, _ja, _iso, _rfc]


@st.composite
def dates(draw) -> tuple[str, datetime]:
    zone = draw(st.sampled_from(sorted(ZONES)))
    tz = timezone(timedelta(hours=ZONES[zone]))
    naive = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)))
    moment = naive.replace(microsecond=0, tzinfo=tz)
    fmt = draw(st.sampled_from(FORMATS))
    return fmt(moment, zone), moment


MARKER_LINES = {"CNI params:", "env:", "INPUT:", "OUTPUT:"}


def _plain_line(line: str) -> bool:
    return (
        line not in MARKER_LINES
        and not line.startswith("Returned at:")
        and "Returned at:" not in line
        and not (len(line) >= 20 and set(line) == {"="})
        and not any(line.endswith(m) for m in MARKER_LINES)
    )


safe_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\n\r"), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | safe_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(safe_text, children, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(safe_text, json_values, max_size=4)
text_bodies = st.lists(safe_text.filter(_plain_line), max_size=4).map("\n".join)
newline_text = st.builds(lambda t, nl: t + ("\n" if nl else ""), text_bodies, st.booleans())


@st.composite
def bodies(draw) -> str:
    kind = draw(st.sampled_from(["compact", "pretty", "empty", "text"]))
    if kind == "empty":
        return ""
    if kind == "text":
        return draw(newline_text)
    value = draw(json_objects)
    return json.dumps(value, indent=4) if kind == "pretty" else json.dumps(value, separators=(",", ":"))


names = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True)
values = safe_text.filter(lambda v: "Returned at:" not in v)
continuations = st.lists(st.from_regex(r" [a-z :;/.]{0,12}", fullmatch=True), max_size=2)


@st.composite
def environments(draw) -> list[tuple[str, str]]:
    env = [("CNI_COMMAND", draw(st.sampled_from(["ADD", "DEL", "CHECK", "VERSION"])))]
    env.append(("CNI_CONTAINERID", draw(st.from_regex(r"[0-9a-f]{8,64}", fullmatch=True))))
    for name in draw(st.lists(names, unique=True, max_size=5)):
        if name in ("CNI_COMMAND", "CNI_CONTAINERID"):
            continue
        value = draw(values)
        if "CNI" not in name and "CNI" not in value:
            value = "\n".join([value, *draw(continuations)])  # a value spanning lines
        env.append((name, value))
    draw(st.randoms()).shuffle(env)
    return env


@st.composite
def records(draw) -> dict:
    started, started_at = draw(dates())
    returned, returned_at = draw(dates())
    tty = draw(st.booleans())
    return {
        "started": started,
        "started_at": started_at,
        "returned": returned,
        "returned_at": returned_at,
        "env": draw(environments()),
        "stdin": None if tty else draw(bodies()),
        "stdout": draw(bodies()),
        "blank_lines": draw(st.integers(0, 3)),
    }


def _render(record: dict) -> str:
    text = wrapper_record(
        started=record["started"],
        returned=record["returned"],
        env=record["env"],
        stdin=record["stdin"],
        stdout=record["stdout"],
    )
    return text.rstrip("\n") + "\n" + "\n" * record["blank_lines"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=5))
def test_well_formed_records_round_trip(generated: list[dict]) -> None:
    reader = parse(io.StringIO("".join(_render(r) for r in generated)), plugin="bridge")
    parsed = list(reader)
    assert reader.problems == []
    assert len(parsed) == len(generated)
    for record, source in zip(parsed, generated, strict=True):
        assert record.complete and record.problems == ()
        assert record.started == source["started"] and record.returned == source["returned"]
        assert record.started_at == source["started_at"]
        assert record.returned_at == source["returned_at"]
        assert record.env.pairs == tuple(source["env"])
        cni_lines = {n: v for n, v in source["env"] if "CNI" in f"{n}={v}"}
        assert dict(record.params) == cni_lines
        assert record.tty == (source["stdin"] is None)
        if source["stdin"] is None:
            assert record.input is None
            assert record.output.raw == source["stdout"]
        else:
            assert record.input.raw == source["stdin"]
            assert record.output.raw == source["stdout"].rstrip("\n")
        for body in (record.input, record.output):
            if body is not None and body.is_json:
                assert body.value == json.loads(body.raw)
