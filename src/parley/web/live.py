"""The live picture inside a running node: feeds, sides, the live detector, the event stream.

:class:`LivePicture` is the synchronous core: canonical rows in (already cleaned and sided),
the latest position of every track kept, the rows run through
:class:`parley.encounters.live.LiveDetector`, each warning and encounter event published on the
node's event bus, and every closed encounter handed to the incident registry (which opens or
merges incidents of the classes its policy names). :class:`LiveService` runs it while the app
does: one asyncio task per feed of the node's ``feeds.toml`` collects cleaned rows, and a ticker
feeds what arrived to the picture every half second (``batch_s``), in a worker thread.

The settings come from the node's ``feeds.toml`` (:mod:`parley.web.live_config`); see
docs/live.md, "In a node".
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

import polars as pl

from parley.encounters.live import LiveDetector
from parley.encounters.live_events import ENCOUNTER_CLOSED, EncounterEvent, LiveEvent
from parley.encounters.output import iso
from parley.errors import ParleyError
from parley.hotline.node import Node
from parley.incidents.registry import IncidentRegistry, IngestSummary
from parley.tracks.hygiene import FILE_COLUMN, HygieneSettings, clean
from parley.tracks.readers.base import Rejection
from parley.tracks.schema import CANONICAL_COLUMNS, CANONICAL_SCHEMA, conform
from parley.tracks.sides import SidesConfig, assign_sides, load_sides
from parley.tracks.sources import (
    FileReplay,
    HttpPollSource,
    TcpSource,
    UdpSource,
    clean_batches,
)
from parley.web.live_config import (
    TCP_FORMATS,
    FeedConfig,
    LiveSettings,
    host_port,
    load_live_settings,
)
from parley.web.picture_wire import ABOUT, encode

#: The event published (throttled) with the tracks that moved since the previous one, in the
#: columnar form of :mod:`parley.web.picture_wire`.
PICTURE_EVENT: Final = "picture.updated"
#: Who opens the incidents of closed encounters (the registry's history names it).
LIVE_ACTOR: Final = "live-detector"
#: Tracks silent this long (data time) leave the picture.
TRACK_TTL_S: Final = 600.0
_PICTURE_COLUMNS: Final = (
    "track",
    "time",
    "side",
    "domain",
    "type",
    "callsign",
    "lat",
    "lon",
    "alt_m",
    "course_deg",
    "speed_mps",
    "transponder",
)

Publisher = Callable[[str, dict[str, Any]], object]
#: Receives the records of closed encounters (the registry's ``ingest``).
IncidentSink = Callable[[list[dict[str, Any]]], object]

_log = logging.getLogger(__name__)


# ---- the picture ----------------------------------------------------------------------------


class LivePicture:
    """The current picture of one node; thread-safe (one feed at a time)."""

    def __init__(
        self,
        *,
        sides: SidesConfig,
        publish: Publisher | None = None,
        incidents: IncidentSink | None = None,
        update_interval_s: float = 5.0,
        picture_interval_s: float = 2.0,
        hygiene: HygieneSettings | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sides = sides
        self.publish = publish
        self.incidents = incidents
        self.hygiene = hygiene
        self.picture_interval_s = picture_interval_s
        self.detector = LiveDetector(update_interval_s=update_interval_s)
        self.rows_fed = 0
        self.incident_errors = 0
        self._update_interval_s = update_interval_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._latest = pl.DataFrame(schema={n: CANONICAL_SCHEMA[n] for n in _PICTURE_COLUMNS})
        self._moved: set[str] = set()
        self._last_picture = -float("inf")
        # what the stream has said of each track's side, type, ...: only changes are sent again
        self._described = pl.DataFrame(schema={n: CANONICAL_SCHEMA[n] for n in ("track", *ABOUT)})

    def prepare(self, raw: pl.DataFrame, label: str) -> tuple[pl.DataFrame, list[Rejection]]:
        """Rows a reader gave, through hygiene and sides: (clean rows, rows hygiene refused)."""
        table, report = clean(
            conform(raw).with_columns(pl.lit(label).alias(FILE_COLUMN)), self.hygiene
        )
        if table.height == 0:
            return table.select(CANONICAL_COLUMNS), report.rejections
        return assign_sides(table, self.sides).select(CANONICAL_COLUMNS), report.rejections

    def feed(self, frame: pl.DataFrame) -> list[LiveEvent]:
        """Clean, sided rows (one batch): update the picture, publish what it causes."""
        with self._lock:
            if frame.height == 0:
                return []
            events = self.detector.feed(frame)
            self._remember(frame)
            self.rows_fed += frame.height
            self._publish(events)
            self._publish_picture()
        return events

    def finish(self) -> list[LiveEvent]:
        """End of data: close every open encounter (and hand the closed ones on)."""
        with self._lock:
            events = self.detector.flush()
            self._publish(events)
            self._publish_picture(force=True)
            # the detector starts afresh: after the end of one replay, another may begin
            self.detector = LiveDetector(update_interval_s=self._update_interval_s)
        return events

    def to_json(self) -> dict[str, Any]:
        """Every track's latest position, the warnings in force and the encounters open."""
        with self._lock:
            latest = self._latest.sort("track")
            return {
                "time": None if latest.height == 0 else iso(_latest_time(latest)),
                "tracks": _rows(latest),
                "warnings": [w.to_json() for w in self.detector.active_warnings],
                "encounters": list(self.detector.open_encounters),
            }

    def to_columns(self) -> dict[str, Any]:
        """As :meth:`to_json`, with the tracks in the columnar form (``picture_wire``) under
        ``"columns"``: every track with its ``about``."""
        with self._lock:
            latest = self._latest.sort("track")
            empty = latest.height == 0
            return {
                "time": None if empty else iso(_latest_time(latest)),
                "columns": None if empty else encode(latest, _latest_time(latest)),
                "warnings": [w.to_json() for w in self.detector.active_warnings],
                "encounters": list(self.detector.open_encounters),
            }

    # -- inside ----------------------------------------------------------------------------
    def _remember(self, frame: pl.DataFrame) -> None:
        # stable sorts: of reports with one time (a datagram's), the last received wins
        rows = frame.select(_PICTURE_COLUMNS).sort("time", maintain_order=True)
        merged = pl.concat([self._latest, rows]).sort("time", maintain_order=True)
        merged = merged.unique("track", keep="last", maintain_order=True)
        newest = _latest_time(merged)
        cutoff = newest.timestamp() - TRACK_TTL_S
        self._latest = merged.filter(pl.col("time").dt.epoch("s") >= cutoff)
        self._moved |= set(rows["track"].to_list())

    def _publish(self, events: Sequence[LiveEvent]) -> None:
        closed: list[dict[str, Any]] = []
        for event in events:
            if self.publish is not None:
                self.publish(event.type, event.to_json())
            if isinstance(event, EncounterEvent) and event.type == ENCOUNTER_CLOSED:
                closed.append(event.encounter)
        if closed and self.incidents is not None:
            try:
                self.incidents(closed)
            except ParleyError as exc:  # the picture goes on; the officers see it in the log
                self.incident_errors += 1
                _log.error("closed encounters not handed to the incident registry: %s", exc)

    def _publish_picture(self, force: bool = False) -> None:
        now = self._monotonic()
        if self.publish is None or not self._moved:
            return
        if not force and now - self._last_picture < self.picture_interval_s:
            return
        moved = self._latest.filter(pl.col("track").is_in(list(self._moved))).sort("track")
        self.publish(PICTURE_EVENT, encode(moved, _latest_time(self._latest), self._described))
        described = moved.select("track", *ABOUT)
        held = pl.concat([self._described, described]).unique("track", keep="last")
        self._described = held.filter(pl.col("track").is_in(self._latest["track"].implode()))
        self._moved.clear()
        self._last_picture = now


def _latest_time(frame: pl.DataFrame) -> datetime:
    value = frame["time"].max()
    assert isinstance(value, datetime)
    return value


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    out = frame.with_columns(
        pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        pl.col("lat", "lon").round(6),
        pl.col("alt_m", "course_deg", "speed_mps").round(2),
    )
    return out.to_dicts()


# ---- the service ----------------------------------------------------------------------------


class _Source(Protocol):
    rejections: Any

    def batches(self) -> AsyncIterator[pl.DataFrame]: ...


@dataclass(slots=True)
class FeedStatus:
    """What a feed has delivered so far."""

    feed: FeedConfig
    rows: int = 0
    running: bool = False
    error: str | None = None
    source: _Source | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        rejected = 0 if self.source is None else len(self.source.rejections)
        return {
            "name": self.feed.name,
            "kind": self.feed.kind,
            "rows": self.rows,
            "rejected": rejected,
            "running": self.running,
            "error": self.error,
        }


def make_source(feed: FeedConfig) -> _Source:
    """The source of a feed (a UDP source must be entered before reading)."""
    if feed.kind in TCP_FORMATS:
        host, port = host_port(feed.url, feed.name)
        return TcpSource(host, port, TCP_FORMATS[feed.kind])
    if feed.kind == "nmea-udp":
        host, port = host_port(feed.url, feed.name)
        return UdpSource(host, port)
    if feed.kind == "aircraft-json":
        return HttpPollSource(feed.url, interval_s=feed.interval_s)
    assert feed.path is not None
    return FileReplay(feed.path, speed=feed.speed, format_name=feed.format)


class LiveService:
    """Runs a node's feeds into its :class:`LivePicture` while the app runs."""

    def __init__(self, picture: LivePicture, settings: LiveSettings) -> None:
        self.picture = picture
        self.settings = settings
        self.feeds = [FeedStatus(feed) for feed in settings.feeds]
        self._pending: list[pl.DataFrame] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start one task per feed and the ticker (nothing when no feed is configured)."""
        if not self.feeds:
            return
        self._tasks = [asyncio.create_task(self._run_feed(status)) for status in self.feeds]
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        """Cancel the feeds and the ticker; wait until they have ended."""
        tasks = [*self._tasks, *([self._ticker] if self._ticker else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks, self._ticker = [], None

    def to_json(self) -> list[dict[str, Any]]:
        return [status.to_json() for status in self.feeds]

    async def feed_pending(self) -> None:
        """Hand what the feeds delivered since the last call to the picture (one batch)."""
        if not self._pending:
            return
        batch, self._pending = pl.concat(self._pending, how="vertical"), []
        await asyncio.to_thread(self.picture.feed, batch)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.settings.batch_s)
            try:
                await self.feed_pending()
            except Exception:  # a bad batch must not stop the picture: logged, the next goes on
                _log.exception("live picture: a batch failed")

    async def _run_feed(self, status: FeedStatus) -> None:
        status.running = True
        try:
            source = make_source(status.feed)
            status.source = source
            if isinstance(source, UdpSource):
                async with source:
                    await self._pump(status, source)
            else:
                await self._pump(status, source)
        except (ParleyError, OSError) as exc:
            status.error = str(exc)
            _log.error("feed %s: %s", status.feed.name, exc)
        except Exception as exc:  # a bug: the feed stops, the node and the other feeds go on
            status.error = f"stopped: {exc}"
            _log.exception("feed %s stopped", status.feed.name)
        finally:
            status.running = False
        if not any(s.running for s in self.feeds):
            # every feed has ended (replays): the end of data closes the open encounters
            await self.feed_pending()
            await asyncio.to_thread(self.picture.finish)

    async def _pump(self, status: FeedStatus, source: _Source) -> None:
        sides = self.picture.sides
        async for frame in clean_batches(source.batches(), sides, label=status.feed.name):
            status.rows += frame.height
            self._pending.append(frame)


def registry_sink(node: Node, publish: Publisher | None) -> IncidentSink:
    """Closed encounters into the node's incident registry (its policy: classes, merge window)."""

    def announce(kind: str, payload: dict[str, Any]) -> None:
        if publish is not None:
            publish(kind, payload)

    registry = IncidentRegistry(node, publish=announce)

    def ingest(records: list[dict[str, Any]]) -> IngestSummary:
        return registry.ingest(records, actor=LIVE_ACTOR)

    return ingest


def live_service(node: Node, publish: Publisher | None) -> LiveService:
    """The live service of ``node`` as its ``feeds.toml`` sets it up."""
    settings = load_live_settings(node.directory)
    picture = LivePicture(
        sides=load_sides(settings.sides),
        publish=publish,
        incidents=registry_sink(node, publish) if settings.open_incidents else None,
        update_interval_s=settings.update_interval_s,
        picture_interval_s=settings.picture_interval_s,
    )
    return LiveService(picture, settings)


__all__ = [
    "LIVE_ACTOR",
    "PICTURE_EVENT",
    "TRACK_TTL_S",
    "FeedStatus",
    "IncidentSink",
    "LivePicture",
    "LiveService",
    "Publisher",
    "live_service",
    "make_source",
    "registry_sink",
]
