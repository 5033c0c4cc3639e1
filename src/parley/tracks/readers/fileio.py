"""Opening input files: gzip transparently, clear errors for missing or unreadable files."""

import gzip
import io
from pathlib import Path
from typing import IO

from parley.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def read_bytes(path: Path) -> bytes:
    """The whole file, decompressed when it is gzip."""
    check_readable(path)
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if data[:2] == GZIP_MAGIC else data
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc


def read_head(path: Path, size: int = 65536) -> bytes:
    """The first ``size`` bytes of the (decompressed) content, for format sniffing."""
    check_readable(path)
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as handle:
                return handle.read(size)
        with path.open("rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc


def open_text(path: Path) -> IO[str]:
    """A text stream over the (decompressed) file; undecodable bytes become U+FFFD."""
    check_readable(path)
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace", newline="")


__all__ = ["check_readable", "is_gzip", "open_text", "read_bytes", "read_head"]
