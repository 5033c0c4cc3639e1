"""Vectorised decoding of the common AIS position reports (types 1, 2, 3, 18 and 27).

These reports are most of any AIS feed and each type has one fixed bit layout, so NumPy can
unpack thousands at once where a per-message decoder pays microseconds each. Every other message
type, and any report of unusual length, still goes through pyais, which stays the reference: the
tests decode every report both ways and require identical values (including pyais's rounding of
coordinates to 1e-6 degree).
"""

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

CLASS_A_TYPES: Final = frozenset({1, 2, 3})
CLASS_B_TYPE: Final = 18
LONG_RANGE_TYPE: Final = 27
FAST_TYPES: Final = frozenset({*CLASS_A_TYPES, CLASS_B_TYPE, LONG_RANGE_TYPE})
#: payload characters (6 bits each) of a standard report of each type
REPORT_CHARS: Final = {1: 28, 2: 28, 3: 28, 18: 28, 27: 16}
_POWERS: Final = {
    width: 1 << np.arange(width - 1, -1, -1, dtype=np.int64) for width in range(1, 33)
}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Bits = npt.NDArray[np.uint8]


class PositionFields(NamedTuple):
    mmsi: IntArray
    speed_kn: FloatArray
    lon: FloatArray
    lat: FloatArray
    course: FloatArray


class _Layout(NamedTuple):
    """Bit offsets and widths; coordinates in 1/10,000 min (scale 600,000) or 1/10 min (600)."""

    speed: tuple[int, int]
    lon: tuple[int, int]
    lat: tuple[int, int]
    course: tuple[int, int]
    speed_scale: float
    course_scale: float
    per_degree: int


_CLASS_A: Final = _Layout((50, 10), (61, 28), (89, 27), (116, 12), 10.0, 10.0, 600_000)
_CLASS_B: Final = _Layout((46, 10), (57, 28), (85, 27), (112, 12), 10.0, 10.0, 600_000)
_LONG_RANGE: Final = _Layout((79, 6), (44, 18), (62, 17), (85, 9), 1.0, 1.0, 600)


def _bits(payloads: list[bytes], chars: int) -> Bits:
    codes = np.frombuffer(b"".join(payloads), dtype=np.uint8).reshape(len(payloads), chars)
    values = codes - 48
    values = np.where(values > 40, values - 8, values).astype(np.uint8)
    shifts = np.arange(5, -1, -1, dtype=np.uint8)
    bits = ((values[:, :, None] >> shifts) & 1).reshape(len(payloads), chars * 6)
    return np.asarray(bits, dtype=np.uint8)


def _unsigned(bits: Bits, field: tuple[int, int]) -> IntArray:
    start, width = field
    return np.asarray(bits[:, start : start + width].astype(np.int64) @ _POWERS[width])


def _signed(bits: Bits, field: tuple[int, int]) -> IntArray:
    value = _unsigned(bits, field)
    width = field[1]
    return np.asarray(np.where(value >= 1 << (width - 1), value - (1 << width), value))


def _degrees(raw: IntArray, per_degree: int) -> FloatArray:
    """Degrees rounded to 1e-6 exactly as pyais does: round(raw × 1e6 / per_degree) / 1e6."""
    scale = 600_000 // per_degree  # 1 for 1/10,000 minute, 1,000 for 1/10 minute
    micro = (10 * scale * raw + 3) // 6
    return np.asarray(micro / 1e6, dtype=np.float64)


def _decode(bits: Bits, layout: _Layout) -> PositionFields:
    return PositionFields(
        mmsi=_unsigned(bits, (8, 30)),
        speed_kn=_unsigned(bits, layout.speed) / layout.speed_scale,
        lon=_degrees(_signed(bits, layout.lon), layout.per_degree),
        lat=_degrees(_signed(bits, layout.lat), layout.per_degree),
        course=_unsigned(bits, layout.course) / layout.course_scale,
    )


def decode_position_reports(payloads: list[bytes], kinds: IntArray) -> PositionFields:
    """Decode standard-length payloads of types 1/2/3/18/27 (``kinds`` gives each one's type)."""
    n = len(payloads)
    out = PositionFields(
        np.zeros(n, dtype=np.int64), *(np.zeros(n, dtype=np.float64) for _ in range(4))
    )
    groups = (
        (np.isin(kinds, list(CLASS_A_TYPES)), _CLASS_A, 28),
        (kinds == CLASS_B_TYPE, _CLASS_B, 28),
        (kinds == LONG_RANGE_TYPE, _LONG_RANGE, 16),
    )
    for mask, layout, chars in groups:
        index = np.flatnonzero(mask)
        if index.size == 0:
            continue
        decoded = _decode(_bits([payloads[i] for i in index], chars), layout)
        for target, values in zip(out, decoded, strict=True):
            target[index] = values
    return out


__all__ = ["FAST_TYPES", "REPORT_CHARS", "PositionFields", "decode_position_reports"]
