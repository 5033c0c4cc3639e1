"""Canonical CSV through the compiled parser (``_canonical_csv.c``, loaded with ctypes).

The parser reads the bytes once into column buffers, which become Arrow arrays without a copy
(float64 and microsecond timestamps with validity bitmaps, string views). It parses the layouts
it is sure to read as Polars does; the rare time or number it leaves ("hard" cells) is parsed here
with the same Polars code the Polars reader uses, and a file whose CSV layout it does not take on
(odd quoting, invalid UTF-8) is handed back: :func:`decode` then returns None and the caller reads
the file with Polars. The result is the Polars reader's, row for row, rejection for rejection.

The library is built at install time by ``hatch_build.py``; without it (or with
``PARLEY_NO_FASTCSV=1`` in the environment) :func:`available` is false.
"""

import contextlib
import ctypes
import logging
import mmap
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]

from parley.tracks.readers.base import RawRead, Rejection, source_label
from parley.tracks.schema import LINE_COLUMN, conform
from parley.tracks.timeparse import parse_time_text

log = logging.getLogger(__name__)

LIBRARY_NAME: Final = "_canonical_csv.so.1"
DISABLE_VARIABLE: Final = "PARLEY_NO_FASTCSV"
NUMERIC: Final = ("lat", "lon", "alt_m", "speed_mps", "course_deg", "vrate_mps")
TEXT: Final = ("track", "side", "domain", "transponder", "callsign", "type", "source")

_KIND_SKIP, _KIND_TIME, _KIND_FLOAT, _KIND_STRING = 0, 1, 2, 3
_HARD_IN_SCRATCH = 1
_HUGE_PAGE: Final = 2 << 20
_MADV_HUGEPAGE: Final[int | None] = getattr(mmap, "MADV_HUGEPAGE", None)
#: String views address their bytes with 32-bit offsets.
_MAX_BYTES = 2**31 - 1
_STATUS_TEXT = {
    1: "a quote inside an unquoted field",
    2: "text after a closing quote",
    3: "a carriage return not ending a line",
    4: "an unclosed quote",
    5: "bytes that are not UTF-8",
    6: "too many values in other layouts",
    7: "more rows than lines",
    8: "no room for the strings",
}


class _Result(ctypes.Structure):
    _fields_ = [
        ("rows", ctypes.c_int64),
        ("hard", ctypes.c_int64),
        ("status", ctypes.c_int64),
        ("status_offset", ctypes.c_int64),
        ("trailing_space", ctypes.c_int64),
        ("scratch_used", ctypes.c_int64),
    ]


@dataclass(frozen=True, slots=True)
class _Library:
    parse: "ctypes._NamedFuncPointer"
    count_newlines: "ctypes._NamedFuncPointer"
    fill_lines: "ctypes._NamedFuncPointer"


def _load() -> _Library | None:
    path = Path(__file__).with_name(LIBRARY_NAME)
    if not path.exists():
        log.debug("canonical CSV: %s not built; the Polars reader is used", path.name)
        return None
    try:
        library = ctypes.CDLL(str(path))
    except OSError as exc:
        log.debug("canonical CSV: cannot load %s (%s); the Polars reader is used", path, exc)
        return None
    function = library.parley_parse_canonical_csv
    function.restype = ctypes.c_int64
    function.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int32,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.POINTER(_Result),
    ]
    count = library.parley_count_newlines
    count.restype = ctypes.c_int64
    count.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    fill = library.parley_fill_lines
    fill.restype = None
    fill.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64]
    return _Library(function, count, fill)


_LIBRARY = _load()


def available() -> bool:
    """True when the compiled parser is built, loadable and not switched off."""
    return _LIBRARY is not None and os.environ.get(DISABLE_VARIABLE, "") in ("", "0")


@dataclass(slots=True)
class _Column:
    name: str
    kind: int
    values: npt.NDArray[np.generic]
    validity: npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class _HardCell:
    row: int
    name: str
    text: str


def _kind(name: str) -> int:
    if name == "time":
        return _KIND_TIME
    if name in NUMERIC:
        return _KIND_FLOAT
    if name in TEXT:
        return _KIND_STRING
    return _KIND_SKIP


def _zeroed(size: int) -> npt.NDArray[np.uint8]:
    """``size`` zero bytes, on transparent huge pages when the buffer is large enough.

    The parser fills fresh memory, and the first write to each page of it is a page fault in
    which the kernel supplies a zeroed page: with 4 KiB pages that is 256 faults a MiB, a large
    part of the cost of a first read in a fresh process. A 2 MiB-aligned anonymous mapping
    advised MADV_HUGEPAGE takes one fault per 2 MiB. The advised span is rounded up to whole huge
    pages (at most 2 MiB more resident memory per buffer). Without that advice (not Linux, or huge
    pages switched off) the buffer is a plain zeroed array or plain pages.
    """
    if size < _HUGE_PAGE or _MADV_HUGEPAGE is None:
        return np.zeros(max(size, 1), dtype=np.uint8)
    span = -(-size // _HUGE_PAGE) * _HUGE_PAGE
    # private anonymous memory: zero-filled, freed with the array (a shared mapping would be
    # shmem, which takes no huge pages by default)
    mapping = mmap.mmap(-1, span + _HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    whole = np.frombuffer(mapping, dtype=np.uint8)
    offset = -whole.ctypes.data % _HUGE_PAGE
    with contextlib.suppress(OSError):  # huge pages switched off in this kernel: plain pages do
        mapping.madvise(_MADV_HUGEPAGE, offset, span)
    return whole[offset : offset + size]


class _Columns:
    """The output buffers of one parse: values per column, and one block of validity bitmaps."""

    def __init__(self, names: list[str], kinds: npt.NDArray[np.int32], capacity: int) -> None:
        wanted = [(i, name, int(kinds[i])) for i, name in enumerate(names) if kinds[i]]
        # bitmaps 64-byte aligned, as Arrow prefers; one block: they are small
        stride = -(-((capacity + 7) // 8) // 64) * 64
        bitmaps = _zeroed(stride * max(len(wanted), 1))
        self.by_field: dict[int, _Column] = {}
        for slot, (i, name, kind) in enumerate(wanted):
            width = 16 if kind == _KIND_STRING else 8
            dtype = {_KIND_TIME: np.int64, _KIND_FLOAT: np.float64, _KIND_STRING: np.uint8}[kind]
            # zeroed: the parser writes only the values that are there (nulls stay untouched)
            values = _zeroed(capacity * width).view(dtype)
            validity = bitmaps[slot * stride : slot * stride + stride]
            self.by_field[i] = _Column(name, kind, values, validity)


class _ArrowArray:
    """An Arrow array seen only through the Arrow PyCapsule interface.

    Polars reads a pyarrow array through code that imports pyarrow.compute (about 80 ms, once
    per process); through the capsule it takes the same buffers without a copy and without it.
    """

    def __init__(self, array: pa.Array) -> None:
        self._array = array

    def __arrow_c_array__(self, requested_schema: object | None = None) -> tuple[object, object]:
        schema, array = self._array.__arrow_c_array__(requested_schema)
        return schema, array


def _series(column: _Column, rows: int, strings: pa.Buffer) -> pl.Series:
    validity = pa.py_buffer(column.validity)
    values = pa.py_buffer(column.values)
    if column.kind == _KIND_STRING:
        array = pa.Array.from_buffers(pa.string_view(), rows, [validity, values, strings])
    else:
        arrow_type = pa.timestamp("us", "UTC") if column.kind == _KIND_TIME else pa.float64()
        array = pa.Array.from_buffers(arrow_type, rows, [validity, values])
    return pl.Series(_ArrowArray(array)).alias(column.name)


def _line_numbers(library: _Library, rows: int) -> pl.Series:
    """2, 3, … (the header is line 1), written into fresh huge-page memory like the columns."""
    lines = _zeroed(rows * 8)
    library.fill_lines(lines.ctypes.data, rows, 2)
    array = pa.Array.from_buffers(pa.int64(), rows, [None, pa.py_buffer(lines)])
    return pl.Series(_ArrowArray(array)).alias(LINE_COLUMN)


def _body_start(data: bytes | mmap.mmap) -> int:
    end = data.find(b"\n")
    return len(data) if end < 0 else end + 1


def _hard_cells(
    data: bytes | mmap.mmap,
    strings: npt.NDArray[np.uint8],
    entries: npt.NDArray[np.int64],
    names: list[str],
) -> list[_HardCell]:
    cells = []
    for row, field, offset, length, flags in entries.tolist():
        source = strings[offset : offset + length].tobytes() if flags & _HARD_IN_SCRATCH else None
        raw = source if source is not None else data[offset : offset + length]
        cells.append(_HardCell(row, names[field], raw.decode("utf-8")))
    return cells


def _resolve(frame: pl.DataFrame, cells: list[_HardCell]) -> tuple[pl.DataFrame, list[_HardCell]]:
    """Parse the hard cells with the Polars reader's code; return the frame and the failures."""
    failed: list[_HardCell] = []
    columns: dict[str, pl.Series] = {}
    for name in dict.fromkeys(cell.name for cell in cells):
        mine = [cell for cell in cells if cell.name == name]
        text = pl.Series("t", [cell.text for cell in mine], dtype=pl.String)
        parsed = pl.DataFrame({"t": text}).select(
            parse_time_text(pl.col("t"))
            if name == "time"
            else pl.col("t").str.strip_chars().cast(pl.Float64, strict=False)
        )["t"]
        given = text.str.strip_chars() != ""
        failed += [
            c for c, ok, g in zip(mine, parsed.is_not_null(), given, strict=True) if g and not ok
        ]
        rows = pl.Series([cell.row for cell in mine], dtype=pl.Int64)
        columns[name] = frame[name].scatter(rows, parsed.cast(frame.schema[name]))
    return frame.with_columns(list(columns.values())), failed


def _typed_read_accepts(cells: list[_HardCell], failed: list[_HardCell], trailing: int) -> bool:
    """Would Polars' typed CSV read have taken every number (its fast path, text as written)?"""
    if trailing:
        return False
    failing = {(c.row, c.name) for c in failed}
    for cell in cells:
        if cell.name == "time":
            continue
        if (cell.row, cell.name) in failing or cell.text != cell.text.rstrip():
            return False
    return True


def _rejections(path: Path, failed: list[_HardCell]) -> list[Rejection]:
    order = {name: i for i, name in enumerate(("time", *NUMERIC))}
    by_row: dict[int, list[_HardCell]] = {}
    for cell in failed:
        by_row.setdefault(cell.row, []).append(cell)
    rejections = []
    for row in sorted(by_row):
        cells = sorted(by_row[row], key=lambda c: order[c.name])
        values = ", ".join(f"{c.name}={c.text!r}" for c in cells)
        rejections.append(Rejection(str(path), row + 2, f"cannot parse {values}"))
    return rejections


def decode(data: bytes | mmap.mmap, path: Path, header: list[str]) -> RawRead | None:
    """Canonical CSV bytes (header line first) as the Polars reader reads them, or None.

    None means the compiled parser is not available or leaves this file to the Polars reader.
    ``data`` may be a memory-mapped file; nothing returned refers to it.
    """
    if _LIBRARY is None or not available() or len(data) > _MAX_BYTES:
        return None
    start = _body_start(data)
    names = [name.strip() for name in header]
    if b'"' in data[:start] or len(set(names)) != len(names):
        log.debug("canonical CSV %s: header left to the Polars reader", path)
        return None
    address = np.frombuffer(data, dtype=np.uint8).ctypes.data
    ascii_until = ctypes.c_int64(start)
    capacity = _LIBRARY.count_newlines(address, start, len(data), ctypes.byref(ascii_until)) + 1
    kinds = np.array([_kind(name) for name in names], dtype=np.int32)
    columns = _Columns(names, kinds, capacity).by_field
    values = (ctypes.c_void_p * len(names))()
    validity = (ctypes.c_void_p * len(names))()
    for i, column in columns.items():
        values[i] = column.values.ctypes.data
        validity[i] = column.validity.ctypes.data
    strings = _zeroed(len(data) - start)  # only long strings are written: mostly never touched
    hard_capacity = max(4096, capacity // 8)
    hard = np.empty((hard_capacity, 5), dtype=np.int64)
    result = _Result()
    status = _LIBRARY.parse(
        address,
        len(data),
        start,
        len(names),
        kinds.ctypes.data,
        ctypes.addressof(values),
        ctypes.addressof(validity),
        capacity,
        strings.ctypes.data,
        strings.size,
        hard.ctypes.data,
        hard_capacity,
        ascii_until.value,
        ctypes.byref(result),
    )
    if status:
        log.debug(
            "canonical CSV %s: %s at byte %d; left to the Polars reader",
            path,
            _STATUS_TEXT.get(int(status), f"status {status}"),
            result.status_offset,
        )
        return None
    rows = int(result.rows)
    string_buffer = pa.py_buffer(strings[: max(int(result.scratch_used), 1)])
    frame = pl.DataFrame([_series(c, rows, string_buffer) for c in columns.values()])
    cells = _hard_cells(data, strings, hard[: int(result.hard)], names)
    failed: list[_HardCell] = []
    if cells:
        frame, failed = _resolve(frame, cells)
    if not _typed_read_accepts(cells, failed, int(result.trailing_space)):
        # the Polars reader then reads every column as text and strips it
        frame = frame.with_columns(
            pl.col(name).str.strip_chars().replace("", None) for name in TEXT if name in frame
        )
    frame = frame.with_columns(_line_numbers(_LIBRARY, rows))
    if failed:
        bad = pl.Series(sorted({cell.row for cell in failed}), dtype=pl.Int64)
        frame = frame.filter(~pl.int_range(0, rows, dtype=pl.Int64).is_in(bad.implode()))
    if "source" not in frame.columns:
        frame = frame.with_columns(pl.lit(source_label("csv", path)).alias("source"))
    log.debug("canonical CSV %s: %d rows by the compiled parser", path, rows)
    return RawRead(conform(frame), _rejections(path, failed))


__all__ = ["DISABLE_VARIABLE", "LIBRARY_NAME", "available", "decode"]
