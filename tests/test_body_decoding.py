"""Bodies are decoded once per text while that text keeps coming back."""

from __future__ import annotations

import pytest

from cnilint.parse import records
from cnilint.parse.records import Body

CONFIG = '{"cniVersion":"1.0.0","name":"crio","type":"bridge","ipam":{"type":"host-local"}}'


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    records._DECODED.clear()


def test_bodies_of_one_text_share_one_decoded_value() -> None:
    first, second = Body.decode(CONFIG, 10), Body.decode(CONFIG[:-1] + "}", 40)  # equal text, another string
    assert second.value is first.value
    assert (first.line, second.line) == (10, 40)


def test_a_body_with_a_duplicate_key_is_reported_each_time() -> None:
    text = '{"name":"a","name":"b"}'
    for line in (1, 5):
        body = Body.decode(text, line)
        assert body.value == {"name": "b"}
        assert [key.line for key in body.duplicates] == [line]


def test_a_body_that_is_not_json_is_an_error_each_time() -> None:
    for line in (1, 5):
        assert Body.decode('{"name":', line).error is not None


def test_the_decoded_bodies_kept_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "MAX_DECODED", 8)
    for number in range(100):
        Body.decode(f'{{"n":{number}}}', 1)
    assert 0 < len(records._DECODED) <= 8
    big = "[" + ",".join(["1"] * (records.MAX_DECODED_BODY // 2 + 1)) + "]"
    Body.decode(big, 1)
    assert big not in records._DECODED  # over the size of a body worth keeping
