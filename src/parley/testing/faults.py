"""Faults on purpose: a row loader that kills its own worker process the first time it runs."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from parley.encounters.partitioned import RowLoader


@dataclass(frozen=True, slots=True)
class KillWorkerOnce:
    """Wraps a loader; the first call anywhere (``marker`` absent) ends the process abruptly.

    The marker is a file, so "the first time" holds across the worker processes of a cluster.
    """

    loader: RowLoader
    marker: Path

    def __call__(self, lo_us: int, hi_us: int, tracks: Sequence[str] | None) -> pl.DataFrame:
        try:
            with self.marker.open("x"):
                pass
        except FileExistsError:
            return self.loader(lo_us, hi_us, tracks)
        os._exit(1)  # a crash, not an exception: nothing is cleaned up or reported


__all__ = ["KillWorkerOnce"]
