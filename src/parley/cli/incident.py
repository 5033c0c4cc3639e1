"""``parley incident``: the incident registry of a node, worked through the hotline."""

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from parley.cli.render import print_json, stdout_console
from parley.errors import InputError
from parley.incidents.evidence import parse_time
from parley.incidents.model import Account, Incident, IncidentDetail
from parley.incidents.registry import IncidentRegistry, detect_records

app = typer.Typer(
    help="Incidents: opened from encounters or by hand, both parties' accounts side by side.",
    no_args_is_help=True,
)

DIR_ARGUMENT: Path = typer.Argument(..., help="The node directory.")
ID_ARGUMENT: str = typer.Argument(..., help="The incident id (ours, or the peer's for it).")
JSON_OPTION: bool = typer.Option(False, "--json", help="Print as JSON.")
BY_OPTION: str | None = typer.Option(
    None, "--by", help="Who does it, for the incident's history (default: the login name)."
)
CLASS_HELP = "Class of the rules: routine, serious or high-risk."


def _actor(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "cli"


@contextmanager
def _registry(directory: Path) -> Iterator[IncidentRegistry]:
    """The node's registry, with the hotline messages that arrived since attached."""
    with IncidentRegistry.open(directory) as registry:
        registry.sync()
        yield registry


def _read_detect(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    return detect_records(document, str(path))


def _print_incident(incident: Incident, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(incident.to_json())
    else:
        stdout_console.print(
            f"{verb} {incident.id}: {incident.severity}, {incident.state}", markup=False
        )


@app.command("list")
def list_(
    directory: Path = DIR_ARGUMENT,
    state: str | None = typer.Option(None, "--state", help="Only incidents in this state."),
    severity: str | None = typer.Option(None, "--class", help="Only incidents of this class."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The incidents, oldest first."""
    with _registry(directory) as registry:
        found = registry.list(state=state, severity=severity)
    if as_json:
        print_json([incident.to_json() for incident in found])
        return
    table = Table(
        "id", "class", "state", "kind", "ours", "theirs", "CPA (UTC)", "slant m", box=None
    )
    for incident in found:
        slant = "" if incident.min_slant_m is None else f"{incident.min_slant_m:.0f}"
        table.add_row(
            incident.id,
            incident.severity,
            incident.state,
            incident.kind,
            incident.our_track,
            incident.their_track,
            incident.cpa_time.strftime("%Y-%m-%d %H:%M:%S"),
            slant,
        )
    stdout_console.print(table)
    stdout_console.print(f"{len(found)} incidents", markup=False)


def _account_cell(account: Account | None) -> Text:
    """One party's account as plain text (never read as console markup)."""
    if account is None:
        return Text("(none yet)")
    nature = f", {account.nature}" if account.nature else ""
    return Text(f"[{account.classification or '-'}{nature}] {account.text}")


def _render_detail(detail: IncidentDetail) -> None:
    incident = detail.incident
    console = stdout_console
    console.print(f"incident {incident.id} ({incident.origin})", markup=False)
    console.print(
        f"  {incident.severity}, {incident.state}; {incident.kind or 'kind unknown'}: "
        f"ours {incident.our_track}, theirs {incident.their_track}",
        markup=False,
    )
    position = "unknown" if incident.lat is None else f"{incident.lat:.5f}, {incident.lon:.5f}"
    console.print(f"  closest approach {incident.cpa_time} at {position}", markup=False)
    accounts = Table("ours", "theirs", title="accounts", box=None)
    accounts.add_row(_account_cell(detail.accounts.ours), _account_cell(detail.accounts.theirs))
    console.print(accounts)
    history = Table("time", "who", "what", "state", "detail", title="history", box=None)
    for event in detail.history:
        history.add_row(
            event.time.strftime("%Y-%m-%d %H:%M:%S"),
            Text(event.actor),
            event.action,
            event.to_state,
            Text(event.detail),
        )
    console.print(history)
    messages = Table("time", "direction", "role", "msg_id", title="hotline", box=None)
    for message in detail.messages:
        messages.add_row(
            message.time.strftime("%Y-%m-%d %H:%M:%S"),
            message.direction,
            message.role,
            message.msg_id,
        )
    console.print(messages)
    counts = ", ".join(f"{t}: {len(p)}" for t, p in detail.evidence.positions.items())
    console.print(
        f"evidence: {len(detail.evidence.encounters)} encounters, positions {counts or 'none'}; "
        f"sha256 {detail.evidence.sha256}",
        markup=False,
    )


@app.command("show")
def show(
    directory: Path = DIR_ARGUMENT, incident_id: str = ID_ARGUMENT, as_json: bool = JSON_OPTION
) -> None:
    """One incident: both accounts side by side, its history, hotline messages and evidence."""
    with _registry(directory) as registry:
        detail = registry.detail(incident_id)
    if as_json:
        print_json(detail.to_json())
    else:
        _render_detail(detail)


@app.command("ingest")
def ingest(
    directory: Path = DIR_ARGUMENT,
    detect_json: Path = typer.Argument(..., help="parley detect --json [--evidence] output."),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open incidents for the encounters of the policy's classes (incidents.toml; default serious
    and high-risk), merging a pair's encounters within the merge window (default 6 h)."""
    records = _read_detect(detect_json)
    with _registry(directory) as registry:
        summary = registry.ingest(records, _actor(by))
    if as_json:
        print_json(summary.to_json())
    else:
        stdout_console.print(
            f"{len(summary.opened)} incidents opened, {len(summary.merged)} joined by further "
            f"encounters, {summary.skipped} encounters left out",
            markup=False,
        )


@app.command("open")
def open_(
    directory: Path = DIR_ARGUMENT,
    from_detect: Path | None = typer.Option(
        None, "--from-detect", help="parley detect --json output to open it from."
    ),
    encounter: list[str] = typer.Option(
        [], "--encounter", help="Encounter id of --from-detect (repeat for several)."
    ),
    our_track: str | None = typer.Option(None, "--our-track", help="Our unit's track id."),
    their_track: str | None = typer.Option(None, "--their-track", help="Their unit's track id."),
    time: str | None = typer.Option(None, "--time", help="UTC time of the closest approach."),
    severity: str | None = typer.Option(None, "--class", help=CLASS_HELP),
    summary: str = typer.Option("", "--summary", help="What happened, in a few lines."),
    lat: float | None = typer.Option(None, "--lat", help="Latitude of the closest approach."),
    lon: float | None = typer.Option(None, "--lon", help="Longitude of the closest approach."),
    closest_m: float | None = typer.Option(None, "--closest-m", help="Closest approach, m."),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open an incident by hand: from encounters of detect output, or from a report."""
    with _registry(directory) as registry:
        if from_detect is not None:
            records = _read_detect(from_detect)
            if encounter:
                unknown = sorted(set(encounter) - {str(r["id"]) for r in records})
                if unknown:
                    raise InputError(f"{from_detect}: no encounter {unknown[0]}")
                records = [r for r in records if r["id"] in set(encounter)]
            incident = registry.open_from_encounters(records, _actor(by), summary)
        else:
            if not (our_track and their_track and time and severity):
                raise InputError(
                    "give --from-detect FILE, or --our-track, --their-track, --time and --class"
                )
            incident = registry.open_by_hand(
                our_track=our_track,
                their_track=their_track,
                time=parse_time(time, "--time"),
                severity=severity,
                summary=summary,
                actor=_actor(by),
                lat=lat,
                lon=lon,
                closest_m=closest_m,
            )
    _print_incident(incident, as_json, "opened")


@app.command("notify")
def notify(
    directory: Path = DIR_ARGUMENT,
    incident_id: str = ID_ARGUMENT,
    severity: str | None = typer.Option(None, "--class", help=CLASS_HELP + " Default: ours."),
    summary: str | None = typer.Option(None, "--summary", help="Default: our account's text."),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send the incident notification (template 1, filled from the evidence) to the other party."""
    with _registry(directory) as registry:
        msg_id = registry.notify(incident_id, _actor(by), severity, summary)
        incident = registry.get(incident_id)
    if as_json:
        print_json({"msg_id": msg_id, "incident": incident.to_json()})
    else:
        stdout_console.print(f"notified {incident.id} in {msg_id}", markup=False)


@app.command("account")
def account(
    directory: Path = DIR_ARGUMENT,
    incident_id: str = ID_ARGUMENT,
    severity: str = typer.Option(..., "--class", help=CLASS_HELP),
    text: str = typer.Option(..., "--text", help="Our account, in our words."),
    nature: str | None = typer.Option(
        None,
        "--nature",
        help="unintentional, routine-activity, technical-failure, facts-disputed or "
        "under-investigation (sent as a clarification reply).",
    ),
    send: bool = typer.Option(False, "--send", help="Send it to the other party."),
    reply_to: str | None = typer.Option(
        None, "--reply-to", help="The msg_id the clarification reply answers."
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record our account of the incident (our class and words); --send makes it travel."""
    with _registry(directory) as registry:
        sent: list[str] = []
        if send:
            sent = registry.send_account(incident_id, _actor(by), severity, text, nature, reply_to)
        else:
            registry.record_account(incident_id, _actor(by), severity, text, nature)
        side_by_side = registry.side_by_side(incident_id)
    if as_json:
        print_json({"sent": sent, "accounts": side_by_side.to_json()})
    else:
        where = f"sent in {', '.join(sent)}" if sent else "recorded here (not sent)"
        stdout_console.print(f"our account of {incident_id}: {where}", markup=False)


@app.command("ask")
def ask(
    directory: Path = DIR_ARGUMENT,
    incident_id: str = ID_ARGUMENT,
    question: str = typer.Option(..., "--question", help="What we ask the other party."),
    reply_to: str | None = typer.Option(
        None, "--reply-to", help="Their msg_id asked about (default: their latest)."
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a request for clarification (template 2) about the other party's latest message."""
    with _registry(directory) as registry:
        msg_id = registry.request_clarification(incident_id, _actor(by), question, reply_to)
    if as_json:
        print_json({"msg_id": msg_id})
    else:
        stdout_console.print(f"asked in {msg_id}", markup=False)


@app.command("close")
def close(
    directory: Path = DIR_ARGUMENT,
    incident_id: str = ID_ARGUMENT,
    reason: str = typer.Option("", "--reason", help="Why, for the history."),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Close the incident."""
    with _registry(directory) as registry:
        incident = registry.close_incident(incident_id, _actor(by), reason)
    _print_incident(incident, as_json, "closed")


@app.command("reopen")
def reopen(
    directory: Path = DIR_ARGUMENT,
    incident_id: str = ID_ARGUMENT,
    reason: str = typer.Option("", "--reason", help="Why, for the history."),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Reopen a closed incident in the state it had when it was closed."""
    with _registry(directory) as registry:
        incident = registry.reopen_incident(incident_id, _actor(by), reason)
    _print_incident(incident, as_json, "reopened")


__all__ = [
    "account",
    "app",
    "ask",
    "close",
    "ingest",
    "list_",
    "notify",
    "open_",
    "reopen",
    "show",
]
