"""A scenario's parameters: a TOML file shipped with the package, overridden value by value.

The shipped file is the documentation of every assumption (its comments say which values are facts
and which are assumed); an override file holds only the values it changes, in the same tables.
"""

import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parley.errors import InputError

PARAMS_FOLDER = Path(__file__).resolve().parent / "data"

Params = dict[str, Any]


def params_path(name: str) -> Path:
    return PARAMS_FOLDER / f"{name}.toml"


def params_text(name: str) -> str:
    """The shipped parameter file, comments included."""
    return params_path(name).read_text(encoding="utf-8")


def default_params(name: str) -> Params:
    return tomllib.loads(params_text(name))


def read_params_file(path: Path) -> Params:
    """An override file; a user's mistake is one clear line."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc


def merged(defaults: Mapping[str, Any], overrides: Mapping[str, Any], where: str = "") -> Params:
    """``defaults`` with ``overrides`` applied; a key the defaults do not have is an error.

    Tables merge key by key; any other value (arrays included) is replaced whole.
    """
    result: Params = dict(defaults)
    for key, value in overrides.items():
        name = f"{where}.{key}" if where else key
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise InputError(f"unknown scenario parameter {name!r} (known here: {known})")
        current = defaults[key]
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = merged(current, value, name)
        else:
            result[key] = value
    return result


def as_utc(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InputError(f"scenario parameter {name!r} must be a date-time with an offset")
    return value.astimezone(UTC)


def as_position(value: Any, name: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) for v in value)
    ):
        raise InputError(f"scenario parameter {name!r} must be [lat, lon] in degrees")
    return float(value[0]), float(value[1])


__all__ = [
    "PARAMS_FOLDER",
    "Params",
    "as_position",
    "as_utc",
    "default_params",
    "merged",
    "params_path",
    "params_text",
    "read_params_file",
]
