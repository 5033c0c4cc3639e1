"""The latest state of every live track, in NumPy arrays indexed by a track slot.

One slot per track id, given on first sight and kept. Each batch of reports updates the slots it
touches at once (vectorised): last position, altitude, velocity, vertical rate, turn rate, and the
box of the positions the track reported in the batch (for the candidate grid).
"""

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.encounters.live_ring import RecentReports
from parley.tracks.geo import METRES_PER_DEGREE
from parley.tracks.schema import CIVIL

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_FLOAT_FIELDS = (
    "lat",
    "lon",
    "alt",
    "speed",
    "course",
    "vrate",
    "turn",
    "vx",
    "vy",
    "prev_lat",
    "prev_lon",
    "prev_alt",
    "speed_reported",
    "course_reported",
    "vrate_reported",
)

#: The columns a batch must have (canonical schema); the others are ignored.
BATCH_COLUMNS = (
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
)


_MMSI_BASE = 1 << 32  # above every 24-bit ICAO address


def numeric_ids(tracks: pl.Series) -> IntArray:
    """``icao:`` hex addresses and ``mmsi:`` numbers as integers in two disjoint ranges; -1
    for other ids or ids that do not parse. Not one-to-one (``icao:4CA7B5`` reads as
    ``icao:4ca7b5``): :class:`NumericIds` checks the id behind every number it finds."""
    rest = tracks.str.slice(5)
    number = (
        pl.when(tracks.str.starts_with("icao:"))
        .then(rest.str.to_integer(base=16, strict=False))
        .when(tracks.str.starts_with("mmsi:"))
        .then(rest.str.to_integer(base=10, strict=False) + _MMSI_BASE)
    )
    keys = pl.select(number.fill_null(-1).cast(pl.Int64)).to_series()
    return np.asarray(keys.to_numpy(), dtype=np.int64)


class NumericIds:
    """Track ids to slots by number (a sorted array and a vectorised search, no per-row
    Python): ``lookup`` finds the slots of known ids; the rest goes through the dict."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.int64)  # sorted
        self._slots = np.zeros(0, dtype=np.int64)
        self._ids = pl.Series("track", [], dtype=pl.String)  # by slot

    def add(self, ids: list[str], first_slot: int) -> None:
        """Register ``ids`` (slots ``first_slot``, ``first_slot + 1``, ...)."""
        new = pl.Series("track", ids, dtype=pl.String)
        self._ids = self._ids.append(new)
        if self._ids.n_chunks() > 8:  # a node sees a few new ids in most batches
            self._ids = self._ids.rechunk()
        keys = numeric_ids(new)
        slots = np.arange(first_slot, first_slot + len(ids), dtype=np.int64)
        usable = np.flatnonzero(keys >= 0)
        order = usable[np.argsort(keys[usable], kind="stable")]
        # merged after the equal numbers already held: a number met twice keeps its first slot
        at = np.searchsorted(self._keys, keys[order], side="right")
        self._keys = np.insert(self._keys, at, keys[order])
        self._slots = np.insert(self._slots, at, slots[order])

    def lookup(self, tracks: pl.Series) -> tuple[IntArray, BoolArray]:
        """(slot, found) per id; ``found`` is false for ids to look up in the dict."""
        keys = numeric_ids(tracks)
        if self._keys.size == 0:
            return np.full(keys.size, -1, dtype=np.int64), np.zeros(keys.size, dtype=bool)
        position = np.minimum(np.searchsorted(self._keys, keys), self._keys.size - 1)
        found = (keys >= 0) & (self._keys[position] == keys)
        slot = np.where(found, self._slots[position], -1)
        # the number is not the id: the id behind the slot must be this one
        same = (self._ids.gather(np.maximum(slot, 0)) == tracks).fill_null(False).to_numpy()
        found &= same
        return np.where(found, slot, -1), found


class TrackState:
    """Latest report of every track seen, as arrays indexed by slot (no per-track objects)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.ids: list[str] = []
        self.slot_of: dict[str, int] = {}
        self._index = NumericIds()
        self.sides: list[str] = []
        self._capacity = 0
        self.t_us = np.zeros(0, dtype=np.int64)
        self.prev_t_us = np.zeros(0, dtype=np.int64)
        self.is_air = np.zeros(0, dtype=bool)
        self.dark = np.zeros(0, dtype=bool)
        self.side = np.zeros(0, dtype=np.int64)
        self.floats: dict[str, FloatArray] = {}
        self.recent = RecentReports(0)
        self._grow(max(capacity, 16))

    # -- storage -------------------------------------------------------------------------
    def _grow(self, capacity: int) -> None:
        def grown(old: np.ndarray, fill: object) -> np.ndarray:
            new = np.full(capacity, fill, dtype=old.dtype)
            new[: old.size] = old
            return new

        self.t_us = grown(self.t_us, -1)
        self.prev_t_us = grown(self.prev_t_us, -1)
        self.is_air = grown(self.is_air, False)
        self.dark = grown(self.dark, False)
        self.side = grown(self.side, 0)
        for name in _FLOAT_FIELDS:
            self.floats[name] = grown(self.floats.get(name, np.zeros(0)), np.nan)
        self.recent.grow(capacity)
        self._capacity = capacity

    def __len__(self) -> int:
        return len(self.ids)

    def __getattr__(self, name: str) -> FloatArray:
        floats = object.__getattribute__(self, "floats")
        if name in floats:
            return floats[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    def _side_code(self, side: str) -> int:
        if side not in self.sides:
            self.sides.append(side)
        return self.sides.index(side)

    def slots_for(self, tracks: pl.Series) -> IntArray:
        """The slot of each track id, new ids getting new slots (in order of first sight).

        Known ids of the usual forms (``icao:`` + hex, ``mmsi:`` + digits) are found by their
        number in a sorted array, the others (and new ids) through the dict.
        """
        slot, known = self._index.lookup(tracks)
        if known.all():
            return slot
        names = tracks.to_list()
        slot_of = self.slot_of
        added = len(self.ids)
        for k in np.flatnonzero(~known).tolist():
            name = names[k]
            if name not in slot_of:
                slot_of[name] = len(self.ids)
                self.ids.append(name)
            slot[k] = slot_of[name]
        if len(self.ids) > added:
            self._index.add(self.ids[added:], added)
        if len(self.ids) > self._capacity:
            self._grow(max(len(self.ids), 2 * self._capacity))
        return slot

    # -- updates -------------------------------------------------------------------------
    def update(self, batch: pl.DataFrame) -> int:
        """Apply a batch of canonical rows (air rows need an altitude).

        Returns the start (µs) of the earliest segment the batch completes: the previous fix of
        the earliest track, or its first report. Reports older than a track's latest are left
        out of the state (they still reach the rings and the detector's histories).
        """
        slot = self.slots_for(batch["track"])
        names = ("lat", "lon", "alt_m", "speed_mps", "course_deg", "vrate_mps")
        sides = batch["side"].fill_null(CIVIL)
        code_of = {name: self._side_code(name) for name in sides.unique().to_list()}
        # one query for every column the state needs (Polars' cost is mostly per query)
        columns = batch.select(
            pl.col("time").dt.epoch("us").alias("t_us"),
            *(pl.col(n).cast(pl.Float64).fill_null(np.nan) for n in names),
            (pl.col("domain") == "air").alias("air"),
            (pl.col("transponder") == "off").fill_null(False).alias("off"),
            pl.col("side").fill_null(CIVIL).replace_strict(code_of, return_dtype=pl.Int64),
        )
        t_us = columns["t_us"].to_numpy()
        order = np.lexsort((t_us, slot))
        slot, t_us = slot[order], t_us[order]
        col = {name: columns[name].to_numpy()[order] for name in names}
        air = columns["air"].to_numpy()[order]
        off = columns["off"].to_numpy()[order]
        side = columns["side"].to_numpy()[order]
        fresh = t_us >= self.t_us[slot]
        starts = np.flatnonzero(np.concatenate([[True], slot[1:] != slot[:-1]]))
        ends = np.concatenate([starts[1:], [slot.size]]) - 1
        previous = self.t_us[slot[starts]]
        earliest = int(min(t_us.min(), previous[previous >= 0].min(initial=t_us.min())))
        self.recent.add(
            slot,
            t_us,
            starts,
            {
                "lat": col["lat"],
                "lon": col["lon"],
                "alt": col["alt_m"],
                "speed": col["speed_mps"],
                "course": col["course_deg"],
                "vrate": col["vrate_mps"],
            },
            off,
        )
        self.dark[slot[off]] = True  # once dark, dark (the archive detector's rule)
        last = ends[fresh[ends]]
        s = slot[last]
        # the report before the last: in this batch when it has two, else the state's
        has_prev = last > starts[fresh[ends]]
        prev = np.maximum(last - 1, 0)
        prev_t = np.where(has_prev, t_us[prev], self.t_us[s])
        prev_lat = np.where(has_prev, col["lat"][prev], self.lat[s])
        prev_lon = np.where(has_prev, col["lon"][prev], self.lon[s])
        prev_course = np.where(has_prev, col["course_deg"][prev], self.course[s])
        self.prev_alt[s] = np.where(has_prev, col["alt_m"][prev], self.alt[s])
        self._apply(s, t_us[last], prev_t, prev_lat, prev_lon, prev_course, col, last)
        self.is_air[s] = air[last]
        self.side[s] = side[last]
        return earliest

    def _apply(
        self,
        s: IntArray,
        t_us: IntArray,
        prev_t: IntArray,
        prev_lat: FloatArray,
        prev_lon: FloatArray,
        prev_course: FloatArray,
        col: dict[str, FloatArray],
        last: IntArray,
    ) -> None:
        lat, lon = col["lat"][last], col["lon"][last]
        speed, course = col["speed_mps"][last], col["course_deg"][last]
        dt = (t_us - prev_t) / 1e6
        known_prev = (prev_t >= 0) & (dt > 0)
        safe_dt = np.where(known_prev, dt, 1.0)
        # velocity from the reported speed and course, else from the last two fixes
        north = (lat - prev_lat) * METRES_PER_DEGREE / safe_dt
        east = (
            ((lon - prev_lon + 180.0) % 360.0 - 180.0)
            * METRES_PER_DEGREE
            * np.cos(np.radians(lat))
            / safe_dt
        )
        reported = ~np.isnan(speed) & ~np.isnan(course)
        derived_ok = known_prev & ~reported
        vx = np.where(reported, speed * np.sin(np.radians(course)), np.where(derived_ok, east, 0.0))
        vy = np.where(
            reported, speed * np.cos(np.radians(course)), np.where(derived_ok, north, 0.0)
        )
        turn = np.where(
            known_prev & ~np.isnan(course) & ~np.isnan(prev_course),
            ((course - prev_course + 180.0) % 360.0 - 180.0) / safe_dt,
            np.nan,
        )
        self.prev_t_us[s] = prev_t
        self.prev_lat[s] = prev_lat
        self.prev_lon[s] = prev_lon
        self.t_us[s] = t_us
        self.lat[s] = lat
        self.lon[s] = lon
        self.alt[s] = col["alt_m"][last]
        self.speed_reported[s] = speed
        self.course_reported[s] = course
        self.vrate_reported[s] = col["vrate_mps"][last]
        self.speed[s] = np.hypot(vx, vy)
        self.course[s] = np.where(np.isnan(course), np.degrees(np.arctan2(vx, vy)) % 360.0, course)
        self.vrate[s] = np.nan_to_num(col["vrate_mps"][last])
        self.turn[s] = turn
        self.vx[s] = vx
        self.vy[s] = vy


__all__ = ["BATCH_COLUMNS", "NumericIds", "TrackState", "numeric_ids"]
