"""The vectorised position decoder gives exactly what pyais gives, report for report."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from parley.tracks.readers.ais_sixbit import FAST_TYPES, REPORT_CHARS, decode_position_reports

_SINGLE = re.compile(r"!..VD[MO],1,1,[^,]*,[^,]*,([0-W`-w]+),0\*")
_ALPHABET = [chr(c) for c in (*range(48, 88), *range(96, 120))]


def _kind(payload: str) -> int:
    value = ord(payload[0]) - 48
    return value - 8 if value > 40 else value


def _reports(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.glob("*")):
        if path.suffix not in (".nm4", ".ais", ".txt", ".nmea"):
            continue
        for match in _SINGLE.finditer(path.read_text(errors="replace")):
            payload = match.group(1)
            kind = _kind(payload)
            if kind in FAST_TYPES and len(payload) == REPORT_CHARS[kind]:
                found.append(payload)
    return found


def _assert_same_as_pyais(payloads: list[str]) -> None:
    kinds = np.array([_kind(p) for p in payloads], dtype=np.int64)
    fields = decode_position_reports([p.encode() for p in payloads], kinds)
    for i, payload in enumerate(payloads):
        reference = MSG_CLASS[int(kinds[i])].from_vector(bit_vector(payload.encode(), 0))
        expected = (reference.mmsi, reference.speed, reference.lon, reference.lat, reference.course)
        got = (fields.mmsi[i], fields.speed_kn[i], fields.lon[i], fields.lat[i], fields.course[i])
        assert got == expected, payload


def test_real_reports_decode_exactly_as_pyais(test_data: Path) -> None:
    payloads = _reports(test_data)
    assert len(payloads) > 300
    assert {_kind(p) for p in payloads} >= {1, 3, 18, 27}
    _assert_same_as_pyais(payloads)


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(FAST_TYPES)),
    body=st.lists(st.sampled_from(_ALPHABET), min_size=27, max_size=27),
)
def test_random_payloads_decode_exactly_as_pyais(kind: int, body: list[str]) -> None:
    first = _ALPHABET[kind]
    payload = (first + "".join(body))[: REPORT_CHARS[kind]]
    _assert_same_as_pyais([payload])


def test_empty_input() -> None:
    fields = decode_position_reports([], np.zeros(0, dtype=np.int64))
    assert fields.mmsi.size == 0


@pytest.mark.parametrize("kind", sorted(FAST_TYPES))
def test_every_fast_type_has_a_length(kind: int) -> None:
    assert REPORT_CHARS[kind] in (16, 28)
