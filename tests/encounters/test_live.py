"""The live detector: the same encounters as the archive detector, and warnings ahead of time."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from parley.encounters.detector import detect
from parley.encounters.live import LiveDetector
from parley.encounters.live_events import EncounterEvent, LiveEvent, WarningEvent
from parley.encounters.output import encounter_records
from parley.testing.builders import concat_tracks, orbit, straight
from parley.tracks.load import load_tracks

SAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "parley" / "data" / "samples" / "april2016.csv"
)
CASES = Path(__file__).resolve().parents[1] / "data" / "encounters"
T0 = datetime(2021, 6, 18, 10, 0, tzinfo=UTC)
BALTIC = (55.5, 18.0)


def by_seconds(table: pl.DataFrame, seconds: float = 1.0) -> list[pl.DataFrame]:
    """The table cut into batches of ``seconds`` of report time, in order."""
    step = f"{int(seconds * 1000)}ms"
    keyed = table.sort("time").with_columns(pl.col("time").dt.truncate(step).alias("_batch"))
    return [part.drop("_batch") for part in keyed.partition_by("_batch", maintain_order=True)]


def random_batches(table: pl.DataFrame, seed: int, largest: int = 200) -> list[pl.DataFrame]:
    """The rows in time order cut at random places (a batch may hold one row or many seconds)."""
    rows = table.sort("time")
    rng = np.random.default_rng(seed)
    cuts, at = [], 0
    while at < rows.height:
        size = int(rng.integers(1, largest + 1))
        cuts.append(rows.slice(at, size))
        at += size
    return cuts


def run_live(batches: list[pl.DataFrame], **options: float) -> list[LiveEvent]:
    live = LiveDetector(**options)  # type: ignore[arg-type]
    events: list[LiveEvent] = []
    for batch in batches:
        events += live.feed(batch)
    return events + live.flush()


def closed(events: list[LiveEvent], with_evidence: bool = False) -> list[dict[str, object]]:
    """The closed records; without their evidence (which batch records have only on request)."""
    records = [
        e.encounter if with_evidence else {k: v for k, v in e.encounter.items() if k != "evidence"}
        for e in events
        if isinstance(e, EncounterEvent) and e.type == "encounter.closed"
    ]
    return sorted(records, key=lambda r: (str(r["a"]), str(r["b"]), str(r["start"])))


def batch_records(table: pl.DataFrame) -> list[dict[str, object]]:
    records = encounter_records(detect(table))
    return sorted(records, key=lambda r: (str(r["a"]), str(r["b"]), str(r["start"])))


@pytest.fixture(scope="module")
def april() -> pl.DataFrame:
    return load_tracks([SAMPLE]).table


@pytest.fixture(scope="module")
def april_expected(april: pl.DataFrame) -> list[dict[str, object]]:
    return batch_records(april)


def test_april2016_in_random_batches_gives_the_batch_encounters(
    april: pl.DataFrame, april_expected: list[dict[str, object]]
) -> None:
    assert len(april_expected) == 6
    assert {r["severity"] for r in april_expected} == {"serious", "high-risk"}
    found = closed(run_live(random_batches(april, seed=2016), update_interval_s=30.0))
    # the whole record, field for field: pairs, episodes, minima, closure, passes, classes, ids
    assert found == april_expected


def test_april2016_in_one_second_batches_gives_the_batch_encounters(
    april: pl.DataFrame, april_expected: list[dict[str, object]]
) -> None:
    rc135 = april.filter(pl.col("time") < datetime(2016, 4, 14, 23, tzinfo=UTC)).filter(
        pl.col("time") >= datetime(2016, 4, 14, tzinfo=UTC)
    )
    expected = batch_records(rc135)
    assert [(r["a"], r["b"], r["severity"]) for r in expected] == [
        ("sim:rc135", "sim:su27", "high-risk")
    ]
    assert closed(run_live(by_seconds(rc135), update_interval_s=30.0)) == expected


def test_encounter_events_open_update_and_close_in_order(april: pl.DataFrame) -> None:
    events = run_live(random_batches(april, seed=7), update_interval_s=5.0)
    stream: dict[str, list[str]] = {}
    for event in events:
        if isinstance(event, EncounterEvent):
            stream.setdefault(event.live_id, []).append(event.type)
    assert len(stream) == 6
    for types in stream.values():
        assert types[0] == "encounter.opened"
        assert types[-1] == "encounter.closed"
        assert types.count("encounter.opened") == types.count("encounter.closed") == 1
    first = next(e for e in events if isinstance(e, EncounterEvent))
    document = first.to_json()
    assert document["type"] == "encounter.opened"
    assert set(document["encounter"]) >= {"id", "a", "b", "min_slant_m", "severity", "reasons"}


@pytest.mark.parametrize(
    "case", ["head_on_malformed", "merge_gaps", "gap_straddle", "ships_600m", "p8_escort_2017"]
)
def test_built_cases_live_equal_batch(case: str) -> None:
    table = load_tracks([CASES / f"{case}.csv"]).table
    expected = batch_records(table)
    assert closed(run_live(by_seconds(table, 1.0))) == expected
    assert closed(run_live(random_batches(table, seed=3, largest=50))) == expected


def _head_on(closing_mps: float = 500.0, miss_m: float = 40.0) -> pl.DataFrame:
    """Two jets at FL300 head-on, 60 km apart, reporting once a second; CPA at 120 s."""
    half = closing_mps / 2.0

    def jet(track: str, side: str, east_m: float, north_m: float, course: float) -> pl.DataFrame:
        return straight(
            track,
            start=T0,
            origin=BALTIC,
            east_m=east_m,
            north_m=north_m,
            alt_m=9144.0,
            speed_mps=half,
            course_deg=course,
            duration_s=240.0,
            step_s=1.0,
            side=side,
            domain="air",
        )

    return concat_tracks(
        jet("icao:100001", "nato", 0.0, -30_000.0, 0.0),
        jet("icao:500001", "russia", miss_m, 30_000.0, 180.0),
    )


def test_head_on_at_500_mps_is_warned_30_s_ahead() -> None:
    table = _head_on()
    events = run_live(by_seconds(table))
    warnings = [e for e in events if isinstance(e, WarningEvent)]
    raised = [w for w in warnings if w.type == "warning.raised"]
    assert raised, "never warned"
    first = raised[0]
    cpa = T0 + timedelta(seconds=120)
    assert (cpa - first.time).total_seconds() >= 30.0
    assert (first.a, first.b) == ("icao:100001", "icao:500001")
    assert first.severity == "high-risk"  # 40 m at 500 m/s: a fast close approach
    assert first.predicted_cpa_m == pytest.approx(40.0, abs=1.0)
    assert abs((first.predicted_cpa_time - cpa).total_seconds()) < 0.5
    assert first.time_to_cpa_s == pytest.approx((cpa - first.time).total_seconds(), abs=0.5)
    # the warning is withdrawn once the approach has happened, and the encounter is reported
    withdrawn = [w for w in warnings if w.type == "warning.withdrawn"]
    assert withdrawn
    assert withdrawn[-1].withdrawn_reason == "passed"
    assert withdrawn[-1].time >= cpa
    encounter = closed(events)
    assert len(encounter) == 1
    assert encounter[0]["severity"] == "high-risk"
    assert encounter[0]["min_slant_m"] == pytest.approx(40.0, abs=0.5)


def test_warning_is_raised_within_the_air_lookahead_only() -> None:
    events = run_live(by_seconds(_head_on()))
    first = next(e for e in events if isinstance(e, WarningEvent))
    assert first.lookahead_s == 60.0
    assert (T0 + timedelta(seconds=120) - first.time).total_seconds() <= 60.0


def test_wide_miss_is_never_warned() -> None:
    events = run_live(by_seconds(_head_on(miss_m=2_000.0)))
    assert not [e for e in events if isinstance(e, WarningEvent)]
    # still inside the volume: a routine encounter
    assert [r["severity"] for r in closed(events)] == ["routine"]


def test_same_side_pair_is_never_warned() -> None:
    table = _head_on().with_columns(pl.lit("nato").alias("side"))
    assert run_live(by_seconds(table)) == []


def test_ships_are_warned_twenty_minutes_ahead() -> None:
    """Two ships crossing at right angles, 300 m apart at the closest, at 10 m/s."""

    def ship(track: str, side: str, east_m: float, north_m: float, course: float) -> pl.DataFrame:
        return straight(
            track,
            start=T0,
            origin=BALTIC,
            east_m=east_m,
            north_m=north_m,
            alt_m=0.0,
            speed_mps=10.0,
            course_deg=course,
            duration_s=2000.0,
            step_s=10.0,
            side=side,
            domain="sea",
        )

    a = ship("mmsi:211000001", "nato", 0.0, -18_000.0, 0.0)
    b = ship("mmsi:273000001", "russia", -18_000.0, 300.0, 90.0)
    events = run_live(by_seconds(concat_tracks(a, b), 10.0))
    raised = [e for e in events if isinstance(e, WarningEvent) and e.type == "warning.raised"]
    assert raised
    first = raised[0]
    assert first.kind == "sea-sea"
    assert first.lookahead_s == 1200.0
    # they come within 926 m at 1,751 s (closest: 212 m at 1,815 s): warned up to 20 min before
    serious_at = T0 + timedelta(seconds=1751.3)
    assert 1150.0 <= (serious_at - first.time).total_seconds() <= 1200.0
    assert first.predicted_horizontal_m < 926.0
    assert first.predicted_cpa_time - first.time <= timedelta(seconds=1200)
    # as they close, the prediction reaches the true closest approach
    last = [e for e in events if isinstance(e, WarningEvent) and e.type != "warning.withdrawn"][-1]
    assert last.predicted_horizontal_m == pytest.approx(212.1, abs=5.0)
    assert abs((last.predicted_cpa_time - T0).total_seconds() - 1815.0) < 10.0


def test_turn_rate_bends_the_prediction() -> None:
    """A fighter orbiting a ship low: its turn keeps it over the ship, a straight line would not."""
    ship = straight(
        "mmsi:366000001",
        start=T0,
        origin=BALTIC,
        alt_m=0.0,
        speed_mps=0.0,
        course_deg=0.0,
        duration_s=400.0,
        step_s=2.0,
        side="nato",
        domain="sea",
    )
    fighter = orbit(
        "icao:500002",
        start=T0,
        center=BALTIC,
        radius_m=600.0,
        alt_m=100.0,
        speed_mps=120.0,
        turns=2.0,
        step_s=1.0,
        side="russia",
    )
    events = run_live(by_seconds(concat_tracks(ship, fighter)))
    warnings = [e for e in events if isinstance(e, WarningEvent)]
    assert warnings
    assert warnings[0].kind == "air-sea"
    assert warnings[0].severity == "serious"
    assert warnings[0].predicted_horizontal_m < 914.4


def test_warning_json() -> None:
    events = run_live(by_seconds(_head_on()))
    document = next(e for e in events if isinstance(e, WarningEvent)).to_json()
    assert document["type"] == "warning.raised"
    assert document["id"].startswith("warn-")
    assert document["predicted_cpa_time"].endswith("Z")
    assert document["sides"] == ["nato", "russia"]
    assert document["withdrawn_reason"] is None


def test_a_silent_track_withdraws_its_warning() -> None:
    # the red jet falls silent at 40 s: dead-reckoned, it is warned of at 60 s, and lost at 100 s
    table = _head_on().filter(
        (pl.col("track") == "icao:100001") | (pl.col("time") < T0 + timedelta(seconds=40))
    )
    events = run_live(by_seconds(table))
    reasons = [
        e.withdrawn_reason
        for e in events
        if isinstance(e, WarningEvent) and e.type == "warning.withdrawn"
    ]
    assert reasons == ["track-lost"]
    lost = next(e for e in events if isinstance(e, WarningEvent) and e.type == "warning.withdrawn")
    assert T0 + timedelta(seconds=99) < lost.time < T0 + timedelta(seconds=102)


def test_closed_records_carry_the_evidence_of_detect(april: pl.DataFrame) -> None:
    """An incident opened live needs where it happened: each closed record has both tracks'
    positions around the closest approach, the same positions ``detect --evidence`` gives."""
    batch = {r["id"]: r["evidence"] for r in encounter_records(detect(april), april)}
    found = closed(run_live(by_seconds(april, 10.0), update_interval_s=30.0), with_evidence=True)
    assert len(found) == 6
    for record in found:
        live = record["evidence"]
        assert isinstance(live, dict)
        expected = batch[str(record["id"])]
        assert live["window_s"] == expected["window_s"]
        for side in ("a", "b"):
            assert live[side], f"{record['id']}: no positions of {side}"
            assert all(position in expected[side] for position in live[side])


def test_a_whole_recording_fed_at_once_gives_the_same_encounters(
    april: pl.DataFrame, april_expected: list[dict[str, object]]
) -> None:
    """A file pushed in one request spans days: pairs near each other only early in it must
    still be watched (the detector takes it in steps of at most MAX_STEP_S)."""
    assert closed(run_live([april], update_interval_s=30.0)) == april_expected
