"""What the officers of ``parley demo`` do, as in a drill, and what the demo saw happen.

The first desk (NATO) notifies every incident its picture opens; the second desk (Russia)
acknowledges each notification it receives and answers with its own account and class. Every
event of both desks' streams is recorded in :class:`DrillLog` for the summary.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parley.cli.demo_desks import OFFICER, DemoError, Desk

_log = logging.getLogger(__name__)

NOTIFICATION_TEMPLATE = "incident-notification"
#: The answering desk's account, in the words Russia's defence ministry used in April 2016.
ANSWER_CLASS = "routine"
ANSWER_NATURE = "routine-activity"
ANSWER_TEXT = (
    "The flights were training flights over neutral waters, conducted in accordance with the "
    "international rules for the use of airspace; no unsafe manoeuvre was made."
)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(slots=True)
class DrillLog:
    """Everything the demo saw, per desk: warnings, encounters, incidents, hotline steps."""

    #: data times of the warnings raised, per desk and pair
    warning_times: dict[tuple[str, frozenset[str]], list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )
    warnings: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    closed: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    incidents: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    notified: dict[str, str] = field(default_factory=dict)
    acknowledged: dict[str, str] = field(default_factory=dict)
    answered: dict[str, list[str]] = field(default_factory=dict)
    delivered: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    errors: list[str] = field(default_factory=list)


Say = Callable[[str, str], None]


class Drill:
    """Reacts to both desks' events; ``say(desk, line)`` shows what happens as it happens."""

    def __init__(self, notifier: Desk, answerer: Desk, say: Say) -> None:
        self.notifier = notifier
        self.answerer = answerer
        self.say = say
        self.log = DrillLog()
        self._lock = threading.Lock()

    def on_event(self, desk: Desk, event: dict[str, Any]) -> None:
        """Called from each desk's event thread."""
        kind, payload = event.get("type", ""), event.get("payload", {})
        try:
            with self._lock:
                self._handle(desk, kind, payload)
        except DemoError as exc:
            self.log.errors.append(str(exc))
            self.say(desk.party, f"[red]error[/red] {exc}")

    def _handle(self, desk: Desk, kind: str, payload: dict[str, Any]) -> None:
        if kind == "warning.raised":
            self._warning(desk, payload)
        elif kind == "encounter.closed":
            self._encounter(desk, payload["encounter"])
        elif kind == "incident.opened":
            self._incident(desk, payload)
        elif kind == "message.received" and payload.get("template_key") == NOTIFICATION_TEMPLATE:
            if desk is self.answerer and payload.get("in_reply_to") is None:
                self._answer(desk, payload)
        elif kind == "message.delivered":
            self.log.delivered[desk.party].update(payload.get("msg_ids", []))
        elif kind == "message.acknowledged" and desk is self.notifier:
            self._acknowledged(desk, payload)

    def _acknowledged(self, desk: Desk, payload: dict[str, Any]) -> None:
        if payload.get("party") != desk.party:  # the peer's acknowledgement of ours
            self.say(desk.party, f"acknowledged by {payload.get('party')}: {_short(payload)}")

    def _warning(self, desk: Desk, warning: dict[str, Any]) -> None:
        key = (desk.party, frozenset((warning["a"], warning["b"])))
        self.log.warnings[desk.party] += 1
        self.log.warning_times[key].append(parse_time(warning["time"]))
        if desk is self.notifier:
            self.say(
                desk.party,
                f"[yellow]warning[/yellow] {warning['a']} / {warning['b']}: "
                f"{warning['severity']} predicted, {warning['predicted_cpa_m']:.0f} m "
                f"in {warning['time_to_cpa_s']:.0f} s",
            )

    def _encounter(self, desk: Desk, record: dict[str, Any]) -> None:
        self.log.closed[desk.party].append(record)
        if desk is self.notifier:
            self.say(
                desk.party,
                f"[bold]encounter[/bold] {record['a']} / {record['b']}: {record['severity']} "
                f"({', '.join(record['reasons'])}), closest {record['min_slant_m']:.0f} m",
            )

    def _incident(self, desk: Desk, incident: dict[str, Any]) -> None:
        incident_id = incident.get("id") or incident.get("incident", {}).get("id")
        if incident_id is None:
            return
        self.log.incidents[desk.party][incident_id] = incident
        if desk is not self.notifier or incident_id in self.log.notified:
            return
        closest_m = incident.get("min_slant_m") or 0.0
        summary = (
            f"{incident.get('their_track')} came within {closest_m:.0f} m of "
            f"{incident.get('our_track')}; we consider it {incident.get('severity')} and ask for "
            "your account."
        )
        answer = desk.call(
            "POST", f"/api/v1/incidents/{incident_id}/notify", json={"summary": summary}
        )
        self.log.notified[incident_id] = answer["msg_id"]
        self.say(desk.party, f"incident {incident_id[:8]} notified ({incident.get('severity')})")

    def _answer(self, desk: Desk, message: dict[str, Any]) -> None:
        msg_id = message["msg_id"]
        incident_id = message.get("fields", {}).get("incident_id")
        desk.call("POST", f"/api/v1/inbox/{msg_id}/ack", user=OFFICER)
        self.log.acknowledged[msg_id] = incident_id or ""
        self.say(desk.party, f"notification {msg_id[-8:]} acknowledged")
        if not incident_id:
            return
        answer = desk.call(
            "POST",
            f"/api/v1/incidents/{incident_id}/account",
            json={
                "classification": ANSWER_CLASS,
                "text": ANSWER_TEXT,
                "nature": ANSWER_NATURE,
                "send": True,
                "reply_to": msg_id,
            },
        )
        self.log.answered[msg_id] = list(answer.get("sent", []))
        self.say(desk.party, f"incident {incident_id[:8]} answered: {ANSWER_CLASS}")


def _short(payload: dict[str, Any]) -> str:
    return str(payload.get("in_reply_to") or payload.get("msg_id", ""))[-8:]


__all__ = ["ANSWER_CLASS", "Drill", "DrillLog", "parse_time"]
