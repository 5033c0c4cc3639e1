"""Regenerate the bundled demo sample ``src/parley/data/samples/april2016.csv``.

The three April 2016 Baltic encounters, built as tracks by ``parley.testing.april2016`` with the
documented assumptions of ``docs/april2016.md``, written as canonical CSV:

    .venv/bin/python tools/make_samples.py [OUT.csv]
"""

import sys
from pathlib import Path

import polars as pl

from parley.testing.april2016 import donald_cook_11_april, donald_cook_12_april, rc135_14_april
from parley.testing.builders import concat_tracks

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/parley/data/samples/april2016.csv"
COLUMNS = [
    "time",
    "track",
    "side",
    "domain",
    "lat",
    "lon",
    "alt_m",
    "speed_mps",
    "course_deg",
    "vrate_mps",
    "transponder",
    "callsign",
    "type",
]


def april2016_table() -> pl.DataFrame:
    cases = (donald_cook_11_april(), donald_cook_12_april(), rc135_14_april())
    return concat_tracks(*(case.frame for case in cases))


def write_sample(out: Path) -> None:
    table = (
        april2016_table()
        .select(COLUMNS)
        .with_columns(
            pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
            pl.col("lat", "lon").round(7),
            pl.col("alt_m", "speed_mps", "course_deg", "vrate_mps").round(2),
        )
    )
    table.write_csv(out)


if __name__ == "__main__":
    write_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
