"""Message ids: 26 Crockford base32 characters that sort in time order; entry times to the ms."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.hotline.msgid import (
    MsgIdGenerator,
    decode_msg_id,
    encode_msg_id,
    format_utc_ms,
    is_msg_id,
    msg_id_time,
    parse_utc_ms,
)

T0 = datetime(2024, 5, 1, 12, 30, 0, 125_999, tzinfo=UTC)


def generator(moments: list[datetime], random_bytes: bytes = bytes(10)) -> MsgIdGenerator:
    readings = iter(moments)
    return MsgIdGenerator(lambda: next(readings), lambda n: random_bytes[:n])


def test_known_ids() -> None:
    assert encode_msg_id(0, 0) == "0" * 26
    assert encode_msg_id(2**48 - 1, 2**80 - 1) == "7" + "Z" * 25
    # 1 ms after the epoch, random part 1: the time sits in the first 10 characters
    assert encode_msg_id(1, 1) == "0000000001" + "0" * 15 + "1"
    assert decode_msg_id("7" + "Z" * 25) == (2**48 - 1, 2**80 - 1)


def test_stamp_gives_an_id_and_the_time_it_encodes() -> None:
    msg_id, time = generator([T0]).stamp()
    assert time == "2024-05-01T12:30:00.125Z"
    assert msg_id_time(msg_id) == datetime(2024, 5, 1, 12, 30, 0, 125_000, tzinfo=UTC)
    assert is_msg_id(msg_id)
    assert msg_id[10:] == "0" * 16  # the injected randomness: all zeros


def test_ids_sort_by_time_and_never_repeat_within_a_millisecond() -> None:
    later = T0 + timedelta(milliseconds=1)
    earlier = T0 - timedelta(seconds=5)  # the clock steps back
    ids = _ids([T0, T0, later, later, earlier, T0 + timedelta(1)])
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    # within one millisecond the random part counts up by one
    assert decode_msg_id(ids[1]) == (decode_msg_id(ids[0])[0], decode_msg_id(ids[0])[1] + 1)
    # a clock that steps back does not make the ids go back: the last time is kept
    assert msg_id_time(ids[4]) == msg_id_time(ids[3])
    assert msg_id_time(ids[5]) == T0.replace(microsecond=125_000) + timedelta(1)


def _ids(moments: list[datetime]) -> list[str]:
    made = generator(moments)
    return [made.new() for _ in moments]


def test_exhausted_random_part_borrows_the_next_millisecond() -> None:
    made = generator([T0, T0], random_bytes=b"\xff" * 10)
    first, second = made.new(), made.new()
    assert decode_msg_id(first)[1] == 2**80 - 1
    assert msg_id_time(second) == msg_id_time(first) + timedelta(milliseconds=1)
    assert second > first


def test_generator_refuses_naive_clocks_and_short_randomness() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        generator([datetime(2024, 5, 1)]).new()
    with pytest.raises(ValueError, match="randomness gave 3 bytes"):
        MsgIdGenerator(lambda: T0, lambda n: b"abc").new()


def test_default_generator_uses_the_real_clock() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    msg_id = MsgIdGenerator().new()
    assert before <= msg_id_time(msg_id) <= datetime.now(UTC)


@given(
    st.lists(
        st.tuples(st.integers(0, 2**48 - 1), st.integers(0, 2**80 - 1)), min_size=2, max_size=20
    )
)
def test_text_order_is_time_then_random_order(parts: list[tuple[int, int]]) -> None:
    ids = [encode_msg_id(ms, random_part) for ms, random_part in parts]
    assert sorted(ids) == [encode_msg_id(ms, r) for ms, r in sorted(parts)]
    assert [decode_msg_id(i) for i in ids] == parts


@pytest.mark.parametrize(
    "text",
    ["0" * 25, "0" * 27, "8" + "0" * 25, "0" * 25 + "I", "0" * 25 + "u", "0" * 25 + "L", 42],
)
def test_invalid_ids(text: object) -> None:
    assert not is_msg_id(text)


def test_entry_times() -> None:
    assert format_utc_ms(
        datetime(2024, 5, 1, 14, 30, 1, 999_999, tzinfo=timezone(timedelta(hours=2)))
    ) == ("2024-05-01T12:30:01.999Z")
    assert format_utc_ms(datetime(5, 1, 2, tzinfo=UTC)) == "0005-01-02T00:00:00.000Z"
    assert parse_utc_ms("2024-05-01T12:30:01.999Z") == datetime(
        2024, 5, 1, 12, 30, 1, 999_000, tzinfo=UTC
    )
    for bad in [
        "2024-05-01T12:30:01Z",
        "2024-05-01T12:30:01.999+00:00",
        "2024-02-30T00:00:00.000Z",
    ]:
        with pytest.raises(ValueError, match="2024"):
            parse_utc_ms(bad)
