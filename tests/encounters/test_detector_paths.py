"""The archive detector's two episode reductions and its column-wise output give one answer.

Up to ``NUMPY_EPISODES_MAX_PARTS`` inside parts the episodes are reduced with NumPy, past it
with Polars' ``aggregate``; the encounters table and its JSON records must not tell them apart.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from parley.encounters import detector
from parley.encounters.detector import detect
from parley.encounters.output import ISO_FORMAT, encounter_records, iso
from parley.tracks.load import load_tracks

CASES = Path(__file__).parent.parent / "data" / "encounters"


@pytest.fixture(scope="module")
def cases_table() -> pl.DataFrame:
    """Every golden case at once: air-air, air-sea, sea-sea, dark tracks, civil-safety pairs."""
    return load_tracks(sorted(CASES.glob("*.csv"))).table


def test_numpy_and_polars_episodes_give_the_same_encounters(
    cases_table: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_numpy = detect(cases_table)
    monkeypatch.setattr(detector, "NUMPY_EPISODES_MAX_PARTS", -1)
    with_polars = detect(cases_table)
    assert with_numpy.stats["subintervals_inside"] > 0
    assert_frame_equal(with_numpy.encounters, with_polars.encounters)
    assert encounter_records(with_numpy) == encounter_records(with_polars)
    kinds = set(with_numpy.encounters["kind"].to_list())
    assert kinds == {"air-air", "air-sea", "sea-sea"}
    reasons = {r for rs in with_numpy.encounters["reasons"].to_list() for r in rs}
    assert "transponder-off" in reasons
    assert with_numpy.encounters.schema == pl.Schema(detector.ENCOUNTER_SCHEMA)


def test_records_keep_the_row_order_and_the_values(cases_table: pl.DataFrame) -> None:
    found = detect(cases_table)
    records = encounter_records(found)
    rows = list(found.encounters.iter_rows(named=True))
    assert [r["id"] for r in records] == [row["id"] for row in rows]
    for record, row in zip(records, rows, strict=True):
        assert record["start"] == iso(row["start"])
        assert record["cpa_time"] == iso(row["cpa_time"])
        assert record["min_slant_m"] == round(row["min_slant_m"], 2)
        assert record["reasons"] == row["reasons"]
        assert record["sides"] == row["sides"]


def test_polars_iso_format_cuts_milliseconds_as_isoformat_does() -> None:
    rng = np.random.default_rng(3)
    base = datetime(2016, 4, 12, 15, 0, tzinfo=UTC)
    offsets = [0, 999, 1_000, 1_999, 999_999, 1_000_000, 86_399_999_999]
    offsets += rng.integers(0, 10**12, 200).tolist()
    moments = [base + timedelta(microseconds=int(us)) for us in offsets]
    series = pl.Series("t", moments, dtype=pl.Datetime("us", "UTC"))
    assert series.dt.strftime(ISO_FORMAT).to_list() == [iso(m) for m in moments]
    assert iso(moments[3]) == "2016-04-12T15:00:00.001Z"
