"""The live settings of a node: its ``feeds.toml`` (the feeds, the sides file, the batching).

``feeds.toml`` (in the node directory; optional, no file means no feeds)::

    sides = "sides.toml"          # optional, relative to the node directory (default: built in)
    batch_s = 0.5                 # seconds of arrivals per detector batch
    picture_interval_s = 2.0      # at most one picture.updated event per this many seconds
    open_incidents = true         # closed serious/high-risk encounters open incidents

    [[feeds]]
    kind = "sbs-tcp"              # nmea-tcp | nmea-udp | sbs-tcp | beast-tcp | csv-tcp
    url = "127.0.0.1:30003"       #   | aircraft-json | replay

    [[feeds]]
    kind = "replay"
    path = "baltic-2016.csv"      # any track file parley reads
    speed = 20

See docs/live.md, "In a node".
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from parley.errors import ConfigError

FEEDS_FILE: Final = "feeds.toml"
#: Each feed kind and the stream parser of its socket feeds.
TCP_FORMATS: Final = {
    "nmea-tcp": "ais-nmea",
    "sbs-tcp": "sbs",
    "beast-tcp": "beast",
    "csv-tcp": "csv",
}
FEED_KINDS: Final = (*TCP_FORMATS, "nmea-udp", "aircraft-json", "replay")
_TOP_KEYS: Final = frozenset(
    {"sides", "batch_s", "picture_interval_s", "open_incidents", "update_interval_s", "feeds"}
)
_FEED_KEYS: Final = frozenset({"kind", "url", "path", "speed", "format", "interval_s", "name"})


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One feed of a node: ``kind`` (see :data:`FEED_KINDS`) and where it comes from."""

    kind: str
    name: str
    url: str = ""
    path: Path | None = None
    speed: float = 1.0
    format: str = "auto"
    interval_s: float = 1.0


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """What ``feeds.toml`` says (the defaults: no feeds, built-in sides)."""

    feeds: tuple[FeedConfig, ...] = ()
    sides: Path | None = None
    batch_s: float = 0.5
    picture_interval_s: float = 2.0
    open_incidents: bool = True
    update_interval_s: float = 5.0


def load_live_settings(node_dir: Path) -> LiveSettings:
    """The node's ``feeds.toml``; the defaults when there is none."""
    path = Path(node_dir) / FEEDS_FILE
    if not path.is_file():
        return LiveSettings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_live_settings(document, str(path), Path(node_dir))


def parse_live_settings(document: Mapping[str, Any], source: str, base: Path) -> LiveSettings:
    """Settings from a parsed ``feeds.toml``; relative paths are taken from ``base``."""
    _known_keys(document, _TOP_KEYS, source)
    feeds = document.get("feeds", [])
    if not isinstance(feeds, list) or not all(isinstance(f, dict) for f in feeds):
        raise ConfigError(f"{source}: feeds must be [[feeds]] tables")
    sides = document.get("sides")
    if sides is not None and not isinstance(sides, str):
        raise ConfigError(f"{source}: sides must be a file path, got {sides!r}")
    return LiveSettings(
        feeds=tuple(_feed(f, f"{source}: feeds[{n}]", base) for n, f in enumerate(feeds)),
        sides=None if sides is None else base / sides,
        batch_s=_positive(document, "batch_s", 0.5, source),
        picture_interval_s=_positive(document, "picture_interval_s", 2.0, source),
        open_incidents=_flag(document, "open_incidents", source),
        update_interval_s=_positive(document, "update_interval_s", 5.0, source),
    )


def _known_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})"
        )


def _positive(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}: {key} must be a positive number, got {value!r}")
    return float(value)


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, True)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _feed(table: Mapping[str, Any], where: str, base: Path) -> FeedConfig:
    _known_keys(table, _FEED_KEYS, where)
    kind = table.get("kind")
    if kind not in FEED_KINDS:
        raise ConfigError(f"{where}: kind {kind!r}: expected one of {', '.join(FEED_KINDS)}")
    url, path = table.get("url", ""), table.get("path")
    if not isinstance(url, str) or (path is not None and not isinstance(path, str)):
        raise ConfigError(f"{where}: url and path must be strings")
    if kind == "replay" and not path:
        raise ConfigError(f'{where}: a replay feed needs path = "FILE"')
    if kind != "replay" and not url:
        raise ConfigError(f"{where}: a {kind} feed needs url")
    if kind in TCP_FORMATS or kind == "nmea-udp":
        host_port(url, where)
    fmt = table.get("format", "auto")
    if not isinstance(fmt, str):
        raise ConfigError(f"{where}: format must be a reader's name, got {fmt!r}")
    name = table.get("name") or (f"{kind}:{url}" if url else f"replay:{path}")
    return FeedConfig(
        kind=kind,
        name=str(name),
        url=url,
        path=None if path is None else base / path,
        speed=_positive(table, "speed", 1.0, where),
        format=fmt,
        interval_s=_positive(table, "interval_s", 1.0, where),
    )


def host_port(url: str, where: str = "feed") -> tuple[str, int]:
    """``host`` and ``port`` of ``tcp://host:port``, ``udp://host:port`` or ``host:port``."""
    address = url.split("://", 1)[-1].rstrip("/")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}: url {url!r}: expected host:port")
    return host.strip("[]"), int(port)


__all__ = [
    "FEEDS_FILE",
    "FEED_KINDS",
    "TCP_FORMATS",
    "FeedConfig",
    "LiveSettings",
    "host_port",
    "load_live_settings",
    "parse_live_settings",
]
