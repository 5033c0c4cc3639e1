"""The compiled canonical CSV parser reads every file exactly as the Polars reader does."""

import contextlib
import gzip
import logging
import math
import random
import struct
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from parley.errors import InputError
from parley.tracks.readers import canonical, fastcsv
from parley.tracks.readers.base import RawRead

REPO = Path(__file__).resolve().parents[2]
HEADER = (
    "time,track,side,domain,lat,lon,alt_m,speed_mps,course_deg,vrate_mps,"
    "transponder,callsign,type,source"
)


def canonical_files() -> list[Path]:
    candidates = [*(REPO / "tests" / "data").rglob("*.csv"), *(REPO / "src").rglob("*.csv")]
    found = []
    for path in sorted(candidates):
        head = path.read_bytes()[:4096]
        if canonical._sniff_csv(path, head):
            found.append(path)
    return found


def both(data: bytes, path: Path = Path("t.csv")) -> tuple[RawRead | None, RawRead | str]:
    """The compiled parser's result (None: declined) and the Polars reader's.

    A reader that raises gives its error as text instead; the two must then raise alike.
    """
    header = canonical._header(path, data)
    fast: RawRead | str | None
    slow: RawRead | str
    try:
        fast = fastcsv.decode(data, path, header)
    except pl.exceptions.PolarsError as exc:
        fast = type(exc).__name__
    try:
        slow = canonical.decode_csv_with_polars(path, data, header)
    except InputError as exc:
        slow = str(exc)
    except pl.exceptions.PolarsError as exc:
        slow = type(exc).__name__
    if isinstance(fast, str):
        assert fast == slow, f"the compiled path raised {fast}, the Polars one gave {slow}"
        return None, slow
    return fast, slow


def assert_same(fast: RawRead | None, slow: RawRead | str) -> None:
    if fast is None:
        return
    assert not isinstance(slow, str), f"the Polars reader failed ({slow}), the compiled one read"
    assert_frame_equal(fast.frame, slow.frame)
    assert fast.rejections == slow.rejections


def test_the_compiled_parser_is_built() -> None:
    # hatch_build.py compiles it at install time (pip install -e . / a wheel)
    assert fastcsv.available(), "run .venv/bin/pip install -e . --no-deps to build it"


def test_canonical_files_under_tests_data_read_the_same() -> None:
    files = canonical_files()
    assert len(files) >= 10
    for path in files:
        data = path.read_bytes()
        fast, slow = both(data, path)
        assert fast is not None, f"{path} declined"
        assert_same(fast, slow)


def test_malformed_sample_values_and_rejections(test_data: Path) -> None:
    path = test_data / "canonical" / "malformed.csv"
    fast, _ = both(path.read_bytes(), path)
    assert fast is not None
    assert fast.frame.height == 12
    assert [(r.line, r.reason) for r in fast.rejections] == [
        (4, "cannot parse time='not-a-time'"),
        (7, "cannot parse speed_mps='fast'"),
    ]
    first = fast.frame.row(0, named=True)
    assert first["time"].isoformat() == "2016-04-14T10:00:00+00:00"
    assert (first["track"], first["lat"], first["lon"], first["_line"]) == (
        "icao:4ca7b5",
        55.5,
        19.0,
        2,
    )
    unix = fast.frame.filter(pl.col("_line") == 10).row(0, named=True)
    assert unix["time"].timestamp() == 1460628007
    assert fast.frame["source"].unique().to_list() == ["csv:malformed.csv"]


def test_read_canonical_csv_uses_the_compiled_parser_and_says_so(
    test_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = test_data / "canonical" / "malformed.csv"
    with caplog.at_level(logging.DEBUG, logger="parley.tracks.readers"):
        raw = canonical.read_canonical_csv(path)
    assert raw.frame.height == 12
    assert "by the compiled parser" in caplog.text
    assert "Polars reader" not in caplog.text


def test_gzip_input_is_decompressed_then_parsed(test_data: Path, tmp_path: Path) -> None:
    source = test_data / "canonical" / "malformed.csv"
    packed = tmp_path / "malformed.csv.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    plain, zipped = canonical.read_canonical_csv(source), canonical.read_canonical_csv(packed)
    assert_frame_equal(plain.frame.drop("source"), zipped.frame.drop("source"))
    assert [r.reason for r in plain.rejections] == [r.reason for r in zipped.rejections]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'2016-04-14T10:00:00Z,x"y,,air,1,2\n', "quote inside a field"),
        (b'2016-04-14T10:00:00Z,"x"y,,air,1,2\n', "text after a closing quote"),
        (b"2016-04-14T10:00:00Z,x\ry,,air,1,2\n", "lone carriage return"),
        (b"2016-04-14T10:00:00Z,\xff\xfe,,air,1,2\n", "not UTF-8"),
        (b'2016-04-14T10:00:00Z,"open,,air,1,2\n', "unclosed quote"),
    ],
)
def test_doubtful_layouts_go_to_the_polars_reader(
    body: bytes, why: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    data = b"time,track,side,domain,lat,lon\n" + body
    assert fastcsv.decode(data, Path("t.csv"), canonical._header(Path("t.csv"), data)) is None, why
    path = tmp_path / "odd.csv"
    path.write_bytes(data)
    # the Polars reader may refuse such a file: that is its own verdict
    with (
        caplog.at_level(logging.DEBUG, logger="parley.tracks.readers"),
        contextlib.suppress(InputError),
    ):
        canonical.read_canonical_csv(path)
    assert "read by the Polars reader" in caplog.text


def test_switched_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fastcsv.DISABLE_VARIABLE, "1")
    assert not fastcsv.available()
    data = f"{HEADER}\n2016-04-14T10:00:00Z,icao:1,,air,1,2,,,,,,,,\n".encode()
    assert fastcsv.decode(data, Path("t.csv"), canonical._header(Path("t.csv"), data)) is None
    assert canonical.decode_canonical_csv(data, Path("t.csv")).frame.height == 1


def _float_texts(rng: random.Random, count: int) -> list[str]:
    texts = []
    for _ in range(count):
        bits = rng.getrandbits(64)
        value = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if not math.isfinite(value) or value == 0 or not 1e-30 < abs(value) < 1e30:
            value = rng.uniform(-1e4, 1e4)
        texts.append(
            rng.choice(
                [
                    repr(value),
                    f"{value:.17g}",
                    f"{value:.7f}",
                    f"{value:.3f}",
                    f"{rng.randint(0, 10**19 - 1)}e{rng.randint(-30, 10)}",
                    f"{rng.randint(0, 10**19 - 1)}",
                    f"0.{rng.randint(0, 10**19 - 1):019d}",
                    f"{rng.uniform(-180, 180)!r}",
                ]
            )
        )
    return texts


def test_numbers_round_exactly_as_polars_does() -> None:
    rng = random.Random(20261129)
    pairs = zip(_float_texts(rng, 20_000), _float_texts(rng, 20_000), strict=True)
    lines = [f"2016-04-14T10:00:00Z,icao:1,,air,{lat},{lon}" for lat, lon in pairs]
    data = ("time,track,side,domain,lat,lon\n" + "\n".join(lines) + "\n").encode()
    fast, slow = both(data)
    assert fast is not None
    assert_same(fast, slow)
    assert fast.frame["lat"].null_count() == 0


def test_times_match_in_every_written_layout() -> None:
    rng = random.Random(7)
    times = []
    for _ in range(5000):
        micros = rng.randint(-(10**15), 4 * 10**15)
        stamp = pl.Series([micros]).cast(pl.Datetime("us", "UTC"))[0]
        text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
        fraction = f"{micros % 10**6:06d}"[: rng.randint(0, 6)]
        text += f".{fraction}{rng.choice('123456789') if rng.random() < 0.2 else ''}" * bool(
            fraction
        )
        text = text.replace("T", rng.choice(["T", " "]))
        text += rng.choice(["Z", "+00:00", "", "+02:00", "-0130"])
        times.append(rng.choice([text, f"{micros / 1e6!r}", str(micros // 10**6), f" {text} "]))
    data = ("time,track,domain,lat,lon\n" + "".join(f"{t},x,air,1,2\n" for t in times)).encode()
    fast, slow = both(data)
    assert fast is not None
    assert_same(fast, slow)


_CELL_TEXT = st.text(alphabet=st.sampled_from(list('ab Z:-+.,"\n09é\t')), max_size=6)


@st.composite
def _cell(draw: st.DrawFn, column: str) -> str:
    if column == "time":
        value = draw(
            st.sampled_from(
                [
                    "2016-04-14T10:00:00Z",
                    "2016-04-14T10:00:00.5Z",
                    "2016-04-14 10:00:00",
                    "2016-02-30T10:00:00Z",
                    "2016-04-14T10:00:00+00:00",
                    "2016-04-14T12:00:00+02:00",
                    "1460628007",
                    "1460628007.25",
                    "not-a-time",
                    "",
                    " ",
                ]
            )
        )
    elif column in fastcsv.NUMERIC:
        value = draw(
            st.one_of(
                st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
                st.integers(-(10**20), 10**20).map(str),
                st.sampled_from(["", " 1.5", "1.5 ", "fast", "+.5", "5.", "1e5", "0x10", "-0"]),
            )
        )
    else:
        value = draw(_CELL_TEXT)
    if draw(st.booleans()) and ("," in value or '"' in value or "\n" in value):
        return '"' + value.replace('"', '""') + '"'
    if draw(st.integers(0, 9)) == 0:
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def _canonical_text(draw: st.DrawFn) -> bytes:
    optional = [c for c in HEADER.split(",") if c not in ("time", "track", "domain", "lat", "lon")]
    columns = ["time", "track", "domain", "lat", "lon"]
    columns += draw(st.lists(st.sampled_from(optional), unique=True, max_size=4))
    columns += ["extra"] * draw(st.integers(0, 1))
    columns = draw(st.permutations(columns))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        cells = [draw(_cell(c)) for c in columns]
        shape = draw(st.integers(0, 9))
        if shape == 0:
            cells = cells[: draw(st.integers(0, len(cells)))]
        elif shape == 1:
            cells.append("more")
        rows.append(",".join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([",".join(columns), *rows])
    if draw(st.booleans()):
        text += newline
    return text.encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_canonical_text())
def test_random_files_read_the_same(data: bytes) -> None:
    fast, slow = both(data)
    assert_same(fast, slow)


def test_random_files_are_mostly_taken_by_the_compiled_parser() -> None:
    taken = 0
    rng = random.Random(3)
    for _ in range(100):
        lines = [HEADER]
        for _ in range(rng.randint(1, 20)):
            lat = rng.choice([repr(rng.uniform(-90, 90)), "", "bad"])
            callsign = rng.choice(["RCH123", '"A, B"', '"say ""hi"""', "", " pad "])
            second = rng.randint(0, 9)
            lines.append(f"2016-04-14T10:00:0{second}Z,icao:1,,air,{lat},2,,,,,on,{callsign},,")
        fast, slow = both(("\n".join(lines) + "\n").encode())
        taken += fast is not None
        assert_same(fast, slow)
    assert taken == 100


def _decimal_texts(rng: random.Random, count: int) -> list[str]:
    """Decimals of 1 to 19 significant digits, mostly 17 (as repr writes a float)."""
    texts = []
    for _ in range(count):
        digits = 17 if rng.random() < 0.7 else rng.randint(1, 19)
        body = str(rng.randint(10 ** (digits - 1), 10**digits - 1))
        point = rng.randint(0, digits)
        text = body[:point] + "." + body[point:] if point < digits else body
        texts.append(("-" if rng.random() < 0.5 else "") + text.lstrip(".").rstrip("."))
    return texts


def _ties_and_neighbours(rng: random.Random, count: int) -> list[str]:
    """Decimals exactly halfway between two doubles (ties go to even), and one digit either side."""
    texts = []
    for _ in range(count):
        halves = rng.randint(0, 2)  # the tie (2a + 1) / 2^(halves + 1) has halves + 1 decimals
        a = rng.randint(2**52, 2**53 - 1) >> halves
        tie = Decimal(2 * a + 1) / Decimal(2 ** (halves + 1))
        unit = Decimal(1).scaleb(tie.as_tuple().exponent)  # type: ignore[arg-type]
        texts += [str(tie), str(tie - unit), str(tie + unit)]
    # odd integers above 2^53 are ties too, and the largest 19-digit mantissas
    texts += ["9007199254740993", "9007199254740995", "18014398509481987", "9999999999999999999"]
    texts += ["0.9999999999999999999", "1.000000000000000001", "4503599627370496.5"]
    texts += ["0.000000000000000000000000001", "1234567890123456789000000000", "1e-27", "9e27"]
    texts += ["0", "-0.0", "0.1", "-55.809536", "2.2250738585072014", "179.99999999999997"]
    return texts


def _bits(values: list[float]) -> list[int]:
    return [struct.unpack("<q", struct.pack("<d", value))[0] for value in values]


@pytest.mark.parametrize("source", ["random", "ties"])
def test_decimals_are_read_as_python_float_reads_them(source: str) -> None:
    # float() is correctly rounded; so must the compiled parser's 128-bit path be (and Polars')
    rng = random.Random(20261129)
    make = _decimal_texts if source == "random" else _ties_and_neighbours
    texts = make(rng, 300_000 if source == "random" else 20_000)
    body = "".join(f"2024-03-01T00:00:00Z,icao:1,,air,{t},{t}\n" for t in texts)
    data = ("time,track,side,domain,lat,lon\n" + body).encode()
    fast = fastcsv.decode(data, Path("t.csv"), canonical._header(Path("t.csv"), data))
    assert fast is not None
    assert not fast.rejections
    expected = _bits([float(t) for t in texts])
    assert _bits(fast.frame["lat"].to_list()) == expected
    assert _bits(fast.frame["lon"].to_list()) == expected


def _rows_of_ascii(count: int) -> bytes:
    return b"".join(
        f"2024-03-01T00:00:{i % 60:02d}Z,icao:{i:06x},,air,{i / 7!r},{-i / 3!r}\n".encode()
        for i in range(count)
    )


@pytest.mark.parametrize("where", ["first row", "after 100 kB"])
def test_utf8_is_checked_past_a_long_ascii_start(where: str) -> None:
    # the newline count notes where the bytes stop being ASCII; the parse checks from there
    header = b"time,track,side,domain,lat,lon,callsign\n"
    plain = _rows_of_ascii(2000 if where == "after 100 kB" else 0)
    good = "2024-03-01T00:00:00Z,mmsi:1,,sea,1.5,2.5,SJÖFRÖKEN ✓\n".encode()
    fast, slow = both(header + plain + good + plain)
    assert fast is not None
    assert_same(fast, slow)
    assert "SJÖFRÖKEN ✓" in fast.frame["callsign"].to_list()
    bad = header + plain + b"2024-03-01T00:00:00Z,mmsi:1,,sea,1.5,2.5,\xff\n" + plain
    assert fastcsv.decode(bad, Path("t.csv"), canonical._header(Path("t.csv"), bad)) is None


def test_large_buffers_are_zeroed_and_huge_page_aligned() -> None:
    size = 5 * 2**20 + 123
    buffer = fastcsv._zeroed(size)
    assert buffer.size == size
    assert not buffer.any()
    assert buffer.ctypes.data % (2 * 2**20) == 0
    small = fastcsv._zeroed(10)
    assert small.size == 10
    assert not small.any()


def test_reading_does_not_load_pyarrow_compute(tmp_path: Path) -> None:
    # Polars' pyarrow route imports pyarrow.compute (about 80 ms once per process); the parser's
    # columns go through the Arrow PyCapsule interface instead
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER.encode() + b"\n" + b"2016-04-14T10:00:00Z,icao:1,,air,1,2,,,,,,,,\n")
    code = (
        "import sys; from pathlib import Path\n"
        "from parley.tracks.readers import fastcsv\n"
        "from parley.tracks.readers.canonical import read_canonical_csv\n"
        f"raw = read_canonical_csv(Path({str(path)!r}))\n"
        "assert fastcsv.available() and raw.frame.height == 1 and raw.frame['lat'][0] == 1.0\n"
        "print('pyarrow.compute' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
