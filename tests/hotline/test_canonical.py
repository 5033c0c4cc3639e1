"""Canonical JSON: one encoding per value, everything else refused with the reason."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.hotline.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalJSONError,
    decode_canonical,
    encode_canonical,
)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ({"b": 1, "a": [True, None, "x"]}, b'{"a":[true,null,"x"],"b":1}'),
        ({"B": 0, "a": 0, "_": 0}, b'{"B":0,"_":0,"a":0}'),
        ("Привет", '"Привет"'.encode()),
        ('a"b\\c/d', b'"a\\"b\\\\c/d"'),
        ("\b\t\n\f\r\x00\x1f\x7f", b'"\\b\\t\\n\\f\\r\\u0000\\u001f\x7f"'),
        ("\u2028😀", '"\u2028😀"'.encode()),
        (-MAX_SAFE_INTEGER, b"-9007199254740991"),
        ([], b"[]"),
        ({}, b"{}"),
        ((1, 2), b"[1,2]"),
    ],
)
def test_golden_encodings(value: object, encoded: bytes) -> None:
    assert encode_canonical(value) == encoded
    assert decode_canonical(encoded) == (list(value) if isinstance(value, tuple) else value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1.5, "float has no canonical JSON form"),
        ({"a": [1.0]}, r"\$\.a\[0\]: a float"),
        (MAX_SAFE_INTEGER + 1, "outside"),
        (b"bytes", "bytes has no canonical JSON form"),
        ({1: "x"}, "object key 1 is not printable ASCII"),
        ({"ключ": "x"}, "is not printable ASCII"),
        ("\ud800", "lone surrogate"),
        ({"a": {1, 2}}, "set has no canonical JSON form"),
    ],
)
def test_values_without_a_canonical_form_are_refused(value: object, reason: str) -> None:
    with pytest.raises(CanonicalJSONError, match=reason):
        encode_canonical(value)


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    value: Any = "leaf"
    for _ in range(20):
        value = [value]
    with pytest.raises(CanonicalJSONError, match="nested deeper"):
        encode_canonical(value)
    with pytest.raises(CanonicalJSONError, match="nested deeper"):
        decode_canonical(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"b":1,"a":2}', "not the canonical encoding \\(first difference at byte 2\\)"),
        (b'{"a": 1}', "first difference at byte 5"),
        (b'{"a":1} ', "first difference at byte 7"),
        (b'{"a":1,"a":2}', "duplicate key 'a'"),
        (b'{"a":1.0}', "floats are not allowed"),
        (b'{"a":1e3}', "floats are not allowed"),
        (b'{"a":-0}', "not the canonical encoding"),
        (b'{"a":NaN}', "NaN is not JSON"),
        (b'{"a":Infinity}', "Infinity is not JSON"),
        (b'"\\u0416"', "not the canonical encoding"),
        (b'"\\/"', "not the canonical encoding"),
        (b'"\\u001F"', "not the canonical encoding"),
        (b'"\\ud800"', "lone surrogate"),
        (b'"\xff"', "not UTF-8 \\(byte 1\\)"),
        (b'{"a":99999999999999999}', "outside"),
        (b"1" * 5000, "too large"),
        (b'{"a":', "not JSON"),
        (b"", "not JSON"),
        (b'"tab\there"', "not JSON"),
    ],
)
def test_non_canonical_bytes_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(CanonicalJSONError, match=reason):
        decode_canonical(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)), children)
    ),
    max_leaves=12,
)


@given(json_values)
def test_every_value_round_trips_and_matches_sorted_compact_json(value: object) -> None:
    encoded = encode_canonical(value)
    assert decode_canonical(encoded) == value
    # an independent spelling of the same rules
    spelled = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert encoded == spelled.encode("utf-8")


@given(json_values)
def test_pretty_printed_forms_are_refused_unless_identical(value: object) -> None:
    pretty = json.dumps(value, indent=1, ensure_ascii=True).encode("ascii")
    if pretty == encode_canonical(value):
        return
    with pytest.raises(CanonicalJSONError):
        decode_canonical(pretty)
