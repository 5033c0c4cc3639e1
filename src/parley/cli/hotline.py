"""``parley hotline``: send, read, acknowledge, verify, and carry logs by signed bundle."""

from pathlib import Path

import typer
from rich.table import Table

from parley.cli.render import print_json, stdout_console
from parley.errors import InputError
from parley.hotline.joint import latest_joint
from parley.hotline.node import load_node
from parley.hotline.views import MessageView

app = typer.Typer(help="Messages on the hotline and their signed logs.", no_args_is_help=True)

DIR_ARGUMENT: Path = typer.Argument(..., help="The node directory.")
JSON_OPTION: bool = typer.Option(False, "--json", help="Print as JSON.")


@app.command("send")
def send(
    directory: Path = DIR_ARGUMENT,
    template: str = typer.Option(..., "--template", "-t", help="Template number or key."),
    field: list[str] = typer.Option([], "--field", "-f", help="A template field, name=value."),
    reply_to: str | None = typer.Option(None, "--reply-to", help="The msg_id answered."),
    language: str | None = typer.Option(None, "--language", help="Free text's language: en|ru."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a message in our log (signed, durable) and print its msg_id."""
    fields = _parse_fields(field)
    with load_node(directory) as node:
        msg_id = node.send(template, fields, reply_to=reply_to, language=language)
    if as_json:
        print_json({"msg_id": msg_id, "state": "recorded"})
    else:
        stdout_console.print(f"recorded {msg_id}", markup=False)


@app.command("inbox")
def inbox(directory: Path = DIR_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """The peer's messages with their state (received, acknowledged, answered)."""
    with load_node(directory) as node:
        views = node.inbox()
    if as_json:
        print_json([view.to_json() for view in views])
        return
    _table(views, "inbox")


@app.command("ack")
def ack(
    directory: Path = DIR_ARGUMENT, msg_id: str = typer.Argument(...), as_json: bool = JSON_OPTION
) -> None:
    """Acknowledge a message of the peer: an ACK entry in our log."""
    with load_node(directory) as node:
        ack_id = node.ack(msg_id)
    if as_json:
        print_json({"msg_id": ack_id, "acknowledges": msg_id})
    else:
        stdout_console.print(f"acknowledged {msg_id} with {ack_id}", markup=False)


@app.command("log")
def log(directory: Path = DIR_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Both logs, each of our messages with its state (recorded, delivered, acknowledged,
    answered)."""
    with load_node(directory) as node:
        views = node.log()
        joint = latest_joint(node)
    if as_json:
        print_json(
            {**views.to_json(), "joint_checkpoint": None if joint is None else joint.to_json()}
        )
        return
    _table(views.own, "our log")
    _table(views.peer, "the peer's log")


@app.command("checkpoint")
def checkpoint(directory: Path = DIR_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """The latest joint checkpoint: both logs' sizes and roots, signed by both parties."""
    with load_node(directory) as node:
        joint = latest_joint(node)
    if as_json:
        print_json(None if joint is None else joint.to_json())
        return
    if joint is None:
        stdout_console.print("no joint checkpoint yet", markup=False)
        return
    for head in (joint.first, joint.second):
        line = f"{head.origin}: {head.size} entries, root {head.root.hex()}"
        stdout_console.print(line, markup=False)
    stdout_console.print(joint.note, markup=False, end="")


@app.command("verify")
def verify(directory: Path = DIR_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Check both logs: signatures, chains, checkpoints, consistency, cosignatures.
    Exits non-zero on any problem."""
    with load_node(directory) as node:
        report = node.verify()
    if as_json:
        print_json(report.to_json())
    else:
        for log_id, size in report.sizes.items():
            stdout_console.print(f"{log_id}: {size} entries verified", markup=False)
        for problem in report.problems:
            stdout_console.print(f"PROBLEM {problem}", markup=False)
        stdout_console.print("ok" if report.ok else f"{len(report.problems)} problems")
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    directory: Path = DIR_ARGUMENT,
    output: Path = typer.Option(..., "--output", "-o", help="The bundle file to write."),
    after: int | None = typer.Option(
        None, "--after", help="Export entries after this seq (default: after the last receipt)."
    ),
) -> None:
    """Write a signed bundle of our log (and our receipt for the peer) for removable media."""
    with load_node(directory) as node:
        summary = node.export_bundle(output, after)
    stdout_console.print(
        f"{output}: {summary.count} entries from seq {summary.first_seq}, "
        f"checkpoint {summary.checkpoint_size}, receipt for the peer "
        f"{'none' if summary.receipt_size is None else summary.receipt_size}",
        markup=False,
    )


@app.command("import")
def import_(directory: Path = DIR_ARGUMENT, bundle: Path = typer.Argument(...)) -> None:
    """Verify and store a bundle from the peer, and cosign its checkpoint (our receipt)."""
    with load_node(directory) as node:
        summary = node.import_bundle(bundle)
    delivered = "none" if summary.delivered_size is None else summary.delivered_size
    stdout_console.print(
        f"{bundle}: {summary.accepted} new entries, {summary.duplicates} duplicates; "
        f"peer log size {summary.peer_size}; our entries delivered: {delivered}",
        markup=False,
    )


def _parse_fields(items: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"--field {item!r}: expected name=value")
        if name in fields:
            raise InputError(f"--field {name}: given twice")
        fields[name] = value
    return fields


def _table(views: list[MessageView], title: str) -> None:
    table = Table("seq", "msg_id", "time", "template", "reply to", "state", title=title)
    for view in views:
        table.add_row(
            str(view.seq),
            view.msg_id,
            view.time,
            view.template_key or view.type,
            view.in_reply_to or "",
            ", ".join(view.states),
        )
    stdout_console.print(table)


__all__ = ["ack", "app", "export", "import_", "inbox", "log", "send", "verify"]
