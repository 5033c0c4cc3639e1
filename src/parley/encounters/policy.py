"""The policy: every number of ``rules.md`` as a setting, overridable by a TOML file.

Defaults are the published numbers of ``rules.md`` (ICAO Doc 4444, TCAS, DO-365, US EUCOM,
OpenCPN, seamanship practice). Where rules.md gives a number in feet or yards with a rounded metre
value beside it, the default is the exact conversion (1,000 ft = 304.8 m, not 305 m): altitudes are
reported in whole flight levels, and two aircraft 1,000 ft apart are separated, not "under
1,000 ft". A policy file overrides any of them; unknown keys and impossible values are errors
naming the file and the field.
"""

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, ValidationError, model_validator

from parley.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PairsPolicy(_Section):
    """Which pairs of tracks are examined."""

    #: "all" (every party against every other party) or explicit pairs of party names.
    parties: Literal["all"] | list[tuple[str, str]] = "all"
    #: A party's aircraft with its transponder off is also examined against civil aircraft.
    civil_safety: bool = True


class VolumesPolicy(_Section):
    """Monitoring volumes: an episode is a stay inside them."""

    air_air_horizontal_m: PositiveFloat = 9260.0
    air_air_vertical_m: PositiveFloat = 304.8  # 1,000 ft: adjacent flight levels are outside
    air_sea_horizontal_m: PositiveFloat = 9260.0
    air_sea_max_altitude_m: PositiveFloat = 914.4  # 3,000 ft
    sea_sea_horizontal_m: PositiveFloat = 3704.0


class GapsPolicy(_Section):
    """Interpolation gaps and episode merge gaps."""

    air_max_gap_s: PositiveFloat = 60.0
    sea_max_gap_s: PositiveFloat = 600.0
    air_merge_gap_s: PositiveFloat = 60.0
    sea_merge_gap_s: PositiveFloat = 600.0


class FeaturesPolicy(_Section):
    closure_slant_m: PositiveFloat = 150.0
    pass_radius_air_air_m: PositiveFloat = 304.8  # 1,000 ft
    pass_radius_air_sea_m: PositiveFloat = 914.4  # 1,000 yd
    pass_radius_sea_sea_m: PositiveFloat = 926.0
    pass_rearm_factor: float = Field(default=1.5, gt=1.0)
    orbit_radius_m: PositiveFloat = 1000.0
    overflight_horizontal_m: PositiveFloat = 30.0
    overflight_vertical_m: PositiveFloat = 150.0
    low_fast_pass_horizontal_m: PositiveFloat = 100.0
    low_fast_pass_altitude_m: PositiveFloat = 150.0
    low_fast_pass_speed_mps: PositiveFloat = 50.0


class AirAirClasses(_Section):
    high_risk_slant_m: PositiveFloat = 150.0
    high_risk_closure_mps: PositiveFloat = 25.0
    civil_high_risk_slant_m: PositiveFloat = 300.0
    escort_slant_m: PositiveFloat = 150.0
    escort_max_closure_mps: PositiveFloat = 5.0
    serious_slant_m: PositiveFloat = 150.0
    serious_passes: int = Field(default=3, ge=1)
    civil_serious_horizontal_m: PositiveFloat = 1852.0


class AirSeaClasses(_Section):
    serious_pass_m: PositiveFloat = 914.4  # 1,000 yd
    serious_altitude_m: PositiveFloat = 304.8  # 1,000 ft
    serious_orbits: int = Field(default=2, ge=1)


class SeaSeaClasses(_Section):
    high_risk_horizontal_m: PositiveFloat = 100.0
    serious_horizontal_m: PositiveFloat = 926.0


class ClassesPolicy(_Section):
    air_air: AirAirClasses = AirAirClasses()
    air_sea: AirSeaClasses = AirSeaClasses()
    sea_sea: SeaSeaClasses = SeaSeaClasses()


class WarningPolicy(_Section):
    """Live predictive warnings (look-ahead of the straight-line projection)."""

    air_lookahead_s: PositiveFloat = 60.0
    sea_lookahead_s: PositiveFloat = 1200.0


class Policy(_Section):
    """The whole policy. ``Policy()`` is the default of rules.md."""

    name: str = "parley-default"
    pairs: PairsPolicy = PairsPolicy()
    volumes: VolumesPolicy = VolumesPolicy()
    gaps: GapsPolicy = GapsPolicy()
    features: FeaturesPolicy = FeaturesPolicy()
    classes: ClassesPolicy = ClassesPolicy()
    warning: WarningPolicy = WarningPolicy()

    @model_validator(mode="after")
    def _passes_inside_volumes(self) -> "Policy":
        if self.features.pass_radius_sea_sea_m > self.volumes.sea_sea_horizontal_m:
            raise ValueError("features.pass_radius_sea_sea_m exceeds volumes.sea_sea_horizontal_m")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown setting"
    return f"{where}: {message}"


def load_policy(path: Path | None = None) -> Policy:
    """The default policy, overridden by the TOML file at ``path`` when given."""
    if path is None:
        return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such policy file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}: {_describe(dict(first))}{more}") from exc


__all__ = ["Policy", "load_policy"]
