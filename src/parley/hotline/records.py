"""Reading and writing a node's rows; every function works inside the caller's transaction.

The statements on the send path are built once at import (with bound parameters) rather than at
every call: SQLAlchemy then finds each one's compiled form in its cache without rebuilding and
hashing a new statement object, and a batch of rows goes to the driver as one ``executemany``.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, update

from parley.hotline.chain import EquivocationEvidence
from parley.hotline.entry import SignedEntry
from parley.hotline.keys import PublicIdentity
from parley.store import schema


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One row of ``entries``: the raw bytes and the columns extracted from them when stored."""

    log_id: str
    seq: int
    raw: bytes
    entry_hash: str
    msg_id: str
    type: str
    template: int | None
    in_reply_to: str | None


@dataclass(frozen=True, slots=True)
class StoredNote:
    """A checkpoint or cosignature row: which log, what size, the note text."""

    log_id: str
    size: int
    note: str
    root: str = ""
    cosigner: str = ""
    cosigned_at: int = 0


def insert_log(connection: Connection, log_id: str, identity: PublicIdentity, role: str) -> None:
    connection.execute(
        insert(schema.logs).values(
            id=log_id,
            party=identity.party,
            public_key=identity.public_key,
            role=role,
            frozen=False,
        )
    )


def log_exists(connection: Connection, log_id: str) -> bool:
    found = connection.execute(select(schema.logs.c.id).where(schema.logs.c.id == log_id))
    return found.first() is not None


_LOG_FROZEN = select(schema.logs.c.frozen).where(schema.logs.c.id == bindparam("log_id"))


def log_frozen(connection: Connection, log_id: str) -> bool:
    found = connection.execute(_LOG_FROZEN, {"log_id": log_id}).scalar_one_or_none()
    return bool(found)


def set_frozen(connection: Connection, log_id: str, frozen: bool) -> None:
    connection.execute(update(schema.logs).where(schema.logs.c.id == log_id).values(frozen=frozen))


_INSERT_ENTRY = insert(schema.entries)
_INSERT_OUTBOX = insert(schema.outbox)
_INSERT_CHECKPOINT = insert(schema.checkpoints)
_INSERT_AUDIT = insert(schema.audit)
_RAW_ENTRIES_FROM = (
    select(schema.entries.c.raw)
    .where(
        schema.entries.c.log_id == bindparam("log_id"),
        schema.entries.c.seq >= bindparam("from_seq"),
    )
    .order_by(schema.entries.c.seq)
)
_LATEST_CHECKPOINT = (
    select(schema.checkpoints.c.size, schema.checkpoints.c.note, schema.checkpoints.c.root)
    .where(schema.checkpoints.c.log_id == bindparam("log_id"))
    .order_by(schema.checkpoints.c.size.desc())
    .limit(1)
)
_MSG_ID_LOG = select(schema.entries.c.log_id).where(schema.entries.c.msg_id == bindparam("msg_id"))
#: A log's entries are seqs 0 to n - 1 without a gap (each one chains to the one before), so its
#: size is its highest seq plus one: one step down the primary key instead of counting every row.
_LAST_SEQ = select(func.max(schema.entries.c.seq)).where(
    schema.entries.c.log_id == bindparam("log_id")
)
_CHECKPOINTS_FROM = (
    select(schema.checkpoints.c.size, schema.checkpoints.c.note, schema.checkpoints.c.root)
    .where(
        schema.checkpoints.c.log_id == bindparam("log_id"),
        schema.checkpoints.c.size >= bindparam("min_size"),
    )
    .order_by(schema.checkpoints.c.size)
)
_COSIGNATURE_HELD = select(schema.cosignatures.c.id).where(
    schema.cosignatures.c.log_id == bindparam("log_id"),
    schema.cosignatures.c.cosigner == bindparam("cosigner"),
    schema.cosignatures.c.size == bindparam("size"),
)
_INSERT_COSIGNATURE = insert(schema.cosignatures)
_LATEST_COSIGNATURE = (
    select(
        schema.cosignatures.c.size,
        schema.cosignatures.c.note,
        schema.cosignatures.c.cosigner,
        schema.cosignatures.c.cosigned_at,
    )
    .where(schema.cosignatures.c.log_id == bindparam("log_id"))
    .order_by(schema.cosignatures.c.size.desc(), schema.cosignatures.c.id.desc())
    .limit(1)
)
_CLEAR_OUTBOX = delete(schema.outbox).where(
    schema.outbox.c.log_id == bindparam("log_id"), schema.outbox.c.seq < bindparam("size")
)
_OUTBOX_SEQS = (
    select(schema.outbox.c.seq)
    .where(schema.outbox.c.log_id == bindparam("log_id"))
    .order_by(schema.outbox.c.seq)
)


def insert_entry(connection: Connection, signed: SignedEntry, received_at: datetime) -> None:
    insert_entries(connection, [signed], received_at)


def insert_entries(
    connection: Connection, batch: Sequence[SignedEntry], received_at: datetime
) -> None:
    """Store entries exactly as signed, in one statement (``executemany`` for several)."""
    rows = [
        {
            "log_id": signed.entry.log_id,
            "seq": signed.entry.seq,
            "raw": signed.raw,
            "entry_hash": signed.entry_hash,
            "msg_id": signed.entry.msg_id,
            "type": signed.entry.type,
            "template": signed.entry.template,
            "in_reply_to": signed.entry.in_reply_to,
            "received_at": received_at,
        }
        for signed in batch
    ]
    if rows:
        connection.execute(_INSERT_ENTRY, rows)


def _select_entries(log_id: str) -> Select[Any]:
    """The columns of a StoredEntry, in its field order, for one log."""
    table = schema.entries
    return select(
        table.c.log_id,
        table.c.seq,
        table.c.raw,
        table.c.entry_hash,
        table.c.msg_id,
        table.c.type,
        table.c.template,
        table.c.in_reply_to,
    ).where(table.c.log_id == log_id)


def stored_entries(connection: Connection, log_id: str) -> list[StoredEntry]:
    rows = connection.execute(_select_entries(log_id).order_by(schema.entries.c.seq)).all()
    return [StoredEntry(*row) for row in rows]


def raw_entries(connection: Connection, log_id: str, from_seq: int = 0) -> list[bytes]:
    """The raw entries of a log in seq order, from ``from_seq`` on."""
    rows = connection.execute(_RAW_ENTRIES_FROM, {"log_id": log_id, "from_seq": from_seq})
    return [bytes(raw) for raw in rows.scalars()]


def last_entry(connection: Connection, log_id: str) -> StoredEntry | None:
    """The entry with the highest seq of a log, or None for an empty log."""
    row = connection.execute(
        _select_entries(log_id).order_by(schema.entries.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else StoredEntry(*row)


def log_size(connection: Connection, log_id: str) -> int:
    last = connection.execute(_LAST_SEQ, {"log_id": log_id}).scalar_one()
    return 0 if last is None else int(last) + 1


def msg_id_log(connection: Connection, msg_id: str) -> str | None:
    """The log holding a message id, or None."""
    found = connection.execute(_MSG_ID_LOG, {"msg_id": msg_id}).scalar_one_or_none()
    return None if found is None else str(found)


def insert_checkpoint(
    connection: Connection, log_id: str, size: int, root: str, note: str, now: datetime
) -> None:
    connection.execute(
        _INSERT_CHECKPOINT,
        {"log_id": log_id, "size": size, "root": root, "note": note, "stored_at": now},
    )


def checkpoints(connection: Connection, log_id: str, min_size: int = 0) -> list[StoredNote]:
    """The checkpoints of a log of at least ``min_size`` entries, by size."""
    rows = connection.execute(_CHECKPOINTS_FROM, {"log_id": log_id, "min_size": min_size}).all()
    return [StoredNote(log_id, int(size), note, root) for size, note, root in rows]


def latest_checkpoint(connection: Connection, log_id: str) -> StoredNote | None:
    """The checkpoint of a log with the largest size (one indexed row, not the whole list)."""
    row = connection.execute(_LATEST_CHECKPOINT, {"log_id": log_id}).first()
    return None if row is None else StoredNote(log_id, int(row[0]), row[1], row[2])


def insert_cosignature(
    connection: Connection,
    note: StoredNote,
    now: datetime,
) -> bool:
    """Store a cosignature unless one by the same cosigner at that size is held; whether stored."""
    key = {"log_id": note.log_id, "cosigner": note.cosigner, "size": note.size}
    if connection.execute(_COSIGNATURE_HELD, key).first() is not None:
        return False
    connection.execute(
        _INSERT_COSIGNATURE,
        {**key, "note": note.note, "cosigned_at": note.cosigned_at, "stored_at": now},
    )
    return True


def cosignatures(connection: Connection, log_id: str) -> list[StoredNote]:
    """Every cosignature over checkpoints of ``log_id``, by size."""
    table = schema.cosignatures
    rows = connection.execute(
        select(table.c.size, table.c.note, table.c.cosigner, table.c.cosigned_at)
        .where(table.c.log_id == log_id)
        .order_by(table.c.size)
    ).all()
    return [
        StoredNote(log_id, int(size), note, cosigner=cosigner, cosigned_at=int(at))
        for size, note, cosigner, at in rows
    ]


def latest_cosignature(connection: Connection, log_id: str) -> StoredNote | None:
    """The cosignature over the largest checkpoint of ``log_id`` (one row, not the whole list)."""
    row = connection.execute(_LATEST_COSIGNATURE, {"log_id": log_id}).first()
    if row is None:
        return None
    size, note, cosigner, at = row
    return StoredNote(log_id, int(size), note, cosigner=cosigner, cosigned_at=int(at))


def add_to_outbox(connection: Connection, log_id: str, seq: int) -> None:
    add_many_to_outbox(connection, log_id, [seq])


def add_many_to_outbox(connection: Connection, log_id: str, seqs: Iterable[int]) -> None:
    rows = [{"log_id": log_id, "seq": seq} for seq in seqs]
    if rows:
        connection.execute(_INSERT_OUTBOX, rows)


def clear_outbox(connection: Connection, log_id: str, delivered_size: int) -> None:
    connection.execute(_CLEAR_OUTBOX, {"log_id": log_id, "size": delivered_size})


def outbox_seqs(connection: Connection, log_id: str) -> list[int]:
    rows = connection.execute(_OUTBOX_SEQS, {"log_id": log_id}).scalars()
    return [int(seq) for seq in rows]


def insert_equivocation(
    connection: Connection, evidence: EquivocationEvidence, now: datetime
) -> None:
    connection.execute(
        insert(schema.equivocations).values(
            log_id=evidence.log_id,
            seq=evidence.seq,
            kind=evidence.kind,
            held=evidence.held,
            offered=evidence.offered,
            detected_at=now,
        )
    )


def equivocations(connection: Connection) -> list[EquivocationEvidence]:
    table = schema.equivocations
    rows = connection.execute(
        select(table.c.log_id, table.c.seq, table.c.kind, table.c.held, table.c.offered).order_by(
            table.c.id
        )
    ).all()
    return [
        EquivocationEvidence(log_id, int(seq), kind, bytes(held), bytes(offered))
        for log_id, seq, kind, held, offered in rows
    ]


def add_audit(connection: Connection, now: datetime, actor: str, action: str, detail: str) -> None:
    add_audits(connection, now, actor, action, [detail])


def add_audits(
    connection: Connection, now: datetime, actor: str, action: str, details: Iterable[str]
) -> None:
    """One audit row per detail, in one statement."""
    rows = [{"time": now, "actor": actor, "action": action, "detail": detail} for detail in details]
    if rows:
        connection.execute(_INSERT_AUDIT, rows)


def audit_rows(connection: Connection) -> Sequence[tuple[str, str, str]]:
    table = schema.audit
    rows = connection.execute(
        select(table.c.actor, table.c.action, table.c.detail).order_by(table.c.id)
    ).all()
    return [(actor, action, detail) for actor, action, detail in rows]


__all__ = [
    "StoredEntry",
    "StoredNote",
    "add_audit",
    "add_audits",
    "add_many_to_outbox",
    "add_to_outbox",
    "audit_rows",
    "checkpoints",
    "clear_outbox",
    "cosignatures",
    "equivocations",
    "insert_checkpoint",
    "insert_cosignature",
    "insert_entries",
    "insert_entry",
    "insert_equivocation",
    "insert_log",
    "last_entry",
    "latest_checkpoint",
    "latest_cosignature",
    "log_exists",
    "log_frozen",
    "log_size",
    "msg_id_log",
    "outbox_seqs",
    "raw_entries",
    "set_frozen",
    "stored_entries",
]
