"""The values an incident operation checks, and the one error it raises."""

import hashlib

from parley.errors import InputError
from parley.hotline.templates import CLASSIFICATION
from parley.incidents.model import CLASSES

#: The hotline catalogue's classifications of an event's nature (clarification reply, template 3).
NATURES: tuple[str, ...] = tuple(choice.value for choice in CLASSIFICATION)


class IncidentError(InputError):
    """An incident operation refused: unknown incident, impossible state change, bad value."""


class UnknownIncidentError(IncidentError):
    """No incident has this id (ours, or the peer's id for one of ours)."""


def check_class(value: str, what: str = "class") -> str:
    if value not in CLASSES:
        raise IncidentError(f"{what} {value!r}: expected one of {', '.join(CLASSES)}")
    return value


def check_nature(value: str | None) -> str | None:
    if value is not None and value not in NATURES:
        raise IncidentError(f"nature {value!r}: expected one of {', '.join(NATURES)}")
    return value


def new_incident_id(*parts: str) -> str:
    return "inc-" + hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:12]


__all__ = [
    "NATURES",
    "IncidentError",
    "UnknownIncidentError",
    "check_class",
    "check_nature",
    "new_incident_id",
]
