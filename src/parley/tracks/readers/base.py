"""What every reader shares: its result, its rejections, and the registry of formats.

A reader is a pure function from a file to a :class:`RawRead`: a frame in the canonical columns
(any subset; :func:`parley.tracks.schema.conform` fills the rest) plus ``_line``, the 1-based
source line or record number of each row, and the rows it could not parse, each with a reason.
Range checks, duplicates, ordering and impossible jumps are not a reader's business: the hygiene
stage does them the same way for every format.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input row that did not make it into the table, and why."""

    file: str
    line: int | None
    reason: str
    rule: str = "malformed"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class RawRead:
    """A reader's output, before hygiene."""

    frame: pl.DataFrame
    rejections: list[Rejection] = field(default_factory=list)


ReadFunction = Callable[[Path], RawRead]
SniffFunction = Callable[[Path, bytes], bool]


@dataclass(frozen=True, slots=True)
class Format:
    """A registered input format."""

    name: str
    description: str
    read: ReadFunction
    sniff: SniffFunction
    #: Lower values are tried first by ``--format auto``; specific formats before generic ones.
    priority: int = 50


def source_label(format_name: str, path: Path) -> str:
    """The ``source`` column value: which reader read which file."""
    return f"{format_name}:{path.name}"


__all__ = ["Format", "RawRead", "ReadFunction", "Rejection", "SniffFunction", "source_label"]
