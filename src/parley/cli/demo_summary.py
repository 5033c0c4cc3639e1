"""The end of ``parley demo``: wait for the hotline exchange, then say what happened and if it is
what the April 2016 record says should happen."""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from parley.cli.demo_desks import DemoError, Desk
from parley.cli.demo_drill import Drill, parse_time

_SETTLED_STATES = {"acknowledged", "clarified", "closed"}


@dataclass(frozen=True, slots=True)
class EncounterLine:
    """One expected encounter and what each desk made of it."""

    pair: tuple[str, str]
    event: str
    expected: str
    detected: dict[str, str | None]
    warning_lead_s: float | None
    incident: dict[str, Any] | None
    their_class: str | None

    @property
    def ok(self) -> bool:
        return all(found == self.expected for found in self.detected.values())


@dataclass(slots=True)
class DemoOutcome:
    lines: list[EncounterLine]
    unexpected: list[str]
    warnings: dict[str, int]
    exchanges: dict[str, int]
    replayed_s: float
    settled: bool
    errors: list[str] = field(default_factory=list)

    @property
    def warned_before(self) -> int:
        return sum(1 for line in self.lines if line.warning_lead_s is not None)

    @property
    def ok(self) -> bool:
        return (
            self.replayed_s >= 0
            and self.settled
            and not self.errors
            and all(line.ok and line.incident is not None for line in self.lines)
            and self.warned_before >= 1
        )


def _incidents(desk: Desk) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = desk.call("GET", "/api/v1/incidents")
    return found


def _settled(notifier: Desk, answerer: Desk, drill: Drill) -> bool:
    incidents = _incidents(notifier)
    if not incidents or any(i["id"] not in drill.log.notified for i in incidents):
        return False
    if any(i["state"] not in _SETTLED_STATES for i in incidents):
        return False
    for incident in incidents:
        detail = notifier.call("GET", f"/api/v1/incidents/{incident['id']}")
        if detail["accounts"]["theirs"] is None:
            return False
    answered = {i["id"] for i in _incidents(answerer) if i["state"] in _SETTLED_STATES}
    return answered >= {i["id"] for i in incidents}


def wait_for_exchange(drill: Drill, notifier: Desk, answerer: Desk, timeout_s: float) -> bool:
    """Wait until every incident of the notifier is notified, acknowledged and answered."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if _settled(notifier, answerer, drill):
                return True
        except DemoError:
            pass  # a desk resyncing or busy: look again
        time.sleep(0.5)
    return False


def _pair(a: str, b: str) -> tuple[str, str]:
    first, second = sorted((a, b))
    return first, second


def outcome_of(
    drill: Drill,
    notifier: Desk,
    answerer: Desk,
    expected: Sequence[Mapping[str, Any]],
    replayed_s: float,
    settled: bool,
) -> DemoOutcome:
    log = drill.log
    incidents = _safe_incidents(notifier)
    lines: list[EncounterLine] = []
    matched: set[str] = set()
    for item in expected:
        pair = _pair(*item["pair"])
        found = {
            desk.party: _during(log.closed.get(desk.party, []), pair, item, "cpa_time")
            for desk in (notifier, answerer)
        }
        matched |= {record["id"] for record in found.values() if record is not None}
        detected = {party: None if r is None else r["severity"] for party, r in found.items()}
        record = found[notifier.party]
        incident = _during(incidents, pair, item, "cpa_time", tracks=("our_track", "their_track"))
        lines.append(
            EncounterLine(
                pair=pair,
                event=str(item.get("event", "")),
                expected=str(item["severity"]),
                detected=detected,
                warning_lead_s=_lead(drill, notifier.party, pair, record),
                incident=incident,
                their_class=_their_class(notifier, incident),
            )
        )
    unexpected = sorted(
        f"{party}: {r['a']} / {r['b']} at {r['cpa_time']} ({r['severity']})"
        for party, records in log.closed.items()
        for r in records
        if r["id"] not in matched and r["severity"] != "routine"
    )
    exchanges = {
        "notified": len(log.notified),
        "acknowledged": len(log.acknowledged),
        "answered": len(log.answered),
    }
    return DemoOutcome(
        lines,
        unexpected,
        dict(log.warnings),
        exchanges,
        replayed_s,
        settled,
        list(log.errors),
    )


#: The longest look-ahead of a warning (ships: 20 minutes), to tie a warning to its encounter.
WARNING_HORIZON_S = 1200.0
#: How far outside the record's start and end an encounter of its event may lie.
EVENT_SLACK_S = 900.0


def _during(
    found: Sequence[dict[str, Any]],
    pair: tuple[str, str],
    item: Mapping[str, Any],
    time_key: str,
    tracks: tuple[str, str] = ("a", "b"),
) -> dict[str, Any] | None:
    """The first of ``found`` of ``pair`` whose ``time_key`` lies within the expected event."""
    start, end = parse_time(str(item["start"])), parse_time(str(item["end"]))
    for candidate in found:
        if _pair(candidate[tracks[0]], candidate[tracks[1]]) != pair:
            continue
        moment = candidate.get(time_key)
        if moment is None:
            continue
        offset = (parse_time(moment) - start).total_seconds()
        if -EVENT_SLACK_S <= offset <= (end - start).total_seconds() + EVENT_SLACK_S:
            return candidate
    return None


def _safe_incidents(desk: Desk) -> list[dict[str, Any]]:
    try:
        return _incidents(desk)
    except DemoError:
        return []


def _lead(drill: Drill, party: str, pair: tuple[str, str], record: Any) -> float | None:
    """Seconds (data time) from the first warning of the pair for this encounter (raised at
    most :data:`WARNING_HORIZON_S` before it began) to its closest approach."""
    if record is None:
        return None
    start, cpa = parse_time(record["start"]), parse_time(record["cpa_time"])
    leads = [
        (cpa - moment).total_seconds()
        for moment in drill.log.warning_times.get((party, frozenset(pair)), [])
        if (start - moment).total_seconds() <= WARNING_HORIZON_S and moment < cpa
    ]
    return max(leads) if leads else None


def _their_class(desk: Desk, incident: dict[str, Any] | None) -> str | None:
    if incident is None:
        return None
    try:
        detail = desk.call("GET", f"/api/v1/incidents/{incident['id']}")
    except DemoError:
        return None
    theirs = detail["accounts"]["theirs"]
    return None if theirs is None else str(theirs["classification"])


def render_outcome(outcome: DemoOutcome, console: Console) -> None:
    table = Table(title="April 2016 encounters on both desks", title_justify="left")
    for column in ("event", "pair", "record", "nato desk", "russia desk", "warned", "incident"):
        table.add_column(column)
    for line in outcome.lines:
        warned = "-" if line.warning_lead_s is None else f"{line.warning_lead_s:.0f} s before"
        incident = "-"
        if line.incident is not None:
            incident = f"{line.incident['state']}; russia: {line.their_class or '-'}"
        table.add_row(
            line.event,
            " / ".join(line.pair),
            line.expected,
            _mark(line.detected.get("nato"), line.expected),
            _mark(line.detected.get("russia"), line.expected),
            warned,
            incident,
        )
    console.print(table)
    ex = outcome.exchanges
    console.print(
        f"warnings raised: {outcome.warnings}; hotline: {ex['notified']} notified, "
        f"{ex['acknowledged']} acknowledged, {ex['answered']} answered"
        + ("" if outcome.settled else " [red](exchange not complete)[/red]")
    )
    for text in outcome.unexpected:
        console.print(f"[yellow]not in the record[/yellow]: {text}")
    for error in outcome.errors:
        console.print(f"[red]error[/red]: {error}")
    verdict = "[green]as the record says[/green]" if outcome.ok else "[red]NOT as expected[/red]"
    console.print(f"parley demo: {verdict}")


def _mark(found: str | None, expected: str) -> str:
    if found is None:
        return "[red]missed[/red]"
    return found if found == expected else f"[red]{found}[/red]"


__all__ = ["DemoOutcome", "EncounterLine", "outcome_of", "render_outcome", "wait_for_exchange"]
