"""Detection on a local Dask cluster (2 worker processes): the single-process encounters."""

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from distributed import Client
from test_cells import cell_traffic
from test_partitioned import SAMPLE, boundary_traffic

from parley.cli.main import run
from parley.encounters.cells import CellGrid
from parley.encounters.cluster import ArchiveLoader, detect_on_cluster, open_client
from parley.encounters.detector import detect
from parley.errors import InputError
from parley.testing.faults import KillWorkerOnce
from parley.tracks.archive import archive_files, read_archive_files, write_archive
from parley.tracks.load import load_tracks


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with open_client("local:2") as running:
        yield running


@pytest.fixture(scope="module")
def traffic() -> pl.DataFrame:
    return boundary_traffic()


@pytest.fixture(scope="module")
def april() -> pl.DataFrame:
    return load_tracks([SAMPLE]).table


def test_the_local_cluster_has_two_worker_processes(client: Client) -> None:
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2
    assert os.getpid() not in pids.values()


def test_archive_on_the_cluster_is_identical_to_one_process(
    client: Client, april: pl.DataFrame, tmp_path: Path
) -> None:
    write_archive(april, tmp_path / "archive", "hour")
    single = detect(april).encounters
    found = detect_on_cluster(client, tmp_path / "archive", partition_s=4 * 3600.0)
    assert single.height == 6
    assert found.encounters.to_dicts() == single.to_dicts()
    assert found.stats["partitions"] == 18
    assert found.stats["positions"] == april.height


def test_boundary_traffic_on_the_cluster_is_identical(
    client: Client, traffic: pl.DataFrame, tmp_path: Path
) -> None:
    write_archive(traffic, tmp_path / "archive", "hour")
    single = detect(traffic).encounters
    found = detect_on_cluster(client, tmp_path / "archive", partition_s=600.0)
    assert found.encounters.to_dicts() == single.to_dicts()
    assert found.stats["redetected_pairs"] >= 1  # the 35-minute escort


def test_a_table_in_memory_on_the_cluster_is_identical(
    client: Client, traffic: pl.DataFrame
) -> None:
    single = detect(traffic).encounters
    found = detect_on_cluster(client, traffic, partition_s=300.0)
    assert found.encounters.to_dicts() == single.to_dicts()


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_identical(
    client: Client, traffic: pl.DataFrame, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    write_archive(traffic, root, "hour")
    marker = tmp_path / "killed"
    loader = KillWorkerOnce(ArchiveLoader(tuple(archive_files(root))), marker)
    single = detect(traffic).encounters
    found = detect_on_cluster(client, root, partition_s=600.0, loader=loader)
    assert marker.exists()  # a worker did die in its first task
    assert found.encounters.to_dicts() == single.to_dicts()


def test_an_unreachable_scheduler_is_one_clear_error() -> None:
    with (
        pytest.raises(InputError, match="cannot reach the scheduler"),
        open_client("tcp://127.0.0.1:9", connect_timeout_s=1.0),
    ):
        pass


def test_convert_then_detect_on_a_local_cluster_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    archive = tmp_path / "april"
    assert run(["tracks", "convert", str(SAMPLE), "--partition", "day", "-o", str(archive)]) == 0
    assert "3 day partitions" in capsys.readouterr().out  # nothing on the 13th
    assert sorted(p.name for p in archive.iterdir()) == [
        "day=2016-04-11",
        "day=2016-04-12",
        "day=2016-04-14",
    ]
    assert run(["detect", "--json", str(SAMPLE)]) == 0
    single = json.loads(capsys.readouterr().out)
    command = ["detect", "--cluster", "local:1", "--partition-minutes", "1440", "--json"]
    assert run([*command, str(archive)]) == 0
    clustered = json.loads(capsys.readouterr().out)
    assert len(single["encounters"]) == 6
    assert clustered["encounters"] == single["encounters"]
    assert clustered["stats"]["partitions"] == 3


def test_a_bad_partition_unit_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = str(tmp_path / "a")
    assert run(["tracks", "convert", str(SAMPLE), "--partition", "week", "-o", out]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--partition must be hour or day, not 'week'" in err


def test_an_archive_is_not_written_over(tmp_path: Path, april: pl.DataFrame) -> None:
    write_archive(april, tmp_path / "a", "day")
    with pytest.raises(InputError, match="new or empty folder"):
        write_archive(april, tmp_path / "a", "day")
    files = archive_files(tmp_path / "a")
    assert [f.path.parent.name for f in files] == [
        "day=2016-04-11",
        "day=2016-04-12",
        "day=2016-04-14",
    ]
    assert sum(pl.read_parquet(f.path).height for f in files) == april.height


def test_reading_a_time_range_opens_only_the_periods_it_touches(
    tmp_path: Path, april: pl.DataFrame
) -> None:
    write_archive(april, tmp_path / "a", "hour")
    files = archive_files(tmp_path / "a")
    assert files[0].path.parent.name == "hour=2016-04-11T13"
    start = files[0].start + timedelta(minutes=10)
    end = files[1].start - timedelta(microseconds=1)
    # the second period's file is unreadable: a read ending before it must not open it
    files[1].path.write_bytes(b"not parquet")
    in_range = april.filter(pl.col("time").is_between(start, end))
    track = in_range["track"][0]
    rows = read_archive_files(files, start, end, [track])
    assert rows.height == in_range.filter(pl.col("track") == track).height > 0
    assert rows.height < in_range.height
    assert rows["time"].min() >= start
    assert rows["time"].is_sorted()
    with pytest.raises(InputError, match="cannot be read as Parquet"):
        read_archive_files(files, start, files[1].start, None)


def test_cells_on_the_cluster_are_identical(client: Client, tmp_path: Path) -> None:
    traffic = cell_traffic()
    root = tmp_path / "archive"
    write_archive(traffic, root, "hour")
    single = detect(traffic).encounters
    found = detect_on_cluster(client, root, partition_s=600.0, cells=CellGrid(1.0))
    assert found.encounters.equals(single)
    assert single.height == 8
    assert found.stats["partitions"] == 5
    assert found.stats["cell_tasks"] > 5 * 4  # every partition splits into several cells
    assert found.stats["redetected_pairs"] >= 1  # the 40-minute escort across eleven cells
    assert found.stats["max_positions_per_task"] < traffic.height / 2


def test_cells_of_a_table_in_memory_on_the_cluster_are_identical(
    client: Client, traffic: pl.DataFrame
) -> None:
    single = detect(traffic).encounters
    found = detect_on_cluster(client, traffic, partition_s=900.0, cells=CellGrid(0.5))
    assert found.encounters.equals(single)
    assert found.stats["cell_tasks"] > found.stats["partitions"]


def test_cell_degrees_without_a_cluster_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["detect", "--cell-degrees", "5", str(SAMPLE)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--cell-degrees applies only with --cluster" in err


def test_cells_from_the_command_line_give_the_same_encounters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["detect", "--json", str(SAMPLE)]) == 0
    single = json.loads(capsys.readouterr().out)
    command = ["detect", "--cluster", "local:1", "--cell-degrees", "2", "--json", str(SAMPLE)]
    assert run(command) == 0
    clustered = json.loads(capsys.readouterr().out)
    assert len(single["encounters"]) == 6
    assert clustered["encounters"] == single["encounters"]
    # 72 one-hour partitions, most of them empty; 8 cells with two tracks or more
    assert (clustered["stats"]["partitions"], clustered["stats"]["cell_tasks"]) == (72, 8)
