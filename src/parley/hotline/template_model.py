"""The shape of a message template: its fields, their kinds and how a value is checked.

Field values travel as strings. The kinds: ``line`` (one line of text), ``text`` (may hold line
breaks), ``time`` (ISO 8601 UTC ending in ``Z``), ``integer`` and ``decimal`` (plain decimal
notation, no exponent, within the field's bounds), ``choice`` (one of the listed values, rendered
as its label in the reader's language), ``msg_id``, ``fingerprint`` (as :mod:`parley.hotline.keys`
prints it) and ``sha256`` (64 lower-case hex digits).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from parley.errors import InputError
from parley.hotline.msgid import is_msg_id

Language = Literal["en", "ru"]
FieldKind = Literal[
    "line", "text", "time", "integer", "decimal", "choice", "msg_id", "fingerprint", "sha256"
]
LANGUAGES: tuple[Language, ...] = ("en", "ru")

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,14})")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,9})?")
_FINGERPRINT = re.compile(r"([0-9a-f]{4} ){15}[0-9a-f]{4}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_KIND_HINT = {
    "line": "one line of text",
    "text": "text",
    "time": "an ISO 8601 UTC time such as 2024-05-01T12:30:00Z",
    "integer": "a whole number",
    "decimal": "a decimal number such as 12.5",
    "choice": "one of the listed values",
    "msg_id": "a message id (26 Crockford base32 characters)",
    "fingerprint": "a key fingerprint (16 groups of 4 hex digits)",
    "sha256": "a SHA-256 digest (64 lower-case hex digits)",
}


class TemplateError(InputError):
    """A template id, a field value or a language that the catalogue cannot render."""


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    en: str
    ru: str


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: FieldKind
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 200
    choices: tuple[Choice, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "max_length": self.max_length,
            "choices": [{"value": c.value, "en": c.en, "ru": c.ru} for c in self.choices],
        }


@dataclass(frozen=True, slots=True)
class Template:
    """One numbered message form. ``chronological`` pairs of time fields must be in order."""

    id: int
    key: str
    name_en: str
    name_ru: str
    fields: tuple[FieldSpec, ...]
    en: tuple[str, ...]
    ru: tuple[str, ...]
    expects_answer: bool = False
    answered_by: tuple[int, ...] = ()
    requires_ack: bool = True
    chronological: tuple[tuple[str, str], ...] = ()

    def field(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.name == name), None)

    def lines(self, language: Language) -> tuple[str, ...]:
        return self.en if language == "en" else self.ru

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "key": self.key,
            "name": {"en": self.name_en, "ru": self.name_ru},
            "fields": [spec.to_json() for spec in self.fields],
            "text": {"en": list(self.en), "ru": list(self.ru)},
            "expects_answer": self.expects_answer,
            "answered_by": list(self.answered_by),
            "requires_ack": self.requires_ack,
            "chronological": [list(pair) for pair in self.chronological],
        }


def field_problem(spec: FieldSpec, value: object) -> str | None:
    """Why ``value`` does not fit ``spec``, or None."""
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    hint = _KIND_HINT[spec.kind]
    if not value.strip():
        return "is empty"
    if len(value) > spec.max_length:
        return f"longer than {spec.max_length} characters"
    if spec.kind == "line" and _CONTROL_IN_LINE.search(value):
        return "holds control characters or line breaks"
    if spec.kind == "text" and _CONTROL_IN_TEXT.search(value):
        return "holds control characters"
    if spec.kind == "choice" and value not in {c.value for c in spec.choices}:
        return f"{value!r} is not one of {', '.join(c.value for c in spec.choices)}"
    if spec.kind == "msg_id" and not is_msg_id(value):
        return f"{value!r} is not {hint}"
    if spec.kind == "fingerprint" and not _FINGERPRINT.fullmatch(value):
        return f"{value!r} is not {hint}"
    if spec.kind == "sha256" and not _SHA256.fullmatch(value):
        return f"{value!r} is not {hint}"
    if spec.kind == "time" and parse_field_time(value) is None:
        return f"{value!r} is not {hint}"
    if spec.kind in ("integer", "decimal"):
        return _number_problem(spec, value, hint)
    return None


def _number_problem(spec: FieldSpec, value: str, hint: str) -> str | None:
    pattern = _INTEGER if spec.kind == "integer" else _DECIMAL
    if not pattern.fullmatch(value):
        return f"{value!r} is not {hint}"
    number = Decimal(value)
    if spec.minimum is not None and number < spec.minimum:
        return f"{value} is below the minimum {spec.minimum}"
    if spec.maximum is not None and number > spec.maximum:
        return f"{value} is above the maximum {spec.maximum}"
    return None


def parse_field_time(value: str) -> datetime | None:
    """The UTC datetime of a ``time`` field value, or None when it is not one."""
    if not _TIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


__all__ = [
    "LANGUAGES",
    "Choice",
    "FieldKind",
    "FieldSpec",
    "Language",
    "Template",
    "TemplateError",
    "field_problem",
    "parse_field_time",
]
