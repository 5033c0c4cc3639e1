"""The canonical track table: one row per position report, SI units, UTC.

Every reader produces this table (a Polars DataFrame); every later stage consumes it.
"""

from typing import Final

import polars as pl

TIME_DTYPE: Final = pl.Datetime("us", "UTC")

#: Column name -> dtype, in the canonical order.
CANONICAL_SCHEMA: Final[dict[str, pl.DataType]] = {
    "time": TIME_DTYPE,
    "track": pl.String(),
    "side": pl.String(),
    "domain": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "alt_m": pl.Float64(),
    "speed_mps": pl.Float64(),
    "course_deg": pl.Float64(),
    "vrate_mps": pl.Float64(),
    "transponder": pl.String(),
    "callsign": pl.String(),
    "type": pl.String(),
    "source": pl.String(),
}
CANONICAL_COLUMNS: Final = tuple(CANONICAL_SCHEMA)

#: Columns a canonical CSV or Parquet file must carry; the others may be missing.
REQUIRED_COLUMNS: Final = ("time", "track", "domain", "lat", "lon")

#: Reader output carries the source line (1-based) or record number of each row, for error reports.
LINE_COLUMN: Final = "_line"

DOMAINS: Final = ("air", "sea")
TRANSPONDER_STATES: Final = ("on", "off")
CIVIL: Final = "civil"

RAW_SCHEMA: Final[dict[str, pl.DataType]] = {**CANONICAL_SCHEMA, LINE_COLUMN: pl.Int64()}


def conform(frame: pl.DataFrame, *, keep_line: bool = True) -> pl.DataFrame:
    """Add missing canonical columns as nulls, cast to canonical dtypes, order the columns.

    Extra columns are dropped. ``_line`` is kept (or created as null) when ``keep_line``.
    """
    schema = RAW_SCHEMA if keep_line else CANONICAL_SCHEMA
    exprs = []
    for name, dtype in schema.items():
        if name in frame.columns:
            exprs.append(pl.col(name).cast(dtype, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs)


def empty_table(*, keep_line: bool = False) -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_SCHEMA if keep_line else CANONICAL_SCHEMA)


__all__ = [
    "CANONICAL_COLUMNS",
    "CANONICAL_SCHEMA",
    "CIVIL",
    "DOMAINS",
    "LINE_COLUMN",
    "RAW_SCHEMA",
    "REQUIRED_COLUMNS",
    "TIME_DTYPE",
    "TRANSPONDER_STATES",
    "conform",
    "empty_table",
]
