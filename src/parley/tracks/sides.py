"""Sides: which party each track belongs to.

A *sides file* (TOML) names the parties and the rules that put a track on a party's side. Every
track that no rule claims is ``civil``. Layout::

    description = "NATO and Russia, military aircraft"  # optional

    [parties.nato]
    description = "North Atlantic Treaty Organization"  # optional
    tracks = ["icao:ae1234", "mmsi:211234560"]          # explicit track ids
    military_ranges = ["ADF7C8-AFFFFF", "43C123"]       # ICAO 24-bit addresses (hex, inclusive)
    callsigns = ['^RCH\\d', '^GAF\\d']                   # regular expressions
    countries = ["US", "GB"]                            # ISO 3166-1 alpha-2 codes

    [parties.russia]
    callsigns = ['^RFF\\d']

Every key of a party is optional. What each rule matches:

- ``tracks``: the track id itself (``icao:`` ids compare case-insensitively, ``mmsi:`` ids after
  left-padding the number to nine digits; any other id, e.g. ``radar:su27-2``, compares as is).
- ``military_ranges``: aircraft (``icao:`` tracks) whose address lies in the range; a single
  address (``"43C123"``) is a range of one.
- ``callsigns``: tracks any of whose callsigns matches the expression (Rust ``regex`` syntax as
  Polars uses it, searched anywhere in the upper-cased callsign, so anchor prefixes with ``^``).
- ``countries``: aircraft whose address lies in the ICAO block of that State of registry, and
  ships whose MMSI carries a MID of that flag State or of one of its territories (``GB`` takes
  Gibraltar's 236 and Bermuda's 310; ``GI`` takes only 236). The MID is read from every MMSI
  form: ``MIDxxxxxx`` ship, ``0MIDxxxxx`` group, ``00MIDxxxx`` coast station, ``111MIDxxx`` SAR
  aircraft, ``8MIDxxxxx`` handheld, ``98MIDxxxx`` craft of a parent ship, ``99MIDxxxx`` aid to
  navigation. The tables are ``data/icao-address-blocks.csv`` and ``data/mmsi-mid.csv``.

A track has one side. Precedence, highest first: a side already given in the row (e.g. by a
canonical CSV) > explicit track id > military address range > callsign pattern > country of
registry or flag > ``civil``. Between parties, a track id, a country, a callsign expression or an
address may be claimed once only (the file is rejected otherwise); when callsign expressions of two
parties match one track, the party named first in the file wins. A party may be called ``civil``:
its rules mark tracks civil explicitly (e.g. to exempt one airframe from a military range).
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import polars as pl

from parley.errors import ConfigError
from parley.tracks.schema import CIVIL

DATA_DIR = Path(__file__).parent / "data"
_PARTY_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_HEX_RANGE = re.compile(r"^([0-9A-Fa-f]{6})(?:\s*-\s*([0-9A-Fa-f]{6}))?$")
_TRACK_ID = re.compile(r"^[a-z][a-z0-9_]*:\S+$")
_TOP_KEYS = frozenset({"description", "parties"})
_PARTY_KEYS = frozenset({"description", "tracks", "military_ranges", "callsigns", "countries"})


@dataclass(frozen=True)
class AddressRange:
    """An inclusive range of ICAO 24-bit addresses claimed by a party."""

    first: int
    last: int
    party: str


@dataclass(frozen=True)
class CallsignPattern:
    pattern: str
    party: str


@dataclass(frozen=True)
class SidesConfig:
    """The parsed, validated rules of one sides file."""

    source: str
    description: str
    parties: tuple[str, ...]  # in file order; may include "civil"
    tracks: tuple[tuple[str, str], ...]  # (normalised track id, party)
    military_ranges: tuple[AddressRange, ...]  # sorted, non-overlapping
    callsigns: tuple[CallsignPattern, ...]  # in file order
    countries: tuple[tuple[str, str], ...]  # (ISO 3166-1 alpha-2, party)


@dataclass(frozen=True)
class IcaoBlock:
    code: str
    first: int
    last: int
    name: str


@dataclass(frozen=True)
class MidEntry:
    mid: str
    code: str
    state: str
    name: str


# --- reference tables ----------------------------------------------------------------------------


def _read_table(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@cache
def icao_blocks() -> tuple[IcaoBlock, ...]:
    """The ICAO Annex 10 address block of every State, sorted by first address."""
    rows = _read_table("icao-address-blocks.csv")
    blocks = (
        IcaoBlock(r["code"], int(r["first"], 16), int(r["last"], 16), r["name"]) for r in rows
    )
    return tuple(sorted(blocks, key=lambda block: block.first))


@cache
def mid_entries() -> tuple[MidEntry, ...]:
    """The ITU Maritime Identification Digits and the country (and flag State) of each."""
    return tuple(
        MidEntry(r["mid"], r["code"], r["state"], r["name"]) for r in _read_table("mmsi-mid.csv")
    )


@cache
def country_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code the tables know (States and territories)."""
    codes = {block.code for block in icao_blocks()}
    codes.update(entry.code for entry in mid_entries())
    codes.update(entry.state for entry in mid_entries())
    return frozenset(codes)


# --- loading -------------------------------------------------------------------------------------


def default_sides_path() -> Path:
    """The packaged default: NATO vs Russia, military aircraft only."""
    return DATA_DIR / "sides-default.toml"


def by_registry_sides_path() -> Path:
    """The packaged split by State of registry / flag: NATO members vs Russia and Belarus."""
    return DATA_DIR / "sides-by-registry.toml"


def load_sides(path: Path | None = None) -> SidesConfig:
    """Read and validate a sides file; ``None`` loads the packaged default."""
    path = default_sides_path() if path is None else path
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: sides file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read sides file: {exc}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    return parse_sides(document, source)


def parse_sides(document: Mapping[str, Any], source: str) -> SidesConfig:
    """Validate a decoded sides document; ``source`` names it in error messages."""
    _check_keys(document, _TOP_KEYS, source, "top level")
    description = _optional_text(document, "description", source, "description")
    tables = document.get("parties")
    if not isinstance(tables, dict) or not tables:
        _fail(source, "parties", "define at least one party as a [parties.NAME] table")
    rules = _Rules(source)
    for name, table in tables.items():
        rules.add_party(name, table)
    return SidesConfig(
        source=source,
        description=description,
        parties=tuple(tables),
        tracks=tuple(rules.tracks.items()),
        military_ranges=rules.merged_ranges(),
        callsigns=tuple(rules.callsigns),
        countries=tuple(rules.countries.items()),
    )


def parties(config: SidesConfig) -> list[str]:
    """The parties of a sides file in file order, without ``civil``."""
    return [name for name in config.parties if name != CIVIL]


def _fail(source: str, where: str, problem: str) -> NoReturn:
    raise ConfigError(f"{source}: {where}: {problem}")


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], source: str, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        _fail(source, where, f"unknown key {unknown[0]!r} (known keys: {known})")


def _optional_text(table: Mapping[str, Any], key: str, source: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        _fail(source, where, "must be a string")
    return value


def _string_list(table: Mapping[str, Any], key: str, source: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _fail(source, where, "must be a list of strings")
    return value


class _Rules:
    """Collects the rules of every party, rejecting a claim made by two parties."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tracks: dict[str, str] = {}
        self.countries: dict[str, str] = {}
        self.callsigns: list[CallsignPattern] = []
        self.ranges: list[AddressRange] = []

    def add_party(self, name: str, table: Any) -> None:
        where = f"parties.{name}"
        if not name.strip():
            _fail(self.source, "parties", "empty party name")
        if not _PARTY_NAME.match(name):
            _fail(self.source, where, "a party name is lower-case letters, digits, '-' or '_'")
        if not isinstance(table, dict):
            _fail(self.source, where, "must be a table ([parties.NAME])")
        _check_keys(table, _PARTY_KEYS, self.source, where)
        _optional_text(table, "description", self.source, f"{where}.description")
        for at, text in self._items(table, "tracks", where):
            self._claim(self.tracks, _track_id(text, self.source, at), name, at)
        for at, text in self._items(table, "military_ranges", where):
            self.ranges.append(_address_range(text, name, self.source, at))
        for at, text in self._items(table, "callsigns", where):
            self._claim_pattern(_callsign_pattern(text, self.source, at), name, at)
        for at, text in self._items(table, "countries", where):
            self._claim(self.countries, _country(text, self.source, at), name, at)

    def _items(self, table: Mapping[str, Any], key: str, where: str) -> list[tuple[str, str]]:
        """The strings of a list-valued key, each with its location for error messages."""
        values = _string_list(table, key, self.source, f"{where}.{key}")
        return [(f"{where}.{key}[{index}]", text) for index, text in enumerate(values)]

    def _claim(self, claims: dict[str, str], key: str, party: str, where: str) -> None:
        owner = claims.setdefault(key, party)
        if owner != party:
            _fail(self.source, where, f"{_show(key)} is already claimed by party {owner!r}")

    def _claim_pattern(self, pattern: str, party: str, where: str) -> None:
        for rule in self.callsigns:
            if rule.pattern == pattern and rule.party != party:
                problem = f"{_show(pattern)} is already claimed by party {rule.party!r}"
                _fail(self.source, where, problem)
        self.callsigns.append(CallsignPattern(pattern, party))

    def merged_ranges(self) -> tuple[AddressRange, ...]:
        """Sort the ranges and merge a party's overlapping ones; parties may not overlap."""
        merged: list[AddressRange] = []
        for current in sorted(self.ranges, key=lambda r: (r.first, r.last)):
            previous = merged[-1] if merged else None
            if previous is None or current.first > previous.last:
                merged.append(current)
            elif current.party == previous.party:
                last = max(previous.last, current.last)
                merged[-1] = AddressRange(previous.first, last, previous.party)
            else:
                _fail(
                    self.source,
                    f"parties.{current.party}.military_ranges",
                    f"{_hex_range(current)} overlaps {_hex_range(previous)} "
                    f"of party {previous.party!r}",
                )
        return tuple(merged)


def _hex_range(item: AddressRange) -> str:
    return f"{item.first:06X}-{item.last:06X}"


def _track_id(text: str, source: str, where: str) -> str:
    track = text.strip()
    prefix, _, rest = track.partition(":")
    prefix = prefix.lower()
    if prefix == "icao" and re.fullmatch(r"[0-9A-Fa-f]{6}", rest):
        return f"icao:{rest.lower()}"
    if prefix == "mmsi" and re.fullmatch(r"[0-9]{1,9}", rest):
        return f"mmsi:{rest.zfill(9)}"
    if prefix in ("icao", "mmsi") or not _TRACK_ID.match(f"{prefix}:{rest}"):
        _fail(source, where, f"bad track id {_show(text)} (e.g. 'icao:4ca7b5', 'mmsi:273318000')")
    return f"{prefix}:{rest}"


def _address_range(text: str, party: str, source: str, where: str) -> AddressRange:
    match = _HEX_RANGE.match(text.strip())
    if match is None:
        _fail(
            source,
            where,
            f"bad hex range {_show(text)} (expected e.g. 'AE0000-AFFFFF' or '43C123')",
        )
    first = int(match.group(1), 16)
    last = int(match.group(2) or match.group(1), 16)
    if first > last:
        _fail(source, where, f"bad hex range {_show(text)}: the first address is above the last")
    return AddressRange(first, last, party)


def _callsign_pattern(text: str, source: str, where: str) -> str:
    if not text:
        _fail(source, where, "empty callsign pattern")
    try:
        pl.Series([""], dtype=pl.String).str.contains(text)
    except pl.exceptions.PolarsError as exc:
        _fail(source, where, f"regular expression {_show(text)} does not compile: {_reason(exc)}")
    return text


def _reason(exc: Exception) -> str:
    """The line of a (multi-line) regex error that says what is wrong."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error:"):
            return line.removeprefix("error:").strip()
    return lines[0] if lines else type(exc).__name__


def _show(text: str) -> str:
    """Quote user text for a one-line message, escaping only what would break the line."""
    return f"'{text}'" if text.isprintable() else repr(text)


def _country(text: str, source: str, where: str) -> str:
    code = text.strip().upper()
    if code not in country_codes():
        _fail(
            source,
            where,
            f"unknown country code {_show(text)} (not an ISO 3166-1 alpha-2 code "
            "of the ICAO address or MMSI MID tables)",
        )
    return code


# --- assignment ----------------------------------------------------------------------------------


def assign_sides(frame: pl.DataFrame, config: SidesConfig) -> pl.DataFrame:
    """Fill ``side`` where it is null by the rules of ``config``; what no rule claims is civil.

    Rules are resolved once per distinct (track, callsign) among the rows to fill and joined back,
    so the cost grows with the number of tracks, not of rows.
    """
    if "side" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("side"))
    elif frame.schema["side"] != pl.String:
        frame = frame.with_columns(pl.col("side").cast(pl.String))
    # without callsign rules, one row per track is enough
    with_callsign = "callsign" in frame.columns and bool(config.callsigns)
    callsign = pl.col("callsign") if with_callsign else pl.lit(None, pl.String)
    pending = frame.lazy().filter(pl.col("side").is_null() & pl.col("track").is_not_null())
    pairs = pending.select("track", callsign.cast(pl.String).alias("callsign")).unique().collect()
    resolved = resolve_tracks(pairs, config).drop_nulls("side")
    if resolved.height == 0:
        return frame.with_columns(pl.col("side").fill_null(CIVIL))
    by_track = pl.col("track").replace_strict(
        resolved["track"], resolved["side"], default=None, return_dtype=pl.String
    )
    return frame.with_columns(pl.coalesce(pl.col("side"), by_track, pl.lit(CIVIL)).alias("side"))


def resolve_tracks(pairs: pl.DataFrame, config: SidesConfig) -> pl.DataFrame:
    """Map distinct (track, callsign) pairs to one row per track: ``track``, ``side`` (or null)."""
    per_track = (
        pairs.with_columns(_callsign_rank(config).alias("rank"))
        .group_by("track")
        .agg(pl.col("rank").min())
        .with_columns(_track_key().alias("key"))
        .with_columns(_icao_address().alias("address"), _mmsi_mid().alias("mid"))
    )
    explicit = _lookup(per_track["key"], dict(config.tracks))
    military = _lookup_ranges(per_track["address"], config.military_ranges)
    by_callsign = _lookup(
        per_track["rank"], {i: rule.party for i, rule in enumerate(config.callsigns)}
    )
    registry = _lookup_ranges(per_track["address"], _country_blocks(config.countries))
    flag = _lookup(per_track["mid"], _country_mids(config.countries))
    side = pl.coalesce(explicit, military, by_callsign, registry, flag).alias("side")
    return per_track.select("track", side)


def _callsign_rank(config: SidesConfig) -> pl.Expr:
    """Index of the first callsign pattern that matches, null when none does."""
    if not config.callsigns:
        return pl.lit(None, dtype=pl.Int64)
    callsign = pl.col("callsign").str.to_uppercase()
    matches = [
        pl.when(callsign.str.contains(rule.pattern)).then(pl.lit(index, dtype=pl.Int64))
        for index, rule in enumerate(config.callsigns)
    ]
    return pl.coalesce(matches)


def _track_key() -> pl.Expr:
    """The track id as explicit ids are normalised: icao hex lower-case, MMSI nine digits."""
    track = pl.col("track")
    body = track.str.split_exact(":", 1).struct.field("field_1")
    return (
        pl.when(track.str.starts_with("icao:"))
        .then(track.str.to_lowercase())
        .when(track.str.starts_with("mmsi:"))
        .then(pl.lit("mmsi:") + body.str.zfill(9))
        .otherwise(track)
    )


def _icao_address() -> pl.Expr:
    key = pl.col("key")
    address = key.str.slice(5).str.to_integer(base=16, strict=False)
    return pl.when(key.str.starts_with("icao:")).then(address).otherwise(None)


def _mmsi_mid() -> pl.Expr:
    """The MID of every MMSI form that carries one (ship, group, coast, SAR, handheld, AtoN)."""
    key = pl.col("key")
    digits = pl.when(key.str.contains(r"^mmsi:[0-9]{9}$")).then(key.str.slice(5))
    return (
        pl.when(digits.str.contains(r"^[2-7]"))
        .then(digits.str.slice(0, 3))
        .when(digits.str.starts_with("111"))
        .then(digits.str.slice(3, 3))
        .when(digits.str.contains(r"^9[89]"))
        .then(digits.str.slice(2, 3))
        .when(digits.str.starts_with("8"))
        .then(digits.str.slice(1, 3))
        .when(digits.str.starts_with("00"))
        .then(digits.str.slice(2, 3))
        .when(digits.str.starts_with("0"))
        .then(digits.str.slice(1, 3))
        .otherwise(None)
    )


def _lookup(keys: pl.Series, mapping: Mapping[Any, str]) -> pl.Series:
    if not mapping:
        return pl.Series(keys.name, [None] * keys.len(), dtype=pl.String)
    old, new = list(mapping), list(mapping.values())
    return keys.replace_strict(old, new, default=None, return_dtype=pl.String)


def _lookup_ranges(addresses: pl.Series, ranges: Sequence[AddressRange]) -> pl.Series:
    """The party of the (sorted, non-overlapping) range each address falls in, else null."""
    if not ranges:
        return pl.Series(addresses.name, [None] * addresses.len(), dtype=pl.String)
    firsts = np.array([item.first for item in ranges], dtype=np.int64)
    lasts = np.array([item.last for item in ranges], dtype=np.int64)
    values = addresses.cast(pl.Int64).fill_null(-1).to_numpy()
    index = np.searchsorted(firsts, values, side="right") - 1
    safe = np.clip(index, 0, None)
    inside = (index >= 0) & (values <= lasts[safe])
    found = pl.Series(addresses.name, np.where(inside, index, -1), dtype=pl.Int64)
    return _lookup(found, {i: item.party for i, item in enumerate(ranges)})


def _country_blocks(countries: Iterable[tuple[str, str]]) -> list[AddressRange]:
    party_of = dict(countries)
    return [
        AddressRange(block.first, block.last, party_of[block.code])
        for block in icao_blocks()
        if block.code in party_of
    ]


def _country_mids(countries: Iterable[tuple[str, str]]) -> dict[str, str]:
    """MID -> party; a territory's own code outranks its State's code."""
    party_of = dict(countries)
    mids = {e.mid: party_of[e.state] for e in mid_entries() if e.state in party_of}
    mids.update({e.mid: party_of[e.code] for e in mid_entries() if e.code in party_of})
    return mids


__all__ = [
    "AddressRange",
    "CallsignPattern",
    "IcaoBlock",
    "MidEntry",
    "SidesConfig",
    "assign_sides",
    "by_registry_sides_path",
    "country_codes",
    "default_sides_path",
    "icao_blocks",
    "load_sides",
    "mid_entries",
    "parse_sides",
    "parties",
    "resolve_tracks",
]
