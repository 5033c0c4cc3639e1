"""Message ids and entry times.

A message id is 26 characters of Crockford base32 (the ULID layout): 48 bits of milliseconds since
the Unix epoch, then 80 random bits, most significant first, so ids sort as text in time order.
One generator never repeats or goes backwards: within one millisecond, or when the clock steps
back, it keeps the last time and adds one to the random part.

Entry times are UTC with milliseconds and a ``Z``: ``2024-05-01T12:30:00.125Z``.
"""

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MSG_ID_LENGTH = 26
TIME_BITS = 48
RANDOM_BITS = 80
RANDOM_BYTES = RANDOM_BITS // 8

Clock = Callable[[], datetime]
Randomness = Callable[[int], bytes]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
# 26 × 5 = 130 bits for 128: the first character carries only 3 bits, so it is 0–7.
_MSG_ID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_UTC_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_DIGITS = {char: value for value, char in enumerate(CROCKFORD_ALPHABET)}


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    """Whole milliseconds since the Unix epoch of a tz-aware datetime (rounded down)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a time must be tz-aware, got the naive {moment.isoformat()}")
    return (moment - _EPOCH) // _ONE_MS


def from_ms(ms: int) -> datetime:
    try:
        return _EPOCH + ms * _ONE_MS
    except OverflowError:
        raise ValueError(f"{ms} ms since the epoch is outside the years 1–9999") from None


def format_utc_ms(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for a tz-aware datetime (sub-millisecond digits dropped)."""
    utc = from_ms(to_ms(moment))
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_utc_ms(text: str) -> datetime:
    """The datetime of an entry time; ``ValueError`` unless it is exactly the entry time form."""
    if not isinstance(text, str) or not _UTC_MS.fullmatch(text):
        raise ValueError(f"{text!r} is not a UTC time of the form YYYY-MM-DDTHH:MM:SS.mmmZ")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date and time") from None


def encode_msg_id(ms: int, random_part: int) -> str:
    """The message id for a millisecond time and an 80-bit random part."""
    if not 0 <= ms < 1 << TIME_BITS:
        raise ValueError(f"time {ms} ms does not fit in {TIME_BITS} bits")
    if not 0 <= random_part < 1 << RANDOM_BITS:
        raise ValueError(f"random part does not fit in {RANDOM_BITS} bits")
    value = (ms << RANDOM_BITS) | random_part
    chars = [CROCKFORD_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(MSG_ID_LENGTH)]
    return "".join(reversed(chars))


def is_msg_id(text: object) -> bool:
    return isinstance(text, str) and _MSG_ID.fullmatch(text) is not None


def decode_msg_id(msg_id: str) -> tuple[int, int]:
    """The millisecond time and the random part of a message id."""
    if not is_msg_id(msg_id):
        raise ValueError(f"{msg_id!r} is not a message id (26 Crockford base32 characters)")
    value = 0
    for char in msg_id:
        value = (value << 5) | _DIGITS[char]
    return value >> RANDOM_BITS, value & ((1 << RANDOM_BITS) - 1)


def msg_id_time(msg_id: str) -> datetime:
    """The UTC time encoded in a message id (millisecond precision)."""
    return from_ms(decode_msg_id(msg_id)[0])


class MsgIdGenerator:
    """Makes strictly increasing message ids; clock and randomness are injectable for tests."""

    def __init__(self, clock: Clock = utc_now, randomness: Randomness = os.urandom) -> None:
        self._clock = clock
        self._randomness = randomness
        self._last_ms = -1
        self._last_random = 0

    def new(self) -> str:
        return self.stamp()[0]

    def stamp(self) -> tuple[str, str]:
        """A new message id and the entry time it encodes (they always agree)."""
        ms = to_ms(self._clock())
        if ms <= self._last_ms:
            ms, random_part = self._last_ms, self._last_random + 1
            if random_part >> RANDOM_BITS:  # 2**80 ids in one millisecond: borrow the next one
                ms, random_part = ms + 1, self._fresh_random()
        else:
            random_part = self._fresh_random()
        self._last_ms, self._last_random = ms, random_part
        return encode_msg_id(ms, random_part), format_utc_ms(from_ms(ms))

    def _fresh_random(self) -> int:
        data = self._randomness(RANDOM_BYTES)
        if len(data) != RANDOM_BYTES:
            raise ValueError(f"randomness gave {len(data)} bytes, {RANDOM_BYTES} needed")
        return int.from_bytes(data, "big")


__all__ = [
    "CROCKFORD_ALPHABET",
    "MSG_ID_LENGTH",
    "Clock",
    "MsgIdGenerator",
    "Randomness",
    "decode_msg_id",
    "encode_msg_id",
    "format_utc_ms",
    "from_ms",
    "is_msg_id",
    "msg_id_time",
    "parse_utc_ms",
    "to_ms",
    "utc_now",
]
