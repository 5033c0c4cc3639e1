"""The Vienna Document thresholds as a policy, every number overridable by a TOML file.

Defaults are those of the Vienna Document 2011 as issue 5 states them: an activity is notifiable
42 days ahead from 9,000 troops, or 250 battle tanks, or 500 armoured combat vehicles, or 250
artillery pieces (Ch. V); observation is required from 13,000 troops (Ch. VI); a snap exercise is
notified when it starts. Observation thresholds for the other forces exist as settings but are
off by default (the issue names troops only). A policy file overrides any number; unknown keys and
impossible values are errors naming the file and the field.
"""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveInt, ValidationError

from parley.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NotificationThresholds(_Section):
    """Any one figure at or above its threshold makes an activity notifiable."""

    troops: PositiveInt = 9_000
    battle_tanks: PositiveInt = 250
    armoured_combat_vehicles: PositiveInt = 500
    artillery_pieces: PositiveInt = 250
    #: How many days before its start a planned activity must be notified.
    notice_days: PositiveInt = 42


class ObservationThresholds(_Section):
    """Any one figure at or above its threshold requires observers; ``None``: not a criterion."""

    troops: PositiveInt | None = 13_000
    battle_tanks: PositiveInt | None = None
    armoured_combat_vehicles: PositiveInt | None = None
    artillery_pieces: PositiveInt | None = None


class SnapPolicy(_Section):
    """A snap exercise is notified when it starts; this much later is still on time."""

    grace_s: NonNegativeFloat = 0.0


class ActivityPolicy(_Section):
    """The whole policy. ``ActivityPolicy()`` is the Vienna Document 2011."""

    name: str = "vienna-document-2011"
    notification: NotificationThresholds = Field(default_factory=NotificationThresholds)
    observation: ObservationThresholds = Field(default_factory=ObservationThresholds)
    snap: SnapPolicy = Field(default_factory=SnapPolicy)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def load_activity_policy(path: Path | None = None) -> ActivityPolicy:
    """The default policy, overridden by the TOML file at ``path`` when given."""
    if path is None:
        return ActivityPolicy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such policy file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc
    try:
        return ActivityPolicy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = "unknown setting" if first["type"] == "extra_forbidden" else str(first["msg"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}: {where}: {message}{more}") from exc


__all__ = [
    "ActivityPolicy",
    "NotificationThresholds",
    "ObservationThresholds",
    "SnapPolicy",
    "load_activity_policy",
]
