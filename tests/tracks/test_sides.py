"""Sides: rule kinds, precedence, the packaged files, the reference tables, invalid files."""

from __future__ import annotations

import collections
import gzip
import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest

from parley.errors import ConfigError
from parley.tracks.schema import CANONICAL_SCHEMA
from parley.tracks.sides import (
    SidesConfig,
    assign_sides,
    by_registry_sides_path,
    country_codes,
    default_sides_path,
    icao_blocks,
    load_sides,
    mid_entries,
    parties,
)

NATO_MEMBERS = [
    *("AL", "BE", "BG", "CA", "HR", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IS", "IT"),
    *("LV", "LT", "LU", "ME", "NL", "MK", "NO", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "TR"),
    *("GB", "US"),
]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def write_sides(tmp_path: Path, text: str, name: str = "sides.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sides_of(
    config: SidesConfig, tracks: Sequence[str], callsigns: Sequence[str | None] | None = None
) -> list[str]:
    frame = pl.DataFrame(
        {"track": list(tracks), "callsign": list(callsigns or [None] * len(tracks))},
        schema={"track": pl.String, "callsign": pl.String},
    )
    return assign_sides(frame, config)["side"].to_list()


@pytest.fixture
def rules(tmp_path: Path) -> SidesConfig:
    return load_sides(
        write_sides(
            tmp_path,
            """
            [parties.blue]
            tracks = ["icao:00AA01", "mmsi:2320001", "radar:su27-2"]
            military_ranges = ["AE0000-AE0FFF", "ADF7C8"]
            callsigns = ['^BLU\\d']
            countries = ["de"]

            [parties.red]
            tracks = ["icao:ae0001"]
            military_ranges = ["150000-15FFFF"]
            callsigns = ['^RED\\d', '^BLUE']
            countries = ["RU"]

            [parties.civil]
            tracks = ["icao:ae0abc"]
            """,
        )
    )


# --- rule kinds ----------------------------------------------------------------------------------


def test_explicit_track_ids_normalise_case_and_mmsi_padding(rules: SidesConfig) -> None:
    tracks = ["icao:00aa01", "icao:00AA01", "mmsi:002320001", "radar:su27-2", "radar:su27-3"]
    assert sides_of(rules, tracks) == ["blue", "blue", "blue", "blue", "civil"]


def test_military_range_covers_its_ends_only(rules: SidesConfig) -> None:
    tracks = [
        "icao:adffff",
        "icao:ae0000",
        "icao:ae0fff",
        "icao:ae1000",
        "icao:adf7c8",
        "icao:adf7c9",
    ]
    assert sides_of(rules, tracks) == ["civil", "blue", "blue", "civil", "blue", "civil"]
    assert sides_of(rules, ["icao:155555", "icao:160000"]) == ["red", "red"]
    assert sides_of(rules, ["icao:aa0000", "mmsi:366000000"]) == ["civil", "civil"]


def test_callsign_patterns_match_upper_cased_and_anywhere_unless_anchored(
    rules: SidesConfig,
) -> None:
    tracks = ["icao:a00001", "icao:a00002", "icao:a00003", "icao:a00004"]
    callsigns = ["blu12", "XBLU12", "RED7", None]
    assert sides_of(rules, tracks, callsigns) == ["blue", "civil", "red", "civil"]


def test_callsign_of_one_row_gives_the_whole_track_its_side(rules: SidesConfig) -> None:
    tracks = ["icao:a00001", "icao:a00001", "icao:a00001"]
    assert sides_of(rules, tracks, [None, "RED1", None]) == ["red", "red", "red"]


def test_callsigns_of_two_parties_on_one_track_go_to_the_party_named_first(
    rules: SidesConfig,
) -> None:
    # '^BLUE' (red) and '^BLU\d' (blue) never both match; RED1 and BLU1 on one track: blue first
    assert sides_of(rules, ["icao:a00001"] * 2, ["RED1", "BLU1"]) == ["blue", "blue"]
    assert sides_of(rules, ["icao:a00002"], ["BLUEBIRD"]) == ["red"]


def test_country_of_registry_for_aircraft(rules: SidesConfig) -> None:
    tracks = ["icao:3c0000", "icao:3fffff", "icao:400000", "icao:100000", "icao:1fffff"]
    assert sides_of(rules, tracks) == ["blue", "blue", "civil", "red", "red"]


@pytest.mark.parametrize(
    ("mmsi", "side"),
    [
        ("211234560", "blue"),  # ship, Germany
        ("218000001", "blue"),  # ship, Germany (second MID)
        ("273318000", "red"),  # ship, Russia
        ("021112345", "blue"),  # group of ships, Germany
        ("002111234", "blue"),  # coast station, Germany
        ("111273123", "red"),  # SAR aircraft, Russia
        ("821112345", "blue"),  # handheld VHF, Germany
        ("982731234", "red"),  # craft associated with a parent ship, Russia
        ("992111234", "blue"),  # aid to navigation, Germany
        ("970123456", "civil"),  # AIS-SART: no MID
        ("232000000", "civil"),  # United Kingdom: no rule
        ("002320001", "blue"),  # explicit id (a British coast station otherwise)
    ],
)
def test_flag_state_from_every_mmsi_form(rules: SidesConfig, mmsi: str, side: str) -> None:
    assert sides_of(rules, [f"mmsi:{mmsi}"]) == [side]


def test_short_mmsi_is_padded_to_nine_digits(rules: SidesConfig) -> None:
    # 27331800 -> 027331800: a group call of MID 273 (Russia)
    assert sides_of(rules, ["mmsi:27331800"]) == ["red"]


def test_territory_code_outranks_its_state(tmp_path: Path) -> None:
    config = load_sides(
        write_sides(
            tmp_path,
            """
            [parties.a]
            countries = ["GB"]
            [parties.b]
            countries = ["GI"]
            """,
        )
    )
    assert sides_of(config, ["mmsi:232000000", "mmsi:236000000", "mmsi:310000000"]) == [
        "a",
        "b",
        "a",
    ]


# --- precedence ----------------------------------------------------------------------------------


def test_precedence_explicit_over_range_over_callsign_over_country(rules: SidesConfig) -> None:
    tracks = ["icao:ae0001", "icao:150001", "icao:3c1234", "icao:3c1235"]
    callsigns = ["BLU1", "BLU1", "RED1", None]
    # explicit (red) > range (blue); range (red) > callsign (blue); callsign (red) > country (blue)
    assert sides_of(rules, tracks, callsigns) == ["red", "red", "red", "blue"]


def test_explicit_civil_exempts_a_track_from_a_military_range(rules: SidesConfig) -> None:
    assert sides_of(rules, ["icao:ae0abc", "icao:ae0abd"]) == ["civil", "blue"]


def test_given_side_is_kept_and_only_nulls_are_filled(rules: SidesConfig) -> None:
    frame = pl.DataFrame(
        {
            "track": ["icao:3f0000", "icao:3f0000", "icao:a00001", None],
            "callsign": [None, None, None, "BLU1"],
            "side": ["red", None, "green", None],
        }
    )
    assert assign_sides(frame, rules)["side"].to_list() == ["red", "blue", "green", "civil"]


def test_frame_keeps_its_rows_order_and_columns(rules: SidesConfig) -> None:
    schema = dict(CANONICAL_SCHEMA)
    frame = (
        pl.DataFrame(
            {"track": ["mmsi:273000001", "icao:3f0000", "icao:000001"], "lat": [1.0, 2.0, 3.0]}
        )
        .with_columns(
            [
                pl.lit(None, dtype=dtype).alias(name)
                for name, dtype in schema.items()
                if name not in ("track", "lat")
            ]
        )
        .select(list(schema))
    )
    out = assign_sides(frame, rules)
    assert out.columns == list(schema)
    assert out.schema == frame.schema
    assert out["lat"].to_list() == [1.0, 2.0, 3.0]
    assert out["side"].to_list() == ["red", "blue", "civil"]


def test_frame_without_side_or_callsign_columns(rules: SidesConfig) -> None:
    out = assign_sides(pl.DataFrame({"track": ["icao:3f0000", "icao:000001"]}), rules)
    assert out["side"].to_list() == ["blue", "civil"]


def test_side_column_of_nulls_without_a_dtype(rules: SidesConfig) -> None:
    frame = pl.DataFrame({"track": ["icao:3f0000", "icao:000001"], "side": [None, None]})
    assert frame.schema["side"] == pl.Null
    out = assign_sides(frame, rules)
    assert out.schema["side"] == pl.String
    assert out["side"].to_list() == ["blue", "civil"]


def test_empty_frame(rules: SidesConfig) -> None:
    frame = pl.DataFrame(schema={"track": pl.String, "callsign": pl.String, "side": pl.String})
    assert assign_sides(frame, rules).height == 0


def test_parties_in_file_order_without_civil(rules: SidesConfig) -> None:
    assert parties(rules) == ["blue", "red"]
    assert rules.parties == ("blue", "red", "civil")


# --- the packaged files --------------------------------------------------------------------------


def test_default_is_the_military_picture() -> None:
    config = load_sides()
    assert config.source == str(default_sides_path())
    assert parties(config) == ["nato", "russia"]
    assert config.countries == ()
    assert config.tracks == ()
    tracks = [
        "icao:ae1234",
        "icao:3c6444",
        "icao:43c6b8",
        "icao:3b7777",
        "icao:155555",
        "icao:a1b2c3",
    ]
    callsigns = ["PSWRD35", "DLH123", "RRR820", "CTM1283", "RFF7090", "AAL100"]
    assert sides_of(config, tracks, callsigns) == [
        "nato",
        "civil",
        "nato",
        "nato",
        "russia",
        "civil",
    ]
    assert sides_of(config, ["icao:4d03f0"], ["NATO01"]) == ["nato"]
    assert sides_of(config, ["mmsi:273318000", "mmsi:211234560"]) == ["civil", "civil"]


def test_by_registry_splits_traffic_by_country() -> None:
    config = load_sides(by_registry_sides_path())
    assert parties(config) == ["nato", "russia"]
    assert sorted(code for code, party in config.countries if party == "nato") == sorted(
        NATO_MEMBERS
    )
    assert sorted(code for code, party in config.countries if party == "russia") == ["BY", "RU"]
    tracks = ["icao:3c6444", "icao:155555", "icao:510001", "icao:4b1234", "icao:ae1234"]
    assert sides_of(config, tracks) == ["nato", "russia", "russia", "civil", "nato"]
    ships = [
        "mmsi:273318000",
        "mmsi:211234560",
        "mmsi:269000000",
        "mmsi:310000000",
        "mmsi:206000000",
    ]
    assert sides_of(config, ships) == ["russia", "nato", "civil", "nato", "russia"]


def test_example_in_the_docs_loads_and_classifies(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "sides.md"
    example = docs.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    config = load_sides(write_sides(tmp_path, example))
    assert parties(config) == ["blue", "red"]
    tracks = ["icao:ae5678", "icao:ae5679", "radar:track-17", "mmsi:273000000", "icao:3c6444"]
    assert sides_of(config, tracks) == ["civil", "blue", "blue", "red", "blue"]


# --- the reference tables ------------------------------------------------------------------------


def test_icao_blocks_do_not_overlap_and_cover_every_nato_member() -> None:
    blocks = icao_blocks()
    for before, after in itertools.pairwise(blocks):
        assert before.last < after.first, (before, after)
    assert all(0 <= block.first <= block.last <= 0xFFFFFF for block in blocks)
    codes = [block.code for block in blocks]
    assert len(codes) == len(set(codes))
    for member in [*NATO_MEMBERS, "RU", "BY", "UA", "CH", "AT", "IE", "MT", "CY", "RS", "CN", "JP"]:
        assert member in codes, member


@pytest.mark.parametrize(
    ("code", "first", "last"),
    [
        ("RU", 0x100000, 0x1FFFFF),
        ("US", 0xA00000, 0xAFFFFF),
        ("DE", 0x3C0000, 0x3FFFFF),
        ("GB", 0x400000, 0x43FFFF),
        ("FR", 0x380000, 0x3BFFFF),
        ("IT", 0x300000, 0x33FFFF),
        ("CH", 0x4B0000, 0x4B7FFF),
        ("BY", 0x510000, 0x5103FF),
        ("UA", 0x508000, 0x50FFFF),
        ("FI", 0x460000, 0x467FFF),
        ("SE", 0x4A8000, 0x4AFFFF),
        ("CA", 0xC00000, 0xC3FFFF),
    ],
)
def test_known_icao_blocks(code: str, first: int, last: int) -> None:
    (block,) = [block for block in icao_blocks() if block.code == code]
    assert (block.first, block.last) == (first, last)


def test_mid_table() -> None:
    entries = mid_entries()
    mids = [entry.mid for entry in entries]
    assert len(mids) == len(set(mids))
    assert all(len(mid) == 3 and "2" <= mid[0] <= "7" for mid in mids)
    code_of = {entry.mid: entry.code for entry in entries}
    state_of = {entry.mid: entry.state for entry in entries}
    assert code_of["273"] == "RU"
    assert code_of["206"] == "BY"
    assert code_of["211"] == code_of["218"] == "DE"
    assert [code_of[mid] for mid in ("232", "233", "234", "235")] == ["GB"] * 4
    assert [code_of[mid] for mid in ("303", "338", "366", "367", "368", "369")] == ["US"] * 6
    assert code_of["230"] == "FI"
    assert code_of["265"] == code_of["266"] == "SE"
    assert (code_of["236"], state_of["236"]) == ("GI", "GB")
    assert (code_of["331"], state_of["331"]) == ("GL", "DK")
    assert set(NATO_MEMBERS) <= {entry.state for entry in entries}


def test_country_codes_join_both_tables() -> None:
    codes = country_codes()
    assert {"US", "RU", "GI", "GL", "HK"} <= codes
    assert "XK" not in codes


# --- invalid files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[parties.nato\n", "invalid TOML"),
        ('description = "x"\n[parties.nato]\ncallsigns = [^A]\n', "at line 3"),
        ('colour = "red"\n[parties.nato]\n', "unknown key 'colour'"),
        ('[parties.nato]\nmembers = ["US"]\n', "unknown key 'members'"),
        ('[parties.nato]\nmilitary_ranges = ["AE00-AFFFFF"]\n', "bad hex range 'AE00-AFFFFF'"),
        ('[parties.nato]\nmilitary_ranges = ["AFFFFF-AE0000"]\n', "above the last"),
        ('[parties.nato]\nmilitary_ranges = ["GG0000-GGFFFF"]\n', "bad hex range"),
        ("[parties.nato]\ncallsigns = ['^RCH(\\d']\n", "does not compile"),
        ("[parties.nato]\ncallsigns = ['']\n", "empty callsign pattern"),
        ('[parties.nato]\ncountries = ["XX"]\n', "unknown country code 'XX'"),
        ('[parties.nato]\ncountries = "US"\n', "must be a list of strings"),
        ('[parties.""]\ncountries = ["US"]\n', "empty party name"),
        ('[parties."Blue Team"]\n', "party name"),
        ('[parties.nato]\ntracks = ["icao:12345"]\n', "bad track id"),
        ('[parties.nato]\ntracks = ["mmsi:27331800x"]\n', "bad track id"),
        ('[parties.nato]\ntracks = ["no-prefix"]\n', "bad track id"),
        ('description = "x"\n', "at least one party"),
        ("parties = 3\n", "at least one party"),
        ("[parties]\nnato = 3\n", "must be a table"),
        (
            '[parties.a]\ncountries = ["US"]\n[parties.b]\ncountries = ["us"]\n',
            "claimed by party 'a'",
        ),
        (
            '[parties.a]\ntracks = ["icao:AE0001"]\n[parties.b]\ntracks = ["icao:ae0001"]\n',
            "claimed",
        ),
        (
            "[parties.a]\ncallsigns = ['^X']\n[parties.b]\ncallsigns = ['^X']\n",
            "claimed by party 'a'",
        ),
        (
            '[parties.a]\nmilitary_ranges = ["AE0000-AEFFFF"]\n'
            '[parties.b]\nmilitary_ranges = ["AEF000-AF0000"]\n',
            "overlaps AE0000-AEFFFF of party 'a'",
        ),
    ],
)
def test_invalid_files_raise_one_line_config_error_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write_sides(tmp_path, text, "bad-sides.toml")
    with pytest.raises(ConfigError) as caught:
        load_sides(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sides file not found"):
        load_sides(tmp_path / "nope.toml")


def test_overlapping_ranges_of_one_party_merge(tmp_path: Path) -> None:
    config = load_sides(
        write_sides(
            tmp_path,
            '[parties.a]\nmilitary_ranges = ["AE0000-AE0FFF", "AE0800-AE1FFF", "AE2000"]\n',
        )
    )
    assert [(r.first, r.last) for r in config.military_ranges] == [
        (0xAE0000, 0xAE1FFF),
        (0xAE2000, 0xAE2000),
    ]


# --- real data -----------------------------------------------------------------------------------


@pytest.mark.shared
def test_switzerland_sample_splits_by_registry() -> None:
    path = SHARED / "adsb" / "switzerland.json.gz"
    if not path.exists():
        pytest.skip(f"{path} is missing (the shared data folder is not here)")
    with gzip.open(path, "rt") as handle:
        records = json.load(handle)
    frame = pl.DataFrame(
        {
            "track": [f"icao:{record['icao24']}" for record in records],
            "callsign": [(record["callsign"] or "").strip() or None for record in records],
        }
    )
    by_registry = assign_sides(frame, load_sides(by_registry_sides_path()))
    side_of = dict(by_registry.unique("track").select("track", "side").iter_rows())
    counts = collections.Counter(side_of.values())
    # 842 aircraft, most on NATO members' registers; Russia's: one RA- registered jet and the
    # Bermuda-registered fleets of Aeroflot, Rossiya, S7 and Pobeda, placed by their callsigns
    assert len(side_of) == 842
    assert counts["nato"] > counts["civil"] > counts["russia"] > 0
    assert side_of["icao:1506ab"] == "russia"  # RA67243, in Russia's block
    assert side_of["icao:3003ae"] == "nato"  # DLH8JW, in Italy's block
    for prefix in ("AFL", "SDM", "SBI", "PBD"):
        flights = by_registry.filter(pl.col("callsign").str.starts_with(prefix))
        assert flights.height > 0
        assert set(flights["side"]) == {"russia"}
        assert flights["track"].str.starts_with("icao:424").all()  # the Bermuda register
    military = assign_sides(frame, load_sides())
    assert set(military["side"]) == {"civil"}  # no military aircraft in this sample
