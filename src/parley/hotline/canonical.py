"""Canonical JSON: one byte string per value, so a signature covers the meaning and nothing else.

The encoding is the subset of RFC 8785 (JSON Canonicalization Scheme) that needs no floating point,
so any JCS library produces the same bytes:

* values are strings, integers within ±(2**53 − 1) (exact in every JSON implementation), booleans,
  null, arrays and objects; anything else (floats, bytes, NaN, sets…) is refused;
* object keys are printable ASCII (so the JCS order by UTF-16 code units is plain byte order), each
  appearing once, sorted;
* no whitespace at all; separators are ``,`` and ``:``;
* strings are UTF-8; only ``"``, ``\\`` and the control characters U+0000–U+001F are escaped
  (``\\b \\t \\n \\f \\r`` in their short forms, the others as ``\\u00xx`` in lower case); every
  other character, Cyrillic included, is written as itself; lone surrogates are refused.

:func:`decode_canonical` accepts only bytes that :func:`encode_canonical` would produce for the
value they parse to: it parses, re-encodes and requires byte equality, naming the first offset
that differs. That is how a node refuses a malleable encoding of a signed value.
"""

import json
import re
from typing import Any, NoReturn

from parley.hotline.errors import MalformedError

MAX_SAFE_INTEGER = 2**53 - 1
#: Deep nesting only serves to exhaust a parser's stack; hotline values are at most a few deep.
MAX_DEPTH = 16

_KEY = re.compile(r"[\x20-\x7e]*")


class CanonicalJSONError(MalformedError):
    """A value cannot be encoded canonically, or bytes are not the canonical encoding of one."""


def encode_canonical(value: object) -> bytes:
    """The canonical JSON encoding of ``value`` (UTF-8 bytes)."""
    _check_value(value, "$", 0)
    text = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def decode_canonical(data: bytes) -> Any:
    """Parse canonical JSON; refuse anything that is not the one canonical encoding of its value."""
    data = bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalJSONError(f"not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
            parse_int=_safe_int,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalJSONError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise CanonicalJSONError(f"nested deeper than {MAX_DEPTH} levels") from None
    encoded = encode_canonical(value)
    if encoded != data:
        offset = _first_difference(data, encoded)
        raise CanonicalJSONError(f"not the canonical encoding (first difference at byte {offset})")
    return value


def _check_value(value: object, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CanonicalJSONError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalJSONError(f"{path}: integer {value} is outside ±(2**53 - 1)")
        return
    if isinstance(value, str):
        _check_string(value, path)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise CanonicalJSONError(f"{path}: object key {key!r} is not printable ASCII")
            _check_value(item, f"{path}.{key}", depth + 1)
        return
    raise CanonicalJSONError(f"{path}: a {type(value).__name__} has no canonical JSON form")


def _check_string(value: str, path: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJSONError(f"{path}: string holds a lone surrogate") from None


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CanonicalJSONError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_float(text: str) -> NoReturn:
    raise CanonicalJSONError(f"number {text} is not an integer (floats are not allowed)")


def _refuse_constant(text: str) -> NoReturn:
    raise CanonicalJSONError(f"{text} is not JSON")


def _safe_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # more digits than Python converts
        raise CanonicalJSONError(f"integer of {len(text)} digits is too large") from None
    if abs(value) > MAX_SAFE_INTEGER:
        raise CanonicalJSONError(f"integer {text} is outside ±(2**53 - 1)")
    return value


def _first_difference(a: bytes, b: bytes) -> int:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "CanonicalJSONError",
    "decode_canonical",
    "encode_canonical",
]
