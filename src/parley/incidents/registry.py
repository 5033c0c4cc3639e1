"""The incident registry of a node: open incidents from encounters or by hand, change their state,
keep both parties' accounts, and read everything back.

Every change is one database transaction that also writes a row of ``incident_history`` (who, when,
what, the state before and after). The hotline side (notify, accounts sent and received,
acknowledgements) is in :mod:`parley.incidents.exchange`; :class:`IncidentRegistry` offers both.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection

from parley.hotline.node import Node, load_node
from parley.incidents import actions, exchange, rows
from parley.incidents.checks import (
    NATURES,
    IncidentError,
    UnknownIncidentError,
    check_class,
    check_nature,
    new_incident_id,
)
from parley.incidents.detect_input import (
    DETECT_CONTRACT_VERSION,
    IngestSummary,
    detect_records,
)
from parley.incidents.evidence import (
    class_rank,
    closest_approach_point,
    deciding_record,
    describe,
    evidence_of,
    parse_time,
    record_positions,
)
from parley.incidents.model import (
    STATES,
    Account,
    AccountSide,
    Evidence,
    HistoryEvent,
    Incident,
    IncidentDetail,
    IncidentMessage,
    IncidentState,
    SideBySide,
)
from parley.incidents.policy import IncidentPolicy, load_incident_policy
from parley.store import schema
from parley.store.engine import read, write

#: Receives ``(event type, payload)`` after a change is committed (``incident.opened``,
#: ``incident.changed``); the web app passes its event bus.
Publisher = Callable[[str, dict[str, Any]], None]


def _own_and_their_track(record: Mapping[str, Any], party: str) -> tuple[str, str]:
    a, b = str(record["a"]), str(record["b"])
    sides = list(record.get("sides") or [])
    if len(sides) == 2 and sides[1] == party and sides[0] != party:
        return b, a
    return a, b


class IncidentRegistry:
    """The incidents of one node. Reads never write; :meth:`sync` applies new hotline messages
    (the CLI and the API call it before reading)."""

    def __init__(
        self,
        node: Node,
        policy: IncidentPolicy | None = None,
        publish: Publisher | None = None,
    ) -> None:
        self.node = node
        self.engine = node.engine
        self.party = node.config.party
        self.policy = policy if policy is not None else load_incident_policy(node.directory)
        self.publish = publish

    @classmethod
    def open(cls, directory: Path) -> "IncidentRegistry":
        """The registry of the node in ``directory`` (close it with :meth:`close`)."""
        return cls(load_node(Path(directory)))

    def close(self) -> None:
        self.node.close()

    def __enter__(self) -> "IncidentRegistry":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def peer_party(self) -> str | None:
        peer = self.node.config.peer
        return None if peer is None else peer.identity.party

    def now(self) -> datetime:
        return self.node.clock()

    # ---- reading -------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        """The incident (by our id or the peer's id for it); :class:`IncidentError` if unknown."""
        with read(self.engine) as connection:
            return self.get_in(connection, incident_id)

    def get_in(self, connection: Connection, incident_id: str) -> Incident:
        """:meth:`get` inside the caller's transaction."""
        found = rows.incident(connection, incident_id)
        if found is None:
            raise UnknownIncidentError(f"no incident {incident_id!r} (see parley incident list)")
        return found

    def history(self, incident_id: str) -> list[HistoryEvent]:
        with read(self.engine) as connection:
            return rows.history(connection, self.get_in(connection, incident_id).id)

    def accounts(self, incident_id: str) -> list[Account]:
        """Every account of both parties, in the order recorded."""
        with read(self.engine) as connection:
            return rows.accounts(connection, self.get_in(connection, incident_id).id)

    def side_by_side(self, incident_id: str) -> SideBySide:
        """The latest account of each party."""
        found = self.accounts(incident_id)
        return SideBySide(_latest(found, "ours"), _latest(found, "theirs"))

    def evidence(self, incident_id: str) -> Evidence:
        with read(self.engine) as connection:
            incident = self.get_in(connection, incident_id)
            records = rows.encounter_records(connection, incident.id)
            positions = rows.positions(connection, incident.id)
        return evidence_of(incident.id, records, positions)

    # ---- opening -------------------------------------------------------------------------

    def ingest(self, records: Sequence[Mapping[str, Any]], actor: str) -> IngestSummary:
        """Open incidents for the encounters of the policy's classes, merging the same pair's
        encounters within the merge window. Encounters already in an incident are left as they
        are, so ingesting the same output twice changes nothing."""
        summary = IngestSummary()
        chosen = sorted(records, key=lambda r: (str(r["start"]), str(r["id"])))
        events: list[tuple[str, Incident]] = []
        with write(self.engine) as connection:
            for record in chosen:
                if str(record["severity"]) not in self.policy.auto_classes or (
                    rows.encounter_incident(connection, str(record["id"])) is not None
                ):
                    summary = replace(summary, skipped=summary.skipped + 1)
                    continue
                target = self._merge_target(connection, record)
                if target is None:
                    incident = self._create_from(connection, [record], actor, "detected")
                    summary.opened.append(incident.id)
                    events.append(("incident.opened", incident))
                else:
                    incident = self._merge(connection, target, record, actor)
                    if incident.id not in summary.merged:
                        summary.merged.append(incident.id)
                    events.append(("incident.changed", incident))
        for kind, incident in events:
            self.announce(kind, incident)
        return summary

    def open_from_encounters(
        self, records: Sequence[Mapping[str, Any]], actor: str, summary: str = ""
    ) -> Incident:
        """Open one incident by hand from encounters of one pair (any class)."""
        if not records:
            raise IncidentError("no encounters to open an incident from")
        pairs = {tuple(sorted((str(r["a"]), str(r["b"])))) for r in records}
        if len(pairs) > 1:
            listed = "; ".join(f"{a} / {b}" for a, b in sorted(pairs))
            raise IncidentError(f"encounters of several pairs ({listed}): choose with --encounter")
        with write(self.engine) as connection:
            for record in records:
                held = rows.encounter_incident(connection, str(record["id"]))
                if held is not None:
                    raise IncidentError(f"encounter {record['id']} is already in incident {held}")
            ordered = sorted(records, key=lambda r: str(r["start"]))
            incident = self._create_from(connection, ordered, actor, "hand", summary)
        self.announce("incident.opened", incident)
        return incident

    def open_by_hand(
        self,
        *,
        our_track: str,
        their_track: str,
        time: datetime,
        severity: str,
        summary: str,
        actor: str,
        lat: float | None = None,
        lon: float | None = None,
        closest_m: float | None = None,
        kind: str = "",
    ) -> Incident:
        """Open an incident nobody's detector saw (a report from a crew, a radar plot)."""
        check_class(severity)
        if (lat is not None and not -90 <= lat <= 90) or (
            lon is not None and not -180 <= lon <= 180
        ):
            raise IncidentError(f"position {lat}, {lon}: outside -90..90, -180..180")
        now = self.now()
        a, b = sorted((our_track, their_track))
        incident = Incident(
            id=new_incident_id(self.party, a, b, time.isoformat(), now.isoformat()),
            state="detected",
            origin="hand",
            severity=severity,
            kind=kind,
            track_a=a,
            track_b=b,
            our_track=our_track,
            their_track=their_track,
            start=time,
            end=time,
            cpa_time=time,
            lat=lat,
            lon=lon,
            min_slant_m=closest_m,
            opened_at=now,
            opened_by=actor,
            updated_at=now,
            summary=summary,
        )
        with write(self.engine) as connection:
            rows.insert_incident(connection, incident)
            self.record_history(connection, incident, None, actor, "opened", "by hand")
        self.announce("incident.opened", incident)
        return incident

    def _merge_target(self, connection: Connection, record: Mapping[str, Any]) -> Incident | None:
        a, b = sorted((str(record["a"]), str(record["b"])))
        window = timedelta(seconds=self.policy.merge_window_s)
        start, end = parse_time(str(record["start"])), parse_time(str(record["end"]))
        for incident in rows.pair_incidents(connection, a, b):
            if incident.state == "closed":
                continue
            if start <= incident.end + window and end >= incident.start - window:
                return incident
        return None

    def _create_from(
        self,
        connection: Connection,
        records: Sequence[Mapping[str, Any]],
        actor: str,
        origin: str,
        summary: str = "",
    ) -> Incident:
        now = self.now()
        first = records[0]
        a, b = sorted((str(first["a"]), str(first["b"])))
        incident_id = new_incident_id(a, b, str(first["start"]))
        if origin == "hand":
            incident_id = new_incident_id(incident_id, now.isoformat())
        ours, theirs = _own_and_their_track(first, self.party)
        base = Incident(
            id=incident_id,
            state="detected",
            origin="detected" if origin == "detected" else "hand",
            severity=str(first["severity"]),
            kind=str(first["kind"]),
            track_a=a,
            track_b=b,
            our_track=ours,
            their_track=theirs,
            start=parse_time(str(first["start"])),
            end=parse_time(str(first["end"])),
            cpa_time=parse_time(str(first["cpa_time"])),
            lat=None,
            lon=None,
            min_slant_m=float(first["min_slant_m"]) if "min_slant_m" in first else None,
            opened_at=now,
            opened_by=actor,
            updated_at=now,
            summary=summary,
        )
        rows.insert_incident(connection, base)
        for record in records:
            rows.add_encounter(connection, incident_id, record, now)
            rows.add_positions(connection, incident_id, record_positions(record))
        incident = self._refresh_figures(connection, incident_id, summary)
        detail = ", ".join(str(r["id"]) for r in records)
        self.record_history(connection, incident, None, actor, "opened", f"{origin}: {detail}")
        return incident

    def _merge(
        self, connection: Connection, incident: Incident, record: Mapping[str, Any], actor: str
    ) -> Incident:
        now = self.now()
        rows.add_encounter(connection, incident.id, record, now)
        rows.add_positions(connection, incident.id, record_positions(record))
        merged = self._refresh_figures(connection, incident.id, incident.summary)
        rows.update_incident(connection, incident.id, updated_at=now)
        self.record_history(
            connection, merged, merged.state, actor, "merged", f"encounter {record['id']}"
        )
        return replace(merged, updated_at=now)

    def _refresh_figures(self, connection: Connection, incident_id: str, summary: str) -> Incident:
        """Recompute class, times, CPA and position from all the incident's encounters."""
        records = rows.encounter_records(connection, incident_id)
        positions = rows.positions(connection, incident_id)
        deciding = deciding_record(records)
        incident = self.get_in(connection, incident_id)
        if deciding is None:
            return incident
        cpa_time = parse_time(str(deciding["cpa_time"]))
        point = closest_approach_point(positions, incident.track_a, incident.track_b, cpa_time)
        values: dict[str, Any] = {
            "severity": max((str(r["severity"]) for r in records), key=class_rank),
            "kind": str(deciding["kind"]),
            "start": min(parse_time(str(r["start"])) for r in records),
            "end": max(parse_time(str(r["end"])) for r in records),
            "cpa_time": cpa_time,
            "min_slant_m": float(deciding["min_slant_m"]),
            "lat": None if point is None else point[0],
            "lon": None if point is None else point[1],
            "summary": summary or describe(records),
        }
        rows.update_incident(connection, incident_id, **values)
        return self.get_in(connection, incident_id)

    # ---- state and accounts --------------------------------------------------------------

    def close_incident(self, incident_id: str, actor: str, reason: str = "") -> Incident:
        """Close the incident (the reason goes into its history)."""
        return self._set_state(incident_id, "closed", actor, "closed", reason)

    def reopen_incident(self, incident_id: str, actor: str, reason: str = "") -> Incident:
        """Reopen a closed incident in the state it had when it was closed."""
        with read(self.engine) as connection:
            incident = self.get_in(connection, incident_id)
            if incident.state != "closed":
                raise IncidentError(f"incident {incident.id} is {incident.state}, not closed")
            closings = [h for h in rows.history(connection, incident.id) if h.to_state == "closed"]
        previous = closings[-1].from_state if closings else None
        state = previous if previous in STATES and previous != "closed" else "detected"
        return self._set_state(incident.id, state, actor, "reopened", reason)

    def _set_state(
        self, incident_id: str, state: str, actor: str, action: str, detail: str
    ) -> Incident:
        with write(self.engine) as connection:
            incident = self.get_in(connection, incident_id)
            if action == "closed" and incident.state == "closed":
                raise IncidentError(f"incident {incident.id} is already closed")
            changed = self.change_state(connection, incident, state, actor, action, detail)
        self.announce("incident.changed", changed)
        return changed

    def change_state(
        self,
        connection: Connection,
        incident: Incident,
        state: str,
        actor: str,
        action: str,
        detail: str = "",
        msg_id: str | None = None,
    ) -> Incident:
        """Set the state and record the change (inside the caller's transaction)."""
        now = self.now()
        rows.update_incident(connection, incident.id, state=state, updated_at=now)
        changed = rows.with_state(incident, cast(IncidentState, state), now)
        self.record_history(connection, changed, incident.state, actor, action, detail, msg_id)
        return changed

    def record_account(
        self,
        incident_id: str,
        actor: str,
        classification: str | None,
        text: str,
        nature: str | None = None,
        side: AccountSide = "ours",
        msg_id: str | None = None,
    ) -> Account:
        """Record an account on this desk (ours by default); see also
        :meth:`IncidentRegistry.send_account` in :mod:`.exchange`, which makes it travel."""
        if classification is not None:
            check_class(classification)
        check_nature(nature)
        if not text.strip():
            raise IncidentError("an account needs a text")
        with write(self.engine) as connection:
            incident = self.get_in(connection, incident_id)
            account = self.add_account(
                connection, incident, side, classification, nature, text, actor, msg_id
            )
        self.announce("incident.changed", self.get(incident.id))
        return account

    def add_account(
        self,
        connection: Connection,
        incident: Incident,
        side: AccountSide,
        classification: str | None,
        nature: str | None,
        text: str,
        actor: str,
        msg_id: str | None,
    ) -> Account:
        """Store an account and its history row (inside the caller's transaction)."""
        party = self.party if side == "ours" else (self.peer_party or "peer")
        account = Account(
            incident_id=incident.id,
            side=side,
            party=party,
            classification=classification,
            nature=nature,
            text=text,
            recorded_at=self.now(),
            recorded_by=actor,
            msg_id=msg_id,
        )
        rows.add_account(connection, account)
        detail = f"{party}: class {classification or '-'}, nature {nature or '-'}"
        self.record_history(connection, incident, incident.state, actor, "account", detail, msg_id)
        return account

    # ---- through the hotline (see parley.incidents.exchange) ------------------------------

    def sync(self, actors: Mapping[str, str] | None = None) -> int:
        """Attach the hotline messages not yet attached (both logs); how many incidents changed.
        ``actors`` names the officers who sent our own messages (by msg_id)."""
        return exchange.sync(self, actors)

    def notify(
        self,
        incident_id: str,
        actor: str,
        severity: str | None = None,
        summary: str | None = None,
    ) -> str:
        """Send the incident notification to the other party; its msg_id."""
        return actions.notify(self, incident_id, actor, severity, summary)

    def send_account(
        self,
        incident_id: str,
        actor: str,
        classification: str,
        text: str,
        nature: str | None = None,
        reply_to: str | None = None,
    ) -> list[str]:
        """Make our account travel to the other party; the msg_ids sent."""
        return actions.send_account(
            self, incident_id, actor, classification, text, nature, reply_to
        )

    def request_clarification(
        self, incident_id: str, actor: str, question: str, reply_to: str | None = None
    ) -> str:
        """Ask the other party a question about the incident; the msg_id."""
        return actions.request_clarification(self, incident_id, actor, question, reply_to)

    def messages(self, incident_id: str) -> list[IncidentMessage]:
        """The hotline messages attached to the incident (the timeline of the exchange)."""
        return actions.messages(self, incident_id)

    def detail(self, incident_id: str) -> IncidentDetail:
        """The incident, both accounts, its history, its messages and its evidence."""
        return actions.detail(self, incident_id)

    def record_history(
        self,
        connection: Connection,
        incident: Incident,
        from_state: str | None,
        actor: str,
        action: str,
        detail: str = "",
        msg_id: str | None = None,
    ) -> None:
        """One row of the incident's history (inside the caller's transaction)."""
        rows.add_history(
            connection,
            HistoryEvent(
                incident.id, self.now(), actor, action, from_state, incident.state, detail, msg_id
            ),
        )

    def announce(self, kind: str, incident: Incident) -> None:
        """Publish ``incident.opened`` / ``incident.changed`` (after the change committed)."""
        if self.publish is not None:
            self.publish(kind, incident.to_json())

    def list(
        self,
        state: str | None = None,
        severity: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Incident]:
        """The incidents, by start time; filtered by state, class and a time range (by CPA)."""
        table = schema.incidents
        conditions: list[Any] = []
        if state is not None:
            if state not in STATES:
                raise IncidentError(f"state {state!r}: expected one of {', '.join(STATES)}")
            conditions.append(table.c.state == state)
        if severity is not None:
            conditions.append(table.c.severity == check_class(severity))
        if since is not None:
            conditions.append(table.c.cpa_time >= since)
        if until is not None:
            conditions.append(table.c.cpa_time < until)
        with read(self.engine) as connection:
            return rows.incidents(connection, *conditions)


def _latest(accounts: Sequence[Account], side: str) -> Account | None:
    found = [account for account in accounts if account.side == side]
    return found[-1] if found else None


__all__ = [
    "DETECT_CONTRACT_VERSION",
    "NATURES",
    "IncidentError",
    "IncidentRegistry",
    "IngestSummary",
    "Publisher",
    "UnknownIncidentError",
    "check_class",
    "check_nature",
    "detect_records",
    "new_incident_id",
]
