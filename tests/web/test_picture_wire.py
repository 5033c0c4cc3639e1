"""The columnar form of the live picture (``parley.web.picture_wire``): what ``picture.updated``
and ``GET /api/v1/picture?form=columns`` carry, its round trip, and its size beside the rows."""

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from parley.hotline.node import init_node
from parley.hotline.users import Role
from parley.scenarios.april2016 import DONALD_COOK, donald_cook_11_april, su24_track
from parley.tracks.sides import load_sides
from parley.web import create_app
from parley.web.live import _PICTURE_COLUMNS, PICTURE_EVENT, LivePicture, _rows
from parley.web.picture_wire import ABOUT, MOVING, WIRE_VERSION, decode, encode

SignIn = Callable[..., str]


def _case(seconds: int) -> pl.DataFrame:
    """The first ``seconds`` of the Donald Cook case of 11 April (canonical, sided rows)."""
    frame = donald_cook_11_april().frame.sort("time", maintain_order=True)
    start = frame["time"].min()
    return frame.filter(pl.col("time") < start + timedelta(seconds=seconds))  # type: ignore[operator]


def _latest(frame: pl.DataFrame) -> pl.DataFrame:
    rows = frame.sort("time", maintain_order=True).unique("track", keep="last")
    return rows.select(_PICTURE_COLUMNS).sort("track")


def test_a_frame_round_trips_through_the_columnar_form() -> None:
    latest = _latest(_case(60))
    time = latest["time"].max()
    payload = encode(latest, time)  # type: ignore[arg-type]
    assert payload["v"] == WIRE_VERSION == 2
    assert payload["ids"] == latest["track"].to_list()
    assert set(payload["about"]) == set(payload["ids"])  # a first payload describes every track
    # through JSON, as the stream sends it
    rows = decode(json.loads(json.dumps(payload)))
    assert [row["track"] for row in rows] == latest["track"].to_list()
    for row, original in zip(rows, latest.to_dicts(), strict=True):
        assert row["time_ms"] == int(original["time"].timestamp() * 1000)
        for name in ABOUT:
            assert row[name] == original[name], name
        for name, decimals in MOVING.items():
            if original[name] is None:
                assert row[name] is None
            else:
                assert row[name] == pytest.approx(original[name], abs=0.51 * 10**-decimals), name
    ship = next(row for row in rows if row["track"] == DONALD_COOK)
    assert (ship["side"], ship["domain"], ship["type"]) == ("nato", "sea", "destroyer DDG-75")
    assert ship["course_deg"] == pytest.approx(250.0)
    assert ship["speed_mps"] == pytest.approx(6.2)
    assert next(r for r in rows if r["track"] == su24_track(1))["side"] == "russia"


def test_a_payload_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="not a version 2 picture"):
        decode({"v": 1, "time": "2016-04-11T13:00:00Z", "tracks": []})


def test_the_columnar_form_is_a_fraction_of_the_rows() -> None:
    # every report of the first ten minutes as a track of its own: a few hundred tracks moving
    frame = _case(600).select(_PICTURE_COLUMNS).with_row_index()
    moving = frame.with_columns(pl.format("{}#{}", "track", "index").alias("track")).drop("index")
    assert moving.height > 100
    time = moving["time"].max()
    compact = (",", ":")
    rows_bytes = len(json.dumps({"time": "", "tracks": _rows(moving)}, separators=compact))
    described = moving.select("track", *ABOUT)  # the receiver knows the tracks already
    columns_bytes = len(json.dumps(encode(moving, time, described), separators=compact))  # type: ignore[arg-type]
    assert columns_bytes < rows_bytes / 3, (columns_bytes, rows_bytes)


def test_picture_events_describe_a_track_only_when_new_or_changed() -> None:
    published: list[tuple[str, dict[str, Any]]] = []
    picture = LivePicture(
        sides=load_sides(),
        publish=lambda kind, payload: published.append((kind, payload)),
        picture_interval_s=0.0,
    )
    frame = _case(30)
    seconds = frame["time"].unique().sort().to_list()
    batches = [frame.filter(pl.col("time") == second) for second in seconds]
    target = batches[2]["track"][0]  # a track reported in the third second: its transponder flips
    was = batches[2]["transponder"][0]
    now = "on" if was == "off" else "off"
    assert target in batches[0]["track"].to_list()
    picture.feed(batches[0])
    picture.feed(batches[1])
    flip = pl.when(pl.col("track") == target).then(pl.lit(now)).otherwise(pl.col("transponder"))
    picture.feed(batches[2].with_columns(flip.alias("transponder")))
    events = [payload for kind, payload in published if kind == PICTURE_EVENT]
    assert len(events) == 3
    first, second, third = events
    assert set(first["about"]) == set(first["ids"]) == set(batches[0]["track"].to_list())
    assert second["ids"] == sorted(set(batches[1]["track"].to_list()))
    assert second["about"] == {}  # nothing new about the tracks: positions only
    assert list(third["about"]) == [target]
    assert third["about"][target]["transponder"] == now
    # a receiver that kept the first payload's "about" rebuilds the third's rows whole
    rows = decode(third, first["about"])
    row = next(row for row in rows if row["track"] == target)
    assert (row["transponder"], first["about"][target]["transponder"]) == (now, was)
    assert row["side"] == first["about"][target]["side"] in ("nato", "russia")
    assert row["lat"] == pytest.approx(batches[2]["lat"][0], abs=6e-6)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    nato.close()
    russia.close()
    with TestClient(create_app(tmp_path / "nato", replicate=False)) as test_client:
        yield test_client


def test_the_picture_route_gives_the_columnar_form_on_request(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in(client, "tech", Role.COMMUNICATIONS_TECHNICIAN)
    rows = _latest(_case(20))
    body = rows.with_columns(pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")).to_dicts()
    assert client.post("/api/v1/picture/positions", json=body).status_code == 200
    sign_in(client, "officer", Role.DUTY_OFFICER)
    as_rows = client.get("/api/v1/picture").json()
    as_columns = client.get("/api/v1/picture?form=columns").json()
    assert "tracks" not in as_columns
    assert as_columns["time"] == as_rows["time"]
    decoded = {row["track"]: row for row in decode(as_columns["columns"])}
    assert (
        set(decoded)
        == {row["track"] for row in as_rows["tracks"]}
        == {
            DONALD_COOK,
            su24_track(1),
        }
    )
    for row in as_rows["tracks"]:
        other = decoded[row["track"]]
        assert (other["lat"], other["lon"]) == pytest.approx((row["lat"], row["lon"]), abs=6e-6)
        assert other["side"] == row["side"]
    assert decoded[DONALD_COOK]["side"] == "nato"
    assert client.get("/api/v1/picture?form=geojson").status_code == 422
