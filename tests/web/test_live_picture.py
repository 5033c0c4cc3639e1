"""The live picture inside a node: positions pushed through the API and fed from a real socket
reach the detector, the event stream, the picture and the incident registry."""

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from parley.hotline.node import init_node
from parley.hotline.users import Role
from parley.incidents.registry import IncidentRegistry
from parley.scenarios.april2016 import DONALD_COOK, donald_cook_11_april, su24_track
from parley.tracks.readers.sbs import read_sbs
from parley.tracks.streams import AisNmeaStream, parse_chunks
from parley.web import create_app
from parley.web.live import LIVE_ACTOR, PICTURE_EVENT
from parley.web.state import NodeState

SignIn = Callable[..., str]
DATA = Path(__file__).parent.parent / "data"
#: The first two and a half minutes of 11 April: both Su-24s' first passes by the destroyer.
CASE_SECONDS = 150


def _make_nodes(tmp_path: Path) -> Path:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    nato.close()
    russia.close()
    return tmp_path / "nato"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_make_nodes(tmp_path), replicate=False)) as test_client:
        yield test_client


def _state(client: TestClient) -> NodeState:
    state = client.app.state.parley  # type: ignore[attr-defined]
    assert isinstance(state, NodeState)
    return state


def _case_batches() -> list[list[dict[str, Any]]]:
    """The Donald Cook case of 11 April as JSON rows, one list per second of data."""
    frame = donald_cook_11_april().frame.sort("time", maintain_order=True)
    start = frame["time"].min()
    frame = frame.filter(pl.col("time") < start + timedelta(seconds=CASE_SECONDS))  # type: ignore[operator]
    text = frame.drop("source").with_columns(
        pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        (pl.col("time").dt.epoch("s")).alias("_second"),
    )
    return [
        rows.drop("_second").to_dicts() for _, rows in text.group_by("_second", maintain_order=True)
    ]


def _events(client: TestClient) -> list[dict[str, Any]]:
    """Every event the stream holds, from the first (follow=false: the stream ends)."""
    bus = client.app.state.events  # type: ignore[attr-defined]
    answer = client.get(f"/api/v1/events?follow=false&last_event_id={bus.epoch}-0")
    assert answer.status_code == 200
    found = []
    for block in answer.text.split("\n\n"):
        data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
        if data:
            found.append(json.loads(data[0]))
    return found


def _pair(event: dict[str, Any]) -> tuple[str, str]:
    payload = event["payload"]
    body = payload.get("encounter", payload)
    return str(body["a"]), str(body["b"])


def test_the_donald_cook_case_pushed_second_by_second(client: TestClient, sign_in: SignIn) -> None:
    sign_in(client, "tech", Role.COMMUNICATIONS_TECHNICIAN)
    batches = _case_batches()
    assert len(batches) == CASE_SECONDS
    accepted = 0
    for number, rows in enumerate(batches, start=1):
        last = number == len(batches)
        answer = client.post(
            f"/api/v1/picture/positions?end_of_data={str(last).lower()}", json=rows
        )
        assert answer.status_code == 200, answer.text
        accepted += answer.json()["accepted"]
        assert answer.json()["dropped"] == []
    assert accepted == sum(len(rows) for rows in batches)

    events = _events(client)
    types = [event["type"] for event in events]
    first_pair = (DONALD_COOK, su24_track(1))
    raised = [i for i, e in enumerate(events) if e["type"] == "warning.raised"]
    closed = [i for i, e in enumerate(events) if e["type"] == "encounter.closed"]
    assert raised
    assert closed
    first_raised = next(i for i in raised if _pair(events[i]) == first_pair)
    first_closed = next(i for i in closed if _pair(events[i]) == first_pair)
    assert first_raised < first_closed
    assert events[first_raised]["payload"]["severity"] == "serious"
    assert events[first_raised]["payload"]["sides"] == ["nato", "russia"]
    record = events[first_closed]["payload"]["encounter"]
    assert (record["kind"], record["severity"]) == ("air-sea", "serious")
    assert {_pair(events[i]) for i in closed} == {first_pair, (DONALD_COOK, su24_track(2))}
    assert "encounter.opened" in types
    assert PICTURE_EVENT in types
    assert "incident.opened" in types

    sign_in(client, "officer", Role.DUTY_OFFICER)
    picture = client.get("/api/v1/picture").json()
    tracks = {row["track"]: row for row in picture["tracks"]}
    assert set(tracks) == {DONALD_COOK, su24_track(1), su24_track(2)}
    ship = tracks[DONALD_COOK]
    assert (ship["side"], ship["domain"], ship["type"]) == ("nato", "sea", "destroyer DDG-75")
    assert ship["course_deg"] == pytest.approx(250.0)
    assert ship["speed_mps"] == pytest.approx(6.17, abs=0.01)
    assert tracks[su24_track(1)]["side"] == "russia"
    assert picture["encounters"] == []  # every one closed at the end of data
    assert picture["feeds"] == []

    registry = IncidentRegistry(_state(client).node)
    incidents = registry.list()
    assert {(i.track_a, i.track_b) for i in incidents} == {
        first_pair,
        (DONALD_COOK, su24_track(2)),
    }
    for incident in incidents:
        assert (incident.severity, incident.kind, incident.origin) == (
            "serious",
            "air-sea",
            "detected",
        )
        assert (incident.opened_by, incident.our_track) == (LIVE_ACTOR, DONALD_COOK)


def test_bad_rows_are_refused_whole_with_one_line_each(client: TestClient, sign_in: SignIn) -> None:
    sign_in(client, "admin", Role.ADMINISTRATOR)
    good = _case_batches()[0]
    assert client.post("/api/v1/picture/positions", json=good).status_code == 200
    bad = [
        dict(good[0], lat=95.0),
        dict(good[1]),
        dict(good[0], speed_mps="fast"),
    ]
    answer = client.post("/api/v1/picture/positions", json={"positions": bad})
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        "2 of 3 rows refused; nothing was taken",
        "row 1: latitude 95.0 outside ±90",
        "row 3: cannot parse speed_mps='fast'",
    ]
    csv_text = "time,track,domain,lat,lon\n2016-04-11T13:00:05Z,mmsi:1,sea,55.0,\n"
    answer = client.post(
        "/api/v1/picture/positions", content=csv_text, headers={"content-type": "text/csv"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][1] == "line 2: missing longitude"
    missing = client.post("/api/v1/picture/positions", content="time,track\n1,2\n")
    assert missing.status_code == 422
    assert "missing required column" in missing.json()["detail"]
    unknown = client.post("/api/v1/picture/positions", json=[{"time": "x", "speed_kn": 3}])
    assert unknown.json()["detail"] == "row 1: unknown field 'speed_kn'"
    # what was refused never reached the picture; the first batch is intact
    sign_in(client, "tech", Role.COMMUNICATIONS_TECHNICIAN)
    tracks = client.get("/api/v1/picture").json()["tracks"]
    assert sorted(row["track"] for row in tracks) == [DONALD_COOK, su24_track(1)]
    assert all(row["lat"] < 90 for row in tracks)


def test_only_technicians_and_administrators_push_positions(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in(client, "officer", Role.DUTY_OFFICER)
    assert client.post("/api/v1/picture/positions", json=[]).status_code == 403
    assert client.get("/api/v1/picture").status_code == 200
    sign_in(client, "admin", Role.ADMINISTRATOR)
    assert client.get("/api/v1/picture").status_code == 403


class _SbsServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    payload = b""
    done = threading.Event()


class _SendSbs(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, _SbsServer)
        self.request.sendall(server.payload)
        server.done.wait(10)  # keep the connection open: a live feed does not end


@pytest.fixture
def sbs_server() -> Iterator[_SbsServer]:
    server = _SbsServer(("127.0.0.1", 0), _SendSbs)
    server.payload = (DATA / "sbs_sample.txt").read_bytes()
    server.done = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.done.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_sbs_feed_over_a_real_socket_reaches_the_picture(
    tmp_path: Path, sbs_server: _SbsServer, sign_in: SignIn
) -> None:
    node_dir = _make_nodes(tmp_path)
    port = sbs_server.server_address[1]
    (node_dir / "feeds.toml").write_text(
        f'batch_s = 0.1\n\n[[feeds]]\nkind = "sbs-tcp"\nurl = "tcp://127.0.0.1:{port}"\n'
    )
    with TestClient(create_app(node_dir, replicate=False)) as client:
        sign_in(client, "tech", Role.COMMUNICATIONS_TECHNICIAN)

        def tracks() -> dict[str, dict[str, Any]]:
            rows = client.get("/api/v1/picture").json()["tracks"]
            return {row["track"]: row for row in rows}

        archive = read_sbs(DATA / "sbs_sample.txt").frame.filter(pl.col("track") == "icao:4ca679")
        last = archive.sort("time").row(-1, named=True)
        last_time = last["time"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        _wait_for(lambda: tracks().get("icao:4ca679", {}).get("time") == last_time)
        ryanair = tracks()["icao:4ca679"]
        assert (ryanair["domain"], ryanair["side"], ryanair["callsign"]) == (
            "air",
            "civil",
            "RYR17UU",
        )
        assert (ryanair["lat"], ryanair["lon"]) == pytest.approx((last["lat"], last["lon"]))
        assert ryanair["alt_m"] == pytest.approx(last["alt_m"], abs=0.01)
        feeds = client.get("/api/v1/picture").json()["feeds"]
        assert feeds[0]["kind"] == "sbs-tcp"
        assert feeds[0]["running"] is True
        assert feeds[0]["rows"] > 0


def test_a_replay_feed_ends_and_closes_its_encounters(tmp_path: Path, sign_in: SignIn) -> None:
    node_dir = _make_nodes(tmp_path)
    rows = [row for batch in _case_batches()[:90] for row in batch]
    pl.DataFrame(rows).write_csv(node_dir / "case.csv")
    (node_dir / "feeds.toml").write_text(
        'batch_s = 0.05\n\n[[feeds]]\nkind = "replay"\npath = "case.csv"\nspeed = 1000\n'
    )
    with TestClient(create_app(node_dir, replicate=False)) as client:
        sign_in(client, "tech", Role.COMMUNICATIONS_TECHNICIAN)
        _wait_for(lambda: not client.get("/api/v1/picture").json()["feeds"][0]["running"])
        _wait_for(lambda: "encounter.closed" in {e["type"] for e in _events(client)})
        picture = client.get("/api/v1/picture").json()
        assert picture["feeds"][0]["rows"] == len(rows)
        assert picture["feeds"][0]["error"] is None
        assert len(picture["tracks"]) == 3
        closed = [e for e in _events(client) if e["type"] == "encounter.closed"]
        assert _pair(closed[0]) == (DONALD_COOK, su24_track(1))


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_ais_datagrams_reach_the_picture(tmp_path: Path, sign_in: SignIn) -> None:
    node_dir = _make_nodes(tmp_path)
    port = _free_udp_port()
    (node_dir / "feeds.toml").write_text(
        f'batch_s = 0.1\n\n[[feeds]]\nkind = "nmea-udp"\nurl = "127.0.0.1:{port}"\n'
    )
    lines = (DATA / "pyais_tests_nmea_data_sample.txt").read_bytes().splitlines(keepends=True)
    datagram = b"".join(lines[:40])
    expected = parse_chunks(AisNmeaStream(Path("udp")), [datagram]).frame
    first = expected.filter(pl.col("track") == expected["track"][0]).row(-1, named=True)
    with (
        TestClient(create_app(node_dir, replicate=False)) as client,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        sign_in(client, "tech", Role.COMMUNICATIONS_TECHNICIAN)

        def arrived() -> bool:
            sender.sendto(datagram, ("127.0.0.1", port))  # until the node listens
            rows = client.get("/api/v1/picture").json()["tracks"]
            return first["track"] in {row["track"] for row in rows}

        _wait_for(arrived)
        tracks = {row["track"]: row for row in client.get("/api/v1/picture").json()["tracks"]}
    assert set(tracks) == set(expected["track"].to_list())
    ship = tracks[first["track"]]
    assert ship["domain"] == "sea"
    assert (ship["lat"], ship["lon"]) == pytest.approx((first["lat"], first["lon"]), abs=1e-6)
