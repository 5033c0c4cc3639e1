"""Activity files: JSON or TOML, one activity or several, the area a GeoJSON polygon.

Accepted shapes (``docs/activities.md`` has an example of each):

* JSON: one activity object, a list of them, or ``{"activities": [...]}``;
* GeoJSON: a Feature (its geometry is the area, its properties the other fields) or a
  FeatureCollection of such Features (what ``parley activity list --geojson`` writes);
* TOML (``.toml``): the fields of one activity at the top level, or ``[[activities]]`` tables.
"""

import json
import tomllib
from pathlib import Path
from typing import Any

from parley.activities.model import Activity, ActivityError, Origin, activity_from_mapping

#: Feature properties that ``list --geojson`` writes but a file does not set: the node decides
#: the party, origin and message, and the assessment is recomputed.
DERIVED_PROPERTIES = frozenset({"party", "origin", "msg_id", "assessment"})


def read_activity_file(path: Path, *, party: str, origin: Origin = "own") -> list[Activity]:
    """The activities of a file; :class:`ActivityError` names the file and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ActivityError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ActivityError(f"{path}: cannot be read ({exc})") from None
    if path.suffix.lower() == ".toml":
        try:
            document: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ActivityError(f"{path}: invalid TOML ({exc})") from None
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ActivityError(f"{path}: invalid JSON (line {exc.lineno}: {exc.msg})") from None
    items = _items(document, str(path))
    if not items:
        raise ActivityError(f"{path}: holds no activity")
    activities = [
        activity_from_mapping(data, where, party=party, origin=origin) for where, data in items
    ]
    seen: set[str] = set()
    for activity in activities:
        if activity.id in seen:
            raise ActivityError(f"{path}: activity id {activity.id!r} given twice")
        seen.add(activity.id)
    return activities


def activities_to_geojson(activities: list[Activity]) -> dict[str, Any]:
    """A FeatureCollection: each activity's area as geometry, its other fields as properties."""
    features = []
    for activity in activities:
        properties = activity.to_json()
        geometry = properties.pop("area")
        features.append(
            {"type": "Feature", "id": activity.id, "geometry": geometry, "properties": properties}
        )
    return {"type": "FeatureCollection", "features": features}


def _items(document: Any, where: str) -> list[tuple[str, Any]]:
    if isinstance(document, list):
        return [(f"{where}: [{i}]", item) for i, item in enumerate(document)]
    if not isinstance(document, dict):
        raise ActivityError(f"{where}: expected an activity object, a list or a GeoJSON Feature")
    if document.get("type") == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise ActivityError(f"{where}: features: expected a list of Features")
        return [(f"{where}: features[{i}]", _feature(f)) for i, f in enumerate(features)]
    if document.get("type") == "Feature":
        return [(f"{where}: feature", _feature(document))]
    if "activities" in document and set(document) == {"activities"}:
        listed = document["activities"]
        if not isinstance(listed, list):
            raise ActivityError(f"{where}: activities: expected a list of activities")
        return [(f"{where}: activities[{i}]", item) for i, item in enumerate(listed)]
    return [(f"{where}: activity", document)]


def _feature(feature: Any) -> Any:
    """A Feature's properties with its geometry as the area (properties win nothing here)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return feature  # activity_from_mapping names what is wrong
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        return properties
    kept = {
        key: value
        for key, value in properties.items()
        if key not in DERIVED_PROPERTIES and value is not None
    }
    return {**kept, "area": feature.get("geometry")}


__all__ = ["DERIVED_PROPERTIES", "activities_to_geojson", "read_activity_file"]
