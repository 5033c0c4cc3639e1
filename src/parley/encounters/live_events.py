"""The events of the live detector: predictive warnings and encounters, each with ``to_json()``."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from parley.encounters.output import iso

WARNING_RAISED: Final = "warning.raised"
WARNING_UPDATED: Final = "warning.updated"
WARNING_WITHDRAWN: Final = "warning.withdrawn"
ENCOUNTER_OPENED: Final = "encounter.opened"
ENCOUNTER_UPDATED: Final = "encounter.updated"
ENCOUNTER_CLOSED: Final = "encounter.closed"
EVENT_TYPES = (
    WARNING_RAISED,
    WARNING_UPDATED,
    WARNING_WITHDRAWN,
    ENCOUNTER_OPENED,
    ENCOUNTER_UPDATED,
    ENCOUNTER_CLOSED,
)

WarningType = Literal["warning.raised", "warning.updated", "warning.withdrawn"]
EncounterType = Literal["encounter.opened", "encounter.updated", "encounter.closed"]


@dataclass(frozen=True, slots=True)
class WarningEvent:
    """A predicted close approach of a pair, raised before it happens.

    ``predicted_cpa_m`` is the distance the deciding rule measures (the slant range for air–air,
    the horizontal distance otherwise), reached at ``predicted_cpa_time``; ``time`` is the data
    time of the prediction. ``severity`` is the class the predicted approach would have
    (``serious`` or ``high-risk``); ``upgraded`` marks an update that raised it. A withdrawn
    warning says why in ``withdrawn_reason`` (``clear``: the prediction no longer reaches a
    serious distance; ``passed``: the predicted moment is over; ``track-lost``: a track fell
    silent longer than its interpolation gap).
    """

    type: WarningType
    id: str
    time: datetime
    a: str
    b: str
    sides: tuple[str, str]
    kind: str
    severity: str
    reasons: tuple[str, ...]
    predicted_cpa_time: datetime
    predicted_cpa_m: float
    predicted_slant_m: float
    predicted_horizontal_m: float
    predicted_vertical_m: float
    time_to_cpa_s: float
    lookahead_s: float
    upgraded: bool = False
    withdrawn_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.id,
            "time": iso(self.time),
            "a": self.a,
            "b": self.b,
            "sides": list(self.sides),
            "kind": self.kind,
            "severity": self.severity,
            "reasons": list(self.reasons),
            "predicted_cpa_time": iso(self.predicted_cpa_time),
            "predicted_cpa_m": round(self.predicted_cpa_m, 2),
            "predicted_slant_m": round(self.predicted_slant_m, 2),
            "predicted_horizontal_m": round(self.predicted_horizontal_m, 2),
            "predicted_vertical_m": round(self.predicted_vertical_m, 2),
            "time_to_cpa_s": round(self.time_to_cpa_s, 2),
            "lookahead_s": self.lookahead_s,
            "upgraded": self.upgraded,
            "withdrawn_reason": self.withdrawn_reason,
        }


@dataclass(frozen=True, slots=True)
class EncounterEvent:
    """An episode seen live: opened, updated while it lasts, closed once the merge gap has passed.

    ``encounter`` is the record of the JSON contract of ``docs/detect.md`` (the same dict
    ``parley detect --json`` prints), as measured on the data received so far; the closed record
    is final. ``live_id`` is stable over the episode's events (its first ``encounter["id"]``;
    the contract id, a hash of the episode's start, can still move while more data arrives).
    """

    type: EncounterType
    live_id: str
    time: datetime
    encounter: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "live_id": self.live_id,
            "time": iso(self.time),
            "encounter": self.encounter,
        }


LiveEvent = WarningEvent | EncounterEvent

__all__ = [
    "ENCOUNTER_CLOSED",
    "ENCOUNTER_OPENED",
    "ENCOUNTER_UPDATED",
    "EVENT_TYPES",
    "WARNING_RAISED",
    "WARNING_UPDATED",
    "WARNING_WITHDRAWN",
    "EncounterEvent",
    "LiveEvent",
    "WarningEvent",
]
