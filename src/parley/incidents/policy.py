"""When encounters open incidents by themselves, and when repeated encounters are one incident.

Read from ``incidents.toml`` in the node directory over the defaults::

    auto_classes = ["serious", "high-risk"]   # encounters of these classes open incidents
    merge_window_s = 21600                    # 6 h: same pair again within this -> same incident
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from parley.errors import ConfigError
from parley.incidents.model import CLASSES

POLICY_FILE = "incidents.toml"
DEFAULT_MERGE_WINDOW_S = 6 * 3600


@dataclass(frozen=True, slots=True)
class IncidentPolicy:
    """``auto_classes``: the classes that open an incident without a person; ``merge_window_s``:
    an encounter of a pair that starts within this many seconds of the end of an open incident of
    the same pair (or overlaps it) joins that incident instead of opening a new one."""

    auto_classes: tuple[str, ...] = ("serious", "high-risk")
    merge_window_s: float = DEFAULT_MERGE_WINDOW_S


def load_incident_policy(directory: Path) -> IncidentPolicy:
    """The node's policy: ``incidents.toml`` in its directory over the defaults."""
    path = Path(directory) / POLICY_FILE
    if not path.exists():
        return IncidentPolicy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"auto_classes", "merge_window_s"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r} (expected auto_classes, merge_window_s)"
        )
    default = IncidentPolicy()
    classes = data.get("auto_classes", list(default.auto_classes))
    if not isinstance(classes, list) or any(c not in CLASSES for c in classes):
        raise ConfigError(
            f"{path}: auto_classes must be a list of {', '.join(CLASSES)}, got {classes!r}"
        )
    window = data.get("merge_window_s", default.merge_window_s)
    if isinstance(window, bool) or not isinstance(window, int | float) or window < 0:
        raise ConfigError(f"{path}: merge_window_s must be a number >= 0, got {window!r}")
    return IncidentPolicy(tuple(str(c) for c in classes), float(window))


__all__ = ["DEFAULT_MERGE_WINDOW_S", "POLICY_FILE", "IncidentPolicy", "load_incident_policy"]
