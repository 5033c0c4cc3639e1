"""The escalation policy: deadlines, re-notification intervals and the ladder's levels.

Read from ``escalation.toml`` in the node directory over the defaults. Each of ``[delivery]``,
``[acknowledgement]``, ``[answer]`` (our messages) and ``[inbound]`` (the peer's messages awaiting
our acknowledgement) may set ``deadline_s``, ``renotify_s`` and ``notices_per_level``.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from parley.errors import ConfigError

POLICY_FILE = "escalation.toml"
#: The tracks of our own messages.
TRACKS = ("delivery", "acknowledgement", "answer")
#: The track of a peer's message that our officers have not acknowledged yet.
INBOUND = "inbound"
LEVELS = ("duty-officer", "senior-officer", "political-liaison")
_ALL_TRACKS = (*TRACKS, INBOUND)


@dataclass(frozen=True, slots=True)
class TrackPolicy:
    """Seconds from the track's start to its first notification, then between notifications."""

    deadline_s: int
    renotify_s: int
    notices_per_level: int = 2

    def offsets(self, levels: int) -> list[int]:
        """The offset of each step, level by level, then of the ladder's end."""
        count = levels * self.notices_per_level
        return [self.deadline_s + n * self.renotify_s for n in range(count + 1)]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    delivery: TrackPolicy = TrackPolicy(deadline_s=120, renotify_s=300)
    acknowledgement: TrackPolicy = TrackPolicy(deadline_s=600, renotify_s=300)
    answer: TrackPolicy = TrackPolicy(deadline_s=4 * 3600, renotify_s=900)
    inbound: TrackPolicy = TrackPolicy(deadline_s=120, renotify_s=120)
    levels: tuple[str, ...] = LEVELS

    def track(self, name: str) -> TrackPolicy:
        policy: TrackPolicy = getattr(self, name)
        return policy

    def to_json(self) -> dict[str, Any]:
        tracks = {name: asdict(self.track(name)) for name in _ALL_TRACKS}
        return {**tracks, "levels": list(self.levels)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EscalationPolicy":
        return _policy({name: TrackPolicy(**data[name]) for name in _ALL_TRACKS}, data["levels"])


def load_policy(directory: Path) -> EscalationPolicy:
    """The node's policy: ``escalation.toml`` in its directory over the defaults."""
    path = Path(directory) / POLICY_FILE
    default = EscalationPolicy()
    if not path.exists():
        return default
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - set(_ALL_TRACKS))
    if unknown:
        expected = ", ".join(_ALL_TRACKS)
        raise ConfigError(f"{path}: unknown table [{unknown[0]}] (expected {expected})")
    tracks = {
        name: _track_policy(path, name, default.track(name), data.get(name, {}))
        for name in _ALL_TRACKS
    }
    return _policy(tracks, LEVELS)


def _policy(tracks: Mapping[str, TrackPolicy], levels: Any) -> EscalationPolicy:
    return EscalationPolicy(
        delivery=tracks["delivery"],
        acknowledgement=tracks["acknowledgement"],
        answer=tracks["answer"],
        inbound=tracks[INBOUND],
        levels=tuple(str(level) for level in levels),
    )


def _track_policy(path: Path, name: str, default: TrackPolicy, data: object) -> TrackPolicy:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    values = asdict(default)
    for key, value in data.items():
        if key not in values:
            raise ConfigError(f"{path}: [{name}] unknown setting {key!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{path}: [{name}] {key} must be a positive integer, got {value!r}")
        values[key] = value
    return TrackPolicy(**values)


__all__ = [
    "INBOUND",
    "LEVELS",
    "POLICY_FILE",
    "TRACKS",
    "EscalationPolicy",
    "TrackPolicy",
    "load_policy",
]
