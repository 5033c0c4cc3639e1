"""The last few reports of every live track, in NumPy rings indexed by track slot.

The archive detector needs, for a pair it starts to watch, every report of both tracks from the
start of the segments that may bring them inside the volume. Those reports happened before the
pair was known, so each track keeps its last ``depth`` reports (a fixed-size ring per slot, no
per-track objects): enough when each track reports at least ``depth`` times less often than the
other's longest interval (16 reports cover a 10 s AIS interval for a 1 Hz aircraft).
"""

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.tracks.schema import CANONICAL_SCHEMA

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEPTH = 16
_VALUES = ("lat", "lon", "alt", "speed", "course", "vrate")


class RecentReports:
    """Rings of the last ``depth`` reports per slot (time, position, kinematics, transponder)."""

    def __init__(self, capacity: int, depth: int = DEPTH) -> None:
        self.depth = depth
        self.count = np.zeros(capacity, dtype=np.int64)
        self.t_us = np.full((capacity, depth), -1, dtype=np.int64)
        self.off = np.zeros((capacity, depth), dtype=bool)
        self.batch = np.full((capacity, depth), -1, dtype=np.int64)
        self.batches = 0
        self.spill: dict[str, np.ndarray] = {"slot": np.zeros(0, dtype=np.int64)}
        self.batch_rows: dict[str, np.ndarray] = {"slot": np.zeros(0, dtype=np.int64)}
        self.batch_slots = np.zeros(0, dtype=np.int64)
        self.values = {name: np.full((capacity, depth), np.nan) for name in _VALUES}
        #: the newest time in each ring, and whether a ring ever got a report not after it
        self.newest = np.full(capacity, -1, dtype=np.int64)
        self.unordered = np.zeros(capacity, dtype=bool)

    def grow(self, capacity: int) -> None:
        old = self.count.size
        if capacity <= old:
            return
        self.count = np.concatenate([self.count, np.zeros(capacity - old, dtype=np.int64)])
        pad = (capacity - old, self.depth)
        self.t_us = np.concatenate([self.t_us, np.full(pad, -1, dtype=np.int64)])
        self.off = np.concatenate([self.off, np.zeros(pad, dtype=bool)])
        self.batch = np.concatenate([self.batch, np.full(pad, -1, dtype=np.int64)])
        self.newest = np.concatenate([self.newest, np.full(capacity - old, -1, dtype=np.int64)])
        self.unordered = np.concatenate([self.unordered, np.zeros(capacity - old, dtype=bool)])
        for name in _VALUES:
            self.values[name] = np.concatenate([self.values[name], np.full(pad, np.nan)])

    def add(
        self,
        slot: IntArray,
        t_us: IntArray,
        starts: IntArray,
        values: dict[str, FloatArray],
        off: BoolArray,
    ) -> None:
        """Append rows sorted by (slot, time); ``starts`` are the first rows of each slot's run."""
        run = np.repeat(np.arange(starts.size), np.diff(np.concatenate([starts, [slot.size]])))
        rank = np.arange(slot.size) - starts[run]
        length = np.diff(np.concatenate([starts, [slot.size]]))[run]
        keep = rank >= length - self.depth  # only the last ``depth`` of a long run matter
        position = ((self.count[slot] + rank) % self.depth)[keep]
        kept = slot[keep]
        # flat indices into the (slot, depth) arrays: one take or put per array
        cell = kept * self.depth + position
        # what this batch overwrites stays readable until the next batch (to seed histories)
        old_t = np.take(self.t_us, cell)
        lost = np.flatnonzero(old_t >= 0)
        lost_cell = cell[lost]
        self.spill = {
            "slot": kept[lost],
            "t_us": old_t[lost],
            "off": np.take(self.off, lost_cell),
            **{name: np.take(self.values[name], lost_cell) for name in _VALUES},
        }
        # rows of runs longer than the ring never enter it: kept for this batch's boxes
        dropped = ~keep
        self.batch_rows = {
            "slot": slot[dropped],
            "t_us": t_us[dropped],
            **{name: values[name][dropped] for name in _VALUES},
        }
        self.batch_slots = slot[starts]
        np.put(self.t_us, cell, t_us[keep])
        np.put(self.off, cell, off[keep])
        self.batches += 1
        np.put(self.batch, cell, self.batches)
        for name in _VALUES:
            np.put(self.values[name], cell, values[name][keep])
        self.count[slot[starts]] += np.diff(np.concatenate([starts, [slot.size]]))
        # a ring in strictly increasing time order is read newest first (``boxes``)
        previous = np.concatenate([[-1], t_us[:-1]])
        previous[starts] = self.newest[slot[starts]]
        self.unordered[slot[t_us <= previous]] = True
        ends = np.concatenate([starts[1:], [slot.size]]) - 1
        self.newest[slot[ends]] = np.maximum(self.newest[slot[ends]], t_us[ends])

    def _before(self, n: int, cut_us: int, slots: IntArray | None = None) -> IntArray:
        """Per slot: the time of its last report at or before ``cut_us`` (-1: none kept).

        With ``slots``, only those slots' values are computed (the others are -1).
        """
        if slots is None:
            t = self.t_us[:n]
            before = np.where((t >= 0) & (t <= cut_us), t, -1).max(axis=1)
        else:
            before = np.full(n, -1, dtype=np.int64)
            if slots.size:
                t = self.t_us[slots]
                before[slots] = np.where((t >= 0) & (t <= cut_us), t, -1).max(axis=1)
        spill_slot, spill_t = self.spill["slot"], self.spill.get("t_us", np.zeros(0))
        inside = (spill_slot < n) & (spill_t <= cut_us)
        np.maximum.at(before, spill_slot[inside], spill_t[inside])
        return np.asarray(before)

    def since(self, n: int, cut_us: int) -> BoolArray:
        """Per slot (first ``n``): the reports at or after the last one at or before ``cut_us``."""
        t = self.t_us[:n]
        return np.asarray((t >= 0) & (t >= self._before(n, cut_us)[:, None]))

    def boxes(
        self,
        n: int,
        cut_us: int,
        air: BoolArray,
        fix: tuple[FloatArray, FloatArray, FloatArray, IntArray],
        previous: tuple[FloatArray, FloatArray, FloatArray, IntArray],
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """The box of each track's reports since ``cut_us`` (and the one before): every segment
        it flew since then lies inside.

        ``fix`` and ``previous`` (lat, lon, alt, time of the last two reports) give the box of
        the tracks with at most one report since the cut; the rings, the others'.
        """
        lat, lon, alt = fix[0][:n], fix[1][:n], np.where(air, fix[2][:n], 0.0)
        out = [lat.copy(), lat.copy(), lon.copy(), lon.copy(), alt.copy(), alt.copy()]
        one_since = (fix[3][:n] > cut_us) & (previous[3][:n] >= 0)
        for k, values in enumerate(
            (previous[0][:n], previous[1][:n], np.where(air, previous[2][:n], 0.0))
        ):
            np.minimum(out[2 * k], values, out=out[2 * k], where=one_since)
            np.maximum(out[2 * k + 1], values, out=out[2 * k + 1], where=one_since)
        touched = previous[3][:n] > cut_us  # two reports or more since the cut: the ring
        touched[self.batch_rows["slot"][self.batch_rows["slot"] < n]] = True
        recent = np.flatnonzero(touched)
        if recent.size == 0:
            return out[0], out[1], out[2], out[3], out[4], out[5]
        spilled = self.spill["slot"][self.spill["slot"] < n]
        batch_slots = self.batch_rows["slot"][self.batch_rows["slot"] < n]
        in_batch_rows = np.zeros(n, dtype=bool)
        in_batch_rows[batch_slots] = True
        # rings in time order whose two newest reports, the fix and the one before (in ``out``
        # already), are after the cut: read on newest first from the third, down to the last
        # report at or before the cut, instead of masking whole rings
        fast = ~self.unordered[recent] & (previous[3][recent] > cut_us) & ~in_batch_rows[recent]
        exact = np.zeros(n, dtype=bool)
        exact[recent[~fast]] = True
        exact[batch_slots] = True
        # a ring in time order is newer than what it spilled: the spill counts only when no
        # report left in the ring is at or before the cut
        oldest = self.t_us[spilled, self.count[spilled] % self.depth]
        exact[spilled[self.unordered[spilled] | (oldest > cut_us)]] = True
        before = np.where(
            exact, self._before(n, cut_us, np.flatnonzero(exact)), np.iinfo(np.int64).max
        )
        self._widen_newest_first(recent[fast], cut_us, air, out, start=2)
        self._widen_masked(recent[~fast], before, air, out)
        for rows in (self.spill, self.batch_rows):
            slot = rows["slot"]
            if slot.size == 0:
                continue
            use = (slot < n) & (rows["t_us"] >= before[np.minimum(slot, n - 1)])
            if not use.any():
                continue
            for k, name in enumerate(("lat", "lon", "alt")):
                value = rows[name][use]
                if name == "alt":
                    value = np.where(air[slot[use]], value, 0.0)
                np.minimum.at(out[2 * k], slot[use], value)
                np.maximum.at(out[2 * k + 1], slot[use], value)
        return out[0], out[1], out[2], out[3], out[4], out[5]

    def _widen_newest_first(
        self, slots: IntArray, cut_us: int, air: BoolArray, out: list[FloatArray], start: int
    ) -> None:
        """Widen the boxes of ``slots`` (rings in time order) by their reports newest first, down
        to the last one at or before the cut: the reports a time mask would pick, without
        reading the whole ring."""
        reading = slots
        for back in range(start, self.depth):
            if reading.size == 0:
                break
            position = (self.count[reading] - 1 - back) % self.depth
            t = self.t_us[reading, position]
            present = t >= 0
            reading, position, t = reading[present], position[present], t[present]
            for k, name in enumerate(("lat", "lon", "alt")):
                values = self.values[name][reading, position]
                if name == "alt":
                    values = np.where(air[reading], values, 0.0)
                out[2 * k][reading] = np.minimum(out[2 * k][reading], values)
                out[2 * k + 1][reading] = np.maximum(out[2 * k + 1][reading], values)
            reading = reading[t > cut_us]

    def _widen_masked(
        self, slots: IntArray, before: IntArray, air: BoolArray, out: list[FloatArray]
    ) -> None:
        """Widen the boxes of ``slots`` by every ring report at or after ``before`` (any order)."""
        if slots.size == 0:
            return
        t = self.t_us[slots]
        mask = (t >= 0) & (t >= before[slots][:, None])
        for k, name in enumerate(("lat", "lon", "alt")):
            values = self.values[name][slots]
            if name == "alt":
                values = np.where(air[slots][:, None], values, 0.0)
            lo, hi = out[2 * k], out[2 * k + 1]
            lo[slots] = np.minimum(lo[slots], np.where(mask, values, np.inf).min(axis=1))
            hi[slots] = np.maximum(hi[slots], np.where(mask, values, -np.inf).max(axis=1))

    def rows(
        self,
        slots: IntArray,
        tracks: list[str],
        cut_us: int,
        sides: list[str],
        air: BoolArray,
        dark: BoolArray,
    ) -> pl.DataFrame:
        """Canonical rows of ``slots`` since ``cut_us`` (and the one before), as reported,
        up to the last batch added (that batch's own rows are the caller's)."""
        mask = self.since(int(slots.max()) + 1, cut_us)[slots] if slots.size else np.zeros((0, 0))
        mask = mask & (self.batch[slots] != self.batches)
        which, ring = np.nonzero(mask)
        picked = slots[which]
        values = {name: self.values[name][picked, ring] for name in _VALUES}
        times = self.t_us[picked, ring]
        off = self.off[picked, ring]
        # and the reports this batch pushed out of the rings
        before = self._before(int(slots.max()) + 1, cut_us) if slots.size else np.zeros(0)
        spill_slot = self.spill["slot"]
        spill_t = self.spill.get("t_us", np.zeros(0, dtype=np.int64))
        asked = np.flatnonzero(np.isin(spill_slot, slots))
        take = asked[spill_t[asked] >= before[spill_slot[asked]]]
        if take.size:
            by_slot = np.argsort(slots)  # the slots asked for are distinct
            index = by_slot[np.searchsorted(slots[by_slot], spill_slot[take])]
            which = np.concatenate([which, index]).astype(np.int64)
            times = np.concatenate([times, self.spill["t_us"][take]])
            off = np.concatenate([off, self.spill["off"][take]])
            values = {n: np.concatenate([values[n], self.spill[n][take]]) for n in _VALUES}

        def optional(name: str) -> pl.Series:
            return pl.Series(name, values[name]).fill_nan(None)

        frame = pl.DataFrame(
            {
                "time": pl.Series(times).cast(pl.Datetime("us", "UTC")),
                "track": pl.Series(tracks).gather(which),
                "side": pl.Series(sides).gather(which),
                "domain": np.where(air[which], "air", "sea"),
                "lat": values["lat"],
                "lon": values["lon"],
                "alt_m": optional("alt"),
                "speed_mps": optional("speed"),
                "course_deg": optional("course"),
                "vrate_mps": optional("vrate"),
                "transponder": np.where(off | dark[which], "off", "on"),
            }
        )
        return frame.select(pl.col(name).cast(CANONICAL_SCHEMA[name]) for name in frame.columns)


__all__ = ["DEPTH", "RecentReports"]
