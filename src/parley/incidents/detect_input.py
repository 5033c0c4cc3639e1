"""What the registry reads of ``parley detect --json`` output, and what an ingest reports."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parley.errors import InputError

#: The contract version of ``parley detect --json`` this registry reads.
DETECT_CONTRACT_VERSION = 1


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """What one ingest did: incidents opened, incidents an encounter joined, encounters left."""

    opened: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    #: encounters below the policy's classes, or already in an incident
    skipped: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"opened": self.opened, "merged": self.merged, "skipped": self.skipped}


def detect_records(document: Any, where: str = "detect output") -> list[dict[str, Any]]:
    """The encounter records of a ``parley detect --json`` document (contract version 1)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("encounters"), list):
        raise InputError(f"{where}: not parley detect JSON output (no 'encounters' list)")
    version = (document.get("stats") or {}).get("contract_version", DETECT_CONTRACT_VERSION)
    if version != DETECT_CONTRACT_VERSION:
        raise InputError(f"{where}: contract version {version!r}, this Parley reads version 1")
    records: list[dict[str, Any]] = []
    for number, record in enumerate(document["encounters"], start=1):
        missing = [
            key
            for key in ("id", "a", "b", "sides", "kind", "start", "end", "cpa_time", "severity")
            if not isinstance(record, Mapping) or key not in record
        ]
        if missing:
            raise InputError(f"{where}: encounter {number} lacks {', '.join(missing)}")
        records.append(dict(record))
    return records


__all__ = ["DETECT_CONTRACT_VERSION", "IngestSummary", "detect_records"]
