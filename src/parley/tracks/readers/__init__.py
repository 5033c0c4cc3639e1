"""Readers, one module per input format, and the registry that picks one (``--format``)."""

from pathlib import Path

from parley.errors import UnknownFormatError
from parley.tracks.readers import (
    adsb_json,
    ais_csv,
    ais_nmea,
    beast,
    canonical,
    geojson,
    jet1090,
    opensky,
    readsb,
    sbs,
)
from parley.tracks.readers.base import Format, RawRead, Rejection
from parley.tracks.readers.fileio import read_head

_MODULES = (canonical, ais_nmea, ais_csv, geojson, adsb_json, opensky, readsb, sbs, beast, jet1090)

FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in sorted((f for m in _MODULES for f in m.FORMATS), key=lambda f: (f.priority, f.name))
}

AUTO = "auto"


def format_names() -> list[str]:
    return list(FORMATS)


def detect_format(path: Path) -> Format:
    """Sniff the format of ``path`` from its name and first bytes."""
    head = read_head(path)
    for fmt in FORMATS.values():
        if fmt.sniff(path, head):
            return fmt
    raise UnknownFormatError(
        f"{path}: format not recognised (give one with --format; known: {', '.join(FORMATS)})"
    )


def resolve_format(path: Path, name: str = AUTO) -> Format:
    if name == AUTO:
        return detect_format(path)
    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r} (known: auto, {', '.join(FORMATS)})"
        ) from None


def read_raw(path: Path, format_name: str = AUTO) -> tuple[Format, RawRead]:
    fmt = resolve_format(path, format_name)
    return fmt, fmt.read(path)


__all__ = [
    "AUTO",
    "FORMATS",
    "Format",
    "RawRead",
    "Rejection",
    "detect_format",
    "format_names",
    "read_raw",
    "resolve_format",
]
