"""The live detector: batches of position reports in, warnings and encounters out.

Usage::

    detector = LiveDetector(policy)            # parley.encounters.policy.Policy, default rules.md
    for frame in batches:                      # canonical rows (parley.tracks.schema), any size
        for event in detector.feed(frame):     # now = the latest report time unless given
            publish(event.to_json())           # WarningEvent | EncounterEvent
    for event in detector.flush():             # end of data: closes every open encounter
        publish(event.to_json())

Rows need ``side`` assigned (the sides stage; null is ``civil``). Two parts:

- **Encounters** use the archive detector itself. Tracks of pairs that come near (a spatial grid
  over each track's recent and projected positions, bipartite by the examined sides) have their
  reports kept; the pair's reports are re-detected with :func:`parley.encounters.detector.detect`
  (same time slicing origin as a whole-file run) every ``update_interval_s`` of data time, which
  gives ``encounter.opened`` / ``encounter.updated``; once the merge gap and the interpolation
  gap after an episode's end have passed, ``encounter.closed`` carries the final record, the
  same record ``parley detect`` gives for the whole file.
- **Warnings** (rules.md "Live warning") project both tracks on their current velocity and turn
  rate over the look-ahead (60 s with an aircraft, 20 min ships only) and run the predicted
  motion through the same feature and class code: ``warning.raised`` when the predicted approach
  would be ``serious`` or ``high-risk``, ``warning.updated`` when its class, distance or time
  moves (``upgraded`` when the class rises), ``warning.withdrawn`` when it no longer would.

State is NumPy arrays indexed by track slot (:class:`TrackState`); reports are expected roughly
in time order (``lateness_s`` tolerates late ones for encounters).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.encounters.classify import HIGH_RISK, SERIOUS
from parley.encounters.detector import Detection, detect
from parley.encounters.live_candidates import Groups, find_candidates, recent_boxes
from parley.encounters.live_events import (
    ENCOUNTER_CLOSED,
    ENCOUNTER_OPENED,
    ENCOUNTER_UPDATED,
    WARNING_RAISED,
    WARNING_UPDATED,
    WARNING_WITHDRAWN,
    EncounterEvent,
    LiveEvent,
    WarningEvent,
)
from parley.encounters.live_predict import Prediction, predict
from parley.encounters.live_state import BATCH_COLUMNS, TrackState
from parley.encounters.output import encounter_records, evidence
from parley.encounters.policy import Policy
from parley.tracks.schema import CANONICAL_SCHEMA

IntArray = npt.NDArray[np.int64]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RANK = {SERIOUS: 1, HIGH_RISK: 2}
#: The longest span of data time (s) the detector takes as one step (see ``LiveDetector.feed``).
MAX_STEP_S = 5.0


def _us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _optional(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _time_steps(frame: pl.DataFrame, span_s: float) -> list[pl.DataFrame]:
    """The frame in consecutive parts of at most ``span_s`` of data time (a frame that fits,
    or without times, in one part)."""
    if frame.height < 2 or "time" not in frame.columns:
        return [frame]
    times = frame["time"].dt.epoch("us")
    first, last = times.min(), times.max()
    if not isinstance(first, int) or not isinstance(last, int) or last - first <= span_s * 1e6:
        return [frame]
    step = ((times - first) // int(span_s * 1e6)).fill_null(0)
    ordered = frame.with_columns(step.alias("_step")).sort("_step", maintain_order=True)
    return [part.drop("_step") for part in ordered.partition_by("_step", maintain_order=True)]


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(slots=True)
class _Watch:
    """A pair whose reports are kept and re-detected."""

    since_us: int
    last_near_us: int
    #: which slice of the detection rounds re-detects this pair (``round_slices``)
    cohort: int = 0
    last_detect_us: int = -1
    closed_until_s: float = -np.inf
    #: live id -> (start, end) in seconds since the origin, and the record last published
    open: dict[str, tuple[float, float, dict[str, Any]]] = field(default_factory=dict)


@dataclass(slots=True)
class _Warning:
    id: str
    event: WarningEvent


class LiveDetector:
    """Incremental detector: :meth:`feed` batches of canonical rows, get :class:`LiveEvent` s.

    ``update_interval_s``: data seconds between re-detections of a watched pair (open
    encounters are updated at most that often). ``round_slices``: the watched pairs are
    re-detected in that many slices, one every ``update_interval_s / round_slices`` (each pair
    still every ``update_interval_s``), so that no single batch carries the whole round.
    ``lateness_s``: how late a report may arrive
    and still count for encounters. ``origin``: the start of the 60 s time slices (by default
    the first report fed); a whole-file ``detect`` uses its first report, so feeding a file from
    its start gives identical encounters.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        update_interval_s: float = 5.0,
        lateness_s: float = 0.0,
        origin: datetime | None = None,
        capacity: int = 1024,
        round_slices: int = 1,
    ) -> None:
        self.policy = policy or Policy()
        self.update_interval_s = update_interval_s
        self.round_slices = max(1, round_slices)
        self._next_cohort = 0  # new watches are dealt to the slices in turn
        self._slice = 0  # the slice the next round re-detects
        self.lateness_s = lateness_s
        self.origin = origin
        self.state = TrackState(capacity)
        self.now_us = -1
        self._groups = Groups(self.policy)
        #: reports of the watched tracks (one table in parts, trimmed at each detection round)
        self._history: list[pl.DataFrame] = []
        self._recorded: set[str] = set()
        self._last_round_us = -1
        self._active = np.zeros(0, dtype=bool)
        self._watches: dict[tuple[str, str], _Watch] = {}
        self._warnings: dict[tuple[str, str], _Warning] = {}
        self._round_table = pl.DataFrame()

    # -- public ------------------------------------------------------------------------------
    @property
    def active_warnings(self) -> list[WarningEvent]:
        """The warnings in force (their latest raised or updated event)."""
        return [w.event for w in self._warnings.values()]

    @property
    def open_encounters(self) -> list[dict[str, Any]]:
        """The encounters opened and not yet closed (their latest record)."""
        return [rec for w in self._watches.values() for (_, _, rec) in w.open.values()]

    def feed(self, frame: pl.DataFrame, now: datetime | None = None) -> list[LiveEvent]:
        """Take a batch of reports; return the events it causes, warnings first.

        ``now`` (UTC) is the data time of the batch; by default its latest report (never earlier
        than a previous batch's). A batch spanning more than :data:`MAX_STEP_S` of data time
        (a recorded file pushed at once) is taken as consecutive steps of at most that span, so
        that pairs near each other only early in the batch are still watched.
        """
        events: list[LiveEvent] = []
        steps = _time_steps(frame, MAX_STEP_S)
        for number, step in enumerate(steps):
            events += self._feed_step(step, now if number == len(steps) - 1 else None)
        return events

    def _feed_step(self, frame: pl.DataFrame, now: datetime | None) -> list[LiveEvent]:
        batch = self._usable(frame)
        placed = batch.filter((pl.col("domain") != "air") | pl.col("alt_m").is_not_null())
        if placed.height:
            times = placed["time"].dt.epoch("us")
            self.now_us = max(self.now_us, int(times.max()))  # type: ignore[arg-type]
            if self.origin is None:
                # the batch detector's origin: the first report it can place in 3-D
                self.origin = _dt(int(times.min()))  # type: ignore[arg-type]
        if now is not None:
            self.now_us = max(self.now_us, _us(now))
        if self.now_us < 0:
            return []
        self._record(batch)
        since_us = self.state.update(placed) if placed.height else self.now_us
        sets = []
        recent = recent_boxes(self.state, since_us)
        active = np.zeros(len(self.state), dtype=bool)
        active[self.state.recent.batch_slots] = placed.height > 0
        self._active = active
        for sea_sea, near in enumerate(
            find_candidates(self.state, self._groups, recent, active, self.now_us, self.policy)
        ):
            self._watch(near.i[near.watch], near.j[near.watch], since_us, batch)
            sets.append((near.i, near.j, near.civil, bool(sea_sea)))
        events = self._withdraw_stale()
        events += self._warn(predict(self.state, sets, self.now_us, self.policy))
        events += self._detect_due(final=False)
        return events

    def flush(self) -> list[LiveEvent]:
        """End of data: re-detect every watched pair and close every encounter."""
        return self._detect_due(final=True)

    # -- input -------------------------------------------------------------------------------
    @staticmethod
    def _usable(frame: pl.DataFrame) -> pl.DataFrame:
        missing = {
            name: CANONICAL_SCHEMA[name] for name in BATCH_COLUMNS if name not in frame.columns
        }
        if missing:
            frame = frame.with_columns(pl.lit(None, dtype=t).alias(n) for n, t in missing.items())
        return frame.select(
            pl.col(name).cast(CANONICAL_SCHEMA[name], strict=False) for name in BATCH_COLUMNS
        ).drop_nulls(["time", "track", "lat", "lon", "domain"])

    def _record(self, frame: pl.DataFrame) -> None:
        """Keep the reports of watched tracks."""
        if not self._recorded or frame.height == 0:
            return
        kept = frame.filter(pl.col("track").is_in(list(self._recorded)))
        if kept.height:
            self._history.append(kept)

    # -- warnings ----------------------------------------------------------------------------
    def _pair_ids(self, i: int, j: int) -> tuple[str, str, int, int]:
        a, b = self.state.ids[i], self.state.ids[j]
        return (a, b, i, j) if a < b else (b, a, j, i)

    def _warn(self, predictions: list[Prediction]) -> list[LiveEvent]:
        events: list[LiveEvent] = []
        seen: set[tuple[str, str]] = set()
        for p in predictions:
            a, b, ia, ib = self._pair_ids(p.i, p.j)
            key = (a, b)
            seen.add(key)
            held = self._warnings.get(key)
            event = self._warning_event(p, a, b, ia, ib, held)
            if event is not None:
                events.append(event)
                self._warnings[key] = _Warning(event.id, event)
        slot_of, active = self.state.slot_of, self._active
        for key, held in list(self._warnings.items()):
            if key in seen or not (active[slot_of[key[0]]] or active[slot_of[key[1]]]):
                continue  # still predicted, or not looked at again (neither track reported)
            reason = "passed" if self.now_us >= _us(held.event.predicted_cpa_time) else "clear"
            events.append(self._withdrawn(held.event, reason))
            del self._warnings[key]
        return events

    def _warning_event(
        self, p: Prediction, a: str, b: str, ia: int, ib: int, held: _Warning | None
    ) -> WarningEvent | None:
        now = _dt(self.now_us)
        cpa_time = now + timedelta(seconds=p.tcpa_s)
        upgraded = held is not None and _RANK[p.severity] > _RANK[held.event.severity]
        if held is not None and not self._moved(held.event, p, cpa_time):
            return None
        warning_id = (
            held.id
            if held
            else "warn-" + hashlib.sha256(f"{a}|{b}|{now.isoformat()}".encode()).hexdigest()[:12]
        )
        sides = (
            self.state.sides[int(self.state.side[ia])],
            self.state.sides[int(self.state.side[ib])],
        )
        return WarningEvent(
            type=WARNING_UPDATED if held else WARNING_RAISED,
            id=warning_id,
            time=now,
            a=a,
            b=b,
            sides=sides,
            kind=p.kind,
            severity=p.severity,
            reasons=p.reasons,
            predicted_cpa_time=cpa_time,
            predicted_cpa_m=p.cpa_m,
            predicted_slant_m=p.slant_m,
            predicted_horizontal_m=p.horizontal_m,
            predicted_vertical_m=p.vertical_m,
            time_to_cpa_s=p.tcpa_s,
            lookahead_s=p.lookahead_s,
            upgraded=upgraded,
        )

    @staticmethod
    def _moved(held: WarningEvent, p: Prediction, cpa_time: datetime) -> bool:
        """Whether a prediction differs enough from the warning in force to publish an update."""
        time_tolerance_s = 30.0 if p.kind == "sea-sea" else 2.0
        return (
            p.severity != held.severity
            or abs((cpa_time - held.predicted_cpa_time).total_seconds()) > time_tolerance_s
            or abs(p.cpa_m - held.predicted_cpa_m) > max(10.0, 0.1 * held.predicted_cpa_m)
        )

    def _withdrawn(self, held: WarningEvent, reason: str) -> WarningEvent:
        return WarningEvent(
            **{
                **{f: getattr(held, f) for f in WarningEvent.__dataclass_fields__},
                "type": WARNING_WITHDRAWN,
                "time": _dt(self.now_us),
                "upgraded": False,
                "withdrawn_reason": reason,
            }
        )

    def _withdraw_stale(self) -> list[LiveEvent]:
        """Warnings of tracks silent for longer than their interpolation gap."""
        events: list[LiveEvent] = []
        gaps = self.policy.gaps
        for key, held in list(self._warnings.items()):
            for track in key:
                slot = self.state.slot_of[track]
                gap = gaps.air_max_gap_s if self.state.is_air[slot] else gaps.sea_max_gap_s
                if self.now_us - self.state.t_us[slot] > gap * 1e6:
                    events.append(self._withdrawn(held.event, "track-lost"))
                    del self._warnings[key]
                    break
        return events

    # -- encounters --------------------------------------------------------------------------
    def _watch(self, i: IntArray, j: IntArray, since_us: int, batch: pl.DataFrame) -> None:
        """Start keeping the reports of pairs that came inside; seed them from the rings."""
        new_tracks: dict[str, int] = {}
        ids = self.state.ids
        for si, sj in zip(i.tolist(), j.tolist(), strict=True):
            key = (ids[si], ids[sj]) if ids[si] < ids[sj] else (ids[sj], ids[si])
            watch = self._watches.get(key)
            if watch is None:
                for track, slot in ((ids[si], si), (ids[sj], sj)):
                    if track not in self._recorded:
                        new_tracks[track] = slot
                self._watches[key] = _Watch(
                    since_us=since_us, last_near_us=self.now_us, cohort=self._next_cohort
                )
                self._next_cohort = (self._next_cohort + 1) % self.round_slices
            else:
                watch.last_near_us = self.now_us
        if new_tracks:
            state = self.state
            slots = np.array(list(new_tracks.values()), dtype=np.int64)
            self._recorded |= set(new_tracks)
            self._history.append(
                state.recent.rows(
                    slots,
                    list(new_tracks),
                    since_us,
                    [state.sides[int(code)] for code in state.side[slots]],
                    state.is_air[slots],
                    state.dark[slots],
                )
            )
            self._history.append(batch.filter(pl.col("track").is_in(list(new_tracks))))

    def _detect_due(self, final: bool) -> list[LiveEvent]:
        """Re-detect the watched pairs due (all of them when ``final``) with the batch detector:
        one slice of them every ``update_interval_s / round_slices``."""
        interval_us = self.update_interval_s * 1e6 / self.round_slices
        if not final and self.now_us - self._last_round_us < interval_us:
            return []
        self._last_round_us = self.now_us
        if final or self.round_slices == 1:
            due = set(self._watches)
        else:
            due = {key for key, w in self._watches.items() if w.cohort == self._slice}
            self._slice = (self._slice + 1) % self.round_slices
        if not due:
            return []
        table = pl.concat(self._history, how="vertical") if self._history else pl.DataFrame()
        if len(due) < len(self._watches) and table.height:
            # a pair's encounters depend on its two tracks' reports only
            tracks = sorted({track for key in due for track in key})
            table = table.filter(
                pl.col("track").is_in(pl.Series(tracks, dtype=pl.String).implode())
            )
        self._round_table = table
        detection = (
            detect(table, self.policy, origin=self.origin)
            if table.height >= 2
            else Detection(pl.DataFrame())
        )
        found: dict[tuple[str, str], list[tuple[float, float, dict[str, Any]]]] = {}
        if detection.encounters.height:
            origin_us = _us(self.origin or _EPOCH)
            for row, record in zip(
                detection.encounters.iter_rows(named=True),
                encounter_records(detection),
                strict=True,
            ):
                key = (row["a"], row["b"])
                if key in due:
                    start = (_us(row["start"]) - origin_us) / 1e6
                    end = (_us(row["end"]) - origin_us) / 1e6
                    found.setdefault(key, []).append((start, end, record))
        events: list[LiveEvent] = []
        for key in sorted(due):
            events += self._update_pair(key, found.get(key, []), final)
        self._trim_histories()
        return events

    def _gaps_s(self, key: tuple[str, str]) -> tuple[float, float]:
        """(merge gap, interpolation gap) of a pair: the ships' values for two ships."""
        gaps = self.policy.gaps
        ships = not any(self.state.is_air[self.state.slot_of[t]] for t in key)
        if ships:
            return gaps.sea_merge_gap_s, gaps.sea_max_gap_s
        return gaps.air_merge_gap_s, max(gaps.air_max_gap_s, gaps.sea_max_gap_s)

    def _update_pair(
        self,
        key: tuple[str, str],
        episodes: list[tuple[float, float, dict[str, Any]]],
        final: bool,
    ) -> list[LiveEvent]:
        watch = self._watches[key]
        merge_s, gap_s = self._gaps_s(key)
        settle_s = merge_s + gap_s + self.lateness_s
        origin_us = _us(self.origin or _EPOCH)
        now_s = (self.now_us - origin_us) / 1e6
        now = _dt(self.now_us)
        events: list[LiveEvent] = []
        for start, end, record in sorted(episodes, key=lambda e: e[0]):
            if start <= watch.closed_until_s:
                continue  # an episode already closed (or its tail, once the history was cut)
            live_id = self._match(watch, start, end, merge_s)
            if live_id is None:
                live_id = record["id"]
                events.append(EncounterEvent(ENCOUNTER_OPENED, live_id, now, record))
            elif watch.open[live_id][2] != record:
                events.append(EncounterEvent(ENCOUNTER_UPDATED, live_id, now, record))
            watch.open[live_id] = (start, end, record)
            if final or now_s >= end + settle_s:
                events.append(EncounterEvent(ENCOUNTER_CLOSED, live_id, now, self._closed(record)))
                del watch.open[live_id]
                watch.closed_until_s = max(watch.closed_until_s, end)
        watch.last_detect_us = self.now_us
        quiet_us = self.now_us - watch.last_near_us
        if final or (not watch.open and quiet_us > settle_s * 1e6):
            del self._watches[key]
            return events
        keep_from = min((s for s, _, _ in watch.open.values()), default=now_s)
        keep_from_us = origin_us + int((keep_from - gap_s - 60.0 - self.lateness_s) * 1e6)
        watch.since_us = max(watch.since_us, keep_from_us)
        return events

    def _closed(self, record: dict[str, Any]) -> dict[str, Any]:
        """The final record with its evidence (``parley detect --evidence``'s): the positions
        of both tracks around the closest approach still held, for the incident it may open."""
        if "track" not in self._round_table.columns:
            return record
        found = evidence(
            self._round_table,
            record["a"],
            record["b"],
            record["kind"],
            datetime.fromisoformat(record["cpa_time"].replace("Z", "+00:00")),
        )
        return {**record, "evidence": found}

    @staticmethod
    def _match(watch: _Watch, start: float, end: float, merge_s: float) -> str | None:
        """The open episode a re-detected one continues (they overlap within the merge gap)."""
        for live_id, (s, e, _) in watch.open.items():
            if s < end + merge_s and start < e + merge_s:
                return live_id
        return None

    def _trim_histories(self) -> None:
        """Drop reports no watched pair needs, keeping the one before each cut (its segment)."""
        needed: dict[str, int] = {}
        for key, watch in self._watches.items():
            for track in key:
                needed[track] = min(needed.get(track, watch.since_us), watch.since_us)
        self._recorded = set(needed)
        if not self._history:
            return
        if not needed:
            self._history = []
            return
        cuts = pl.DataFrame(
            {"track": list(needed), "cut": list(needed.values())},
            schema={"track": pl.String, "cut": pl.Int64},
        ).with_columns(pl.col("cut").cast(pl.Datetime("us", "UTC")))
        table = pl.concat(self._history, how="vertical").join(cuts, on="track")
        last_before = pl.col("time").filter(pl.col("time") <= pl.col("cut")).max().over("track")
        kept = table.filter(last_before.is_null() | (pl.col("time") >= last_before))
        self._history = [kept.drop("cut")]


__all__ = ["LiveDetector"]
