"""A party's hotline node: its directory, its identity, its own log and its copy of the peer's.

A node directory holds ``node.toml``, ``key.pem`` and ``node.db`` (see :mod:`.config`). Every write
is one database transaction: the entry exactly as signed, its outbox row, a new signed checkpoint
of our log and an audit row commit together or not at all, before :meth:`Node.send` returns.

**Group commit.** Sends that arrive while another is being written (several API requests at once)
wait for it and are then written together (:class:`GroupCommit`): each entry signed and chained
as before, with its own outbox row, audit row (and its caller's, such as the officer's API request)
and escalation timers (one ``executemany`` each per batch), one signed checkpoint at the
batch's size, one transaction and so one set of fsyncs. Each caller gets its msg_id only after the
transaction has committed; if it fails, every caller of the batch gets the error and none of the
batch is recorded. A send alone (the usual case) is a batch of one, exactly as before.

The first entry of every log (seq 0) records the template catalogue the node speaks
(:func:`parley.hotline.templates.catalogue_record`), so both logs hold the catalogue's hash.
"""

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from parley.errors import ConfigError, ParleyError
from parley.hotline import escalation, records
from parley.hotline.bundle import (
    ExportSummary,
    ImportSummary,
    PeerReplicaCache,
    export_bundle,
    import_bundle,
)
from parley.hotline.checkpoint import Checkpoint, sign_note
from parley.hotline.config import (
    CONFIG_FILE,
    DATABASE_FILE,
    KEY_FILE,
    NodeConfig,
    PeerConfig,
    read_config,
    read_key,
    write_config,
    write_key,
)
from parley.hotline.entry import ZERO_HASH, SignedEntry, log_id_for, sign_entry
from parley.hotline.errors import HotlineError
from parley.hotline.keys import PartyKey, PublicIdentity
from parley.hotline.merkle import MerkleTree, leaf_hash
from parley.hotline.msgid import Clock, MsgIdGenerator, utc_now
from parley.hotline.resync import require_resynced
from parley.hotline.templates import (
    CATALOGUE,
    CATALOGUE_VERSION,
    catalogue_record,
    check_entry,
    free_text_language,
    template,
)
from parley.hotline.verify import VerifyReport, verify_node
from parley.hotline.views import MessageView, message_views
from parley.store.engine import open_engine, read, write
from parley.store.migrate import current_revision, upgrade_to_head

#: The entry type of each template that is not an ordinary message.
TEMPLATE_TYPES = {5: "ack", 6: "test", 8: "key-rotation"}
ACK_TEMPLATE = 5
FREE_TEXT_TEMPLATE = 9
#: The most sends written in one transaction: bounds a batch's latency and a bundle's growth
#: between two checkpoints (a push may stop only at a checkpoint).
MAX_BATCH = 64


#: An audit row a caller has written with its send: (actor, action, detail).
AuditRow = tuple[str, str, str]


class NodeError(HotlineError):
    """An operation the node refuses (no peer trusted, unknown message, already acknowledged…)."""


@dataclass(frozen=True, slots=True)
class LogView:
    """Both logs as the node holds them, each message with its state."""

    own: list[MessageView]
    peer: list[MessageView]

    def to_json(self) -> dict[str, Any]:
        return {
            "own": [view.to_json() for view in self.own],
            "peer": [view.to_json() for view in self.peer],
        }


@dataclass(slots=True, eq=False)
class PendingSend:
    """One caller's send waiting in a :class:`GroupCommit`: what to write, then its outcome."""

    values: dict[str, Any]
    reply_to: str | None = None
    audit: AuditRow | None = None
    signed: SignedEntry | None = None
    error: BaseException | None = None
    done: bool = False
    lead: bool = False
    ready: threading.Event = field(default_factory=threading.Event)

    def outcome(self) -> SignedEntry:
        if self.error is not None:
            raise self.error
        assert self.signed is not None  # a finished send without an error was written
        return self.signed


class GroupCommit:
    """Leader-follower group commit of the sends of one process.

    The first caller to arrive while nothing is being written leads: it takes up to ``max_batch``
    waiting sends (its own first) and writes them with ``write_batch`` in one transaction. Callers
    arriving meanwhile wait; when the batch is done, the oldest of them leads the next batch with
    everyone who queued up behind it. ``write_batch`` sets each send's ``signed`` or ``error``;
    an exception out of it (the transaction failed) becomes the error of every send of the batch
    that has none, and none of them is reported written.
    """

    def __init__(
        self, write_batch: Callable[[Sequence[PendingSend]], None], max_batch: int = MAX_BATCH
    ) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[PendingSend] = []
        self._writing = False

    def submit(self, pending: PendingSend) -> SignedEntry:
        """Write one send (with whoever else is waiting); its entry once durable."""
        with self._lock:
            self._waiting.append(pending)
            if not self._writing:
                self._writing = pending.lead = True
        if not pending.lead:
            pending.ready.wait()
        if not pending.done:
            self._lead()
        return pending.outcome()

    def _lead(self) -> None:
        with self._lock:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
        try:
            self._write_batch(batch)
        except BaseException as exc:
            for pending in batch:
                if pending.error is None:
                    pending.error = exc
        finally:
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                if successor is None:
                    self._writing = False
                else:
                    successor.lead = True
            for pending in batch:
                pending.done = True
                pending.ready.set()
            if successor is not None:
                successor.ready.set()


class Node:
    """An opened node directory. Use :func:`init_node` or :func:`load_node` to get one."""

    def __init__(
        self, directory: Path, config: NodeConfig, key: PartyKey, engine: Engine, clock: Clock
    ) -> None:
        self.directory = directory
        self.config = config
        self.key = key
        self.engine = engine
        self.clock = clock
        self._ids = MsgIdGenerator(clock)
        self._tree_cache: MerkleTree | None = None
        self._head_hash = ZERO_HASH
        self._tree_lock = threading.Lock()
        #: The peer's log as last verified, so that an import checks only the new entries.
        self.peer_replica = PeerReplicaCache()
        self._group_commit = GroupCommit(self._write_sends)

    def __enter__(self) -> "Node":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @property
    def log_id(self) -> str:
        return self.config.log_id

    @property
    def peer(self) -> PeerConfig:
        peer = self.config.peer
        if peer is None:
            raise NodeError(f"{self.directory}: no peer trusted yet (see parley node trust)")
        return peer

    @property
    def peer_log_id(self) -> str:
        return log_id_for(self.peer.identity)

    def _require_peer(self) -> None:
        self.peer  # noqa: B018  (raises NodeError when no peer is trusted)

    def identity(self) -> PublicIdentity:
        return self.key.identity

    def identity_json(self) -> dict[str, Any]:
        return {**self.key.identity.to_json(), "log_id": self.log_id}

    def trust(self, peer_identity: Mapping[str, Any], url: str) -> str:
        """Pair with the peer; returns its fingerprint, to compare out of band."""
        identity = PublicIdentity.from_json(dict(peer_identity))
        if identity.public_key == self.key.public_key:
            raise NodeError("this is the node's own identity, not a peer's")
        held = self.config.peer
        if held is not None and held.identity != identity:
            raise NodeError(
                f"already paired with {held.identity.party} ({held.identity.fingerprint}); "
                "refusing to trust another key"
            )
        peer_log_id = log_id_for(identity)
        with write(self.engine) as connection:
            if not records.log_exists(connection, peer_log_id):
                records.insert_log(connection, peer_log_id, identity, "peer")
            records.add_audit(
                connection,
                self.clock(),
                self.config.party,
                "trust",
                f"{identity.party} {identity.fingerprint} at {url}",
            )
        self.config = NodeConfig(
            self.config.party, self.log_id, self.config.database, PeerConfig(identity, url)
        )
        write_config(self.directory, self.config)
        return identity.fingerprint

    def send(
        self,
        template_ref: int | str,
        fields: Mapping[str, str],
        reply_to: str | None = None,
        language: str | None = None,
        *,
        audit: AuditRow | None = None,
    ) -> str:
        """Record a message in our log (durably, with a new signed checkpoint); its msg_id.

        ``audit`` is the caller's own audit row (actor, action, detail), such as the API's
        request by an officer: written in the send's transaction, so it is there exactly when the
        message is."""
        template_id = resolve_template(template_ref)
        values = dict(fields)
        reply_to = _reference_link(template_id, values, reply_to)
        if language is not None:
            if template_id != FREE_TEXT_TEMPLATE:
                raise NodeError("a language is stated only for free text (template 9)")
            if values.setdefault("language", language) != language:
                raise NodeError(f"--language {language} contradicts the field language")
        entry_values: dict[str, Any] = {
            "type": TEMPLATE_TYPES.get(template_id, "message"),
            "template": template_id,
            "fields": values,
            "in_reply_to": reply_to,
            "language": free_text_language(template_id, values),
        }
        self._require_peer()
        require_resynced(self.directory)
        return self._group_commit.submit(PendingSend(entry_values, reply_to, audit)).msg_id

    def _write_sends(self, batch: Sequence[PendingSend]) -> None:
        """One transaction for a batch of sends: each checked, signed, stored and scheduled."""
        policy = escalation.load_policy(self.directory)
        with write(self.engine) as connection:
            for pending in batch:
                reply_to = pending.reply_to
                if reply_to is not None and records.msg_id_log(connection, reply_to) is None:
                    pending.error = NodeError(
                        f"--reply-to {reply_to}: no such message in either log"
                    )
            valid = [pending for pending in batch if pending.error is None]
            outcomes = self._append_batch(connection, [p.values for p in valid], "send")
            for pending, outcome in zip(valid, outcomes, strict=True):
                if isinstance(outcome, SignedEntry):
                    pending.signed = outcome
                else:
                    pending.error = outcome
            written = [p for p in valid if p.signed is not None]
            escalation.schedule_many(connection, [p.outcome() for p in written], policy)
            _add_callers_audits(connection, self.clock(), [p.audit for p in written])

    def ack(self, msg_id: str, *, audit: AuditRow | None = None) -> str:
        """Acknowledge a message of the peer (an ACK entry in our log); the ACK's msg_id."""
        with read(self.engine) as connection:
            where = records.msg_id_log(connection, msg_id)
        if where is None or where != self.peer_log_id:
            raise NodeError(f"{msg_id}: not a message in {self.peer.identity.party}'s log")
        views = {view.msg_id: view for view in self.inbox()}
        view = views.get(msg_id)
        if view is None or view.template is None or not template(view.template).requires_ack:
            raise NodeError(f"{msg_id}: this entry of the peer's log takes no acknowledgement")
        if "acknowledged" in view.states:
            raise NodeError(f"{msg_id}: already acknowledged")
        return self.send(ACK_TEMPLATE, {"reference": msg_id}, reply_to=msg_id, audit=audit)

    def inbox(self) -> list[MessageView]:
        """The peer's messages, each with its state (received, acknowledged, answered by us)."""
        return [view for view in self.log().peer if view.type != "catalogue"]

    def log(self) -> LogView:
        with read(self.engine) as connection:
            own = records.stored_entries(connection, self.log_id)
            peer = records.stored_entries(connection, self.peer_log_id) if self.config.peer else []
            receipt = records.latest_cosignature(connection, self.log_id)
        delivered = 0 if receipt is None else receipt.size
        return LogView(
            message_views(own, peer, "own", delivered),
            message_views(peer, own, "peer", len(peer)),
        )

    def verify(self) -> VerifyReport:
        """Both logs, their checkpoints and cosignatures checked again from the raw bytes."""
        return verify_node(self)

    def export_bundle(self, path: Path, after_seq: int | None = None) -> ExportSummary:
        """Write a signed bundle of our log after ``after_seq`` (default: after the receipt)."""
        return export_bundle(self, path, after_seq)

    def import_bundle(self, path: Path) -> ImportSummary:
        """Verify and store a bundle from the peer, and cosign its checkpoint."""
        return import_bundle(self, path)

    def outbox(self) -> list[int]:
        """The seqs of our entries that no receipt covers yet."""
        with read(self.engine) as connection:
            return records.outbox_seqs(connection, self.log_id)

    def own_tree(self, connection: Connection) -> MerkleTree:
        """The Merkle tree of our log as stored; the caller may extend the copy it gets."""
        return self._own_head(connection)[0]

    def _own_head(self, connection: Connection) -> tuple[MerkleTree, str]:
        """A copy of our log's Merkle tree as stored, and the hash of its last entry.

        Entries never change once written, so the tree of the part already read is kept and only
        entries written since (by this or another process) are read and hashed, together with the
        last entry already hashed: when that one is missing or differs (a database restored from
        an older copy) the tree starts afresh. ``verify`` always rebuilds from the raw bytes.
        """
        # The first read begins the transaction (it may wait for another writer's lock): never
        # while holding the tree's lock, which that writer may be waiting for.
        known = self._cached_size()
        rows = records.raw_entries(connection, self.log_id, from_seq=max(known - 1, 0))
        with self._tree_lock:
            cached = self._tree_cache
            if (0 if cached is None else cached.size) != known:
                known = 0 if cached is None else cached.size
                rows = records.raw_entries(connection, self.log_id, from_seq=max(known - 1, 0))
            if cached is not None and known > 0:
                if rows and leaf_hash(signed_part(rows[0])) == cached.leaf(known - 1):
                    rows = rows[1:]
                else:
                    cached, rows = None, records.raw_entries(connection, self.log_id)
            if cached is None:
                cached = MerkleTree()
            for raw in rows:
                cached.append_entry(signed_part(raw))
            if rows:
                self._head_hash = hashlib.sha256(signed_part(rows[-1])).hexdigest()
            elif cached.size == 0:
                self._head_hash = ZERO_HASH
            self._tree_cache = cached
            return cached.copy(), self._head_hash

    def _cached_size(self) -> int:
        cached = self._tree_cache
        return 0 if cached is None else cached.size

    def _append(
        self, connection: Connection, values: Mapping[str, Any], action: str
    ) -> SignedEntry:
        """Sign the next entry of our log and store it with its outbox row and checkpoint."""
        (outcome,) = self._append_batch(connection, [values], action)
        if isinstance(outcome, ParleyError):
            raise outcome
        return outcome

    def _append_batch(
        self, connection: Connection, batch: Sequence[Mapping[str, Any]], action: str
    ) -> list[SignedEntry | ParleyError]:
        """Sign the next entries of our log, in order, and store them with their outbox and audit
        rows and one checkpoint at the new size. An entry the catalogue refuses gets its error in
        its place of the result and takes no seq; the others are written."""
        now = self.clock()
        tree, head_hash = self._own_head(connection)
        peer_head = (
            records.latest_checkpoint(connection, self.peer_log_id) if self.config.peer else None
        )
        peer_ref = None if peer_head is None else {"size": peer_head.size, "root": peer_head.root}
        outcomes: list[SignedEntry | ParleyError] = []
        written: list[SignedEntry] = []
        for values in batch:
            msg_id, time = self._ids.stamp()
            try:
                signed = sign_entry(
                    self.key,
                    seq=tree.size,
                    prev_hash=head_hash,
                    msg_id=msg_id,
                    time=time,
                    catalogue_version=CATALOGUE_VERSION,
                    peer_ref=peer_ref,
                    **values,
                )
                check_entry(signed.entry)
            except ParleyError as exc:
                outcomes.append(exc)
                continue
            tree.append_entry(signed.signed_bytes)
            head_hash = signed.entry_hash
            outcomes.append(signed)
            written.append(signed)
        if not written:
            return outcomes
        records.insert_entries(connection, written, now)
        records.add_many_to_outbox(connection, self.log_id, (s.seq for s in written))
        note = sign_note(
            Checkpoint(self.log_id, tree.size, tree.root()).body(), self.log_id, self.key
        )
        records.insert_checkpoint(connection, self.log_id, tree.size, tree.root().hex(), note, now)
        records.add_audits(
            connection,
            now,
            self.config.party,
            action,
            (
                f"seq {s.seq} {s.entry.type} template {s.entry.template} {s.entry.msg_id}"
                for s in written
            ),
        )
        return outcomes


def _add_callers_audits(
    connection: Connection, now: datetime, audits: Sequence[AuditRow | None]
) -> None:
    """The callers' audit rows of a batch's written sends, one statement per (actor, action)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for audit in audits:
        if audit is not None:
            actor, action, detail = audit
            grouped.setdefault((actor, action), []).append(detail)
    for (actor, action), details in grouped.items():
        records.add_audits(connection, now, actor, action, details)


def signed_part(raw: bytes) -> bytes:
    """The signed bytes of a stored entry: its wire form without the signature line."""
    return raw[: raw.rindex(b"\n", 0, len(raw) - 1)]


def resolve_template(reference: int | str) -> int:
    """A template number from a number or a template key such as ``incident-notification``."""
    if isinstance(reference, int):
        return template(reference).id
    text = reference.strip()
    if text.isdigit():
        return template(int(text)).id
    for candidate in CATALOGUE:
        if candidate.key == text:
            return candidate.id
    keys = ", ".join(f"{t.id} {t.key}" for t in CATALOGUE)
    raise NodeError(f"unknown template {reference!r} (templates: {keys})")


def _reference_link(template_id: int, fields: dict[str, str], reply_to: str | None) -> str | None:
    """Keep ``in_reply_to`` and a template's ``reference`` field the same message."""
    if template(template_id).field("reference") is None:
        return reply_to
    if reply_to is None:
        return fields.get("reference")
    if fields.setdefault("reference", reply_to) != reply_to:
        raise NodeError(f"--reply-to {reply_to} differs from the field reference")
    return reply_to


def init_node(
    directory: Path, party: str, *, database: str = DATABASE_FILE, clock: Clock = utc_now
) -> Node:
    """Create a node directory: a new key, the config, the database and the first entry.

    ``database`` is the file in the directory (SQLite) or a SQLAlchemy URL of an empty database,
    such as ``postgresql+psycopg://parley@db.example/nato``; it is kept in ``node.toml``.
    """
    directory = Path(directory)
    for name in (CONFIG_FILE, KEY_FILE, DATABASE_FILE):
        if (directory / name).exists():
            raise ConfigError(f"{directory}: already a node, or part of one (it holds {name})")
    key = PartyKey.generate(party)
    log_id = log_id_for(key.identity)
    directory.mkdir(parents=True, exist_ok=True)
    config = NodeConfig(party, log_id, database)
    write_key(directory, key)
    engine = open_engine(config.database_location(directory))
    node = Node(directory, config, key, engine, clock)
    try:
        with write(engine) as connection:
            if current_revision(connection) is not None:
                raise ConfigError(f"{database}: this database already holds a node")
            upgrade_to_head(connection)
            records.insert_log(connection, log_id, key.identity, "own")
            node._append(connection, {"type": "catalogue", "fields": catalogue_record()}, "init")
    except BaseException:
        engine.dispose()
        raise
    write_config(directory, config)  # last: node.toml marks a complete node
    return node


def load_node(directory: Path, *, clock: Clock = utc_now) -> Node:
    """Open an existing node directory."""
    directory = Path(directory)
    config = read_config(directory)
    key = read_key(directory, config.party)
    if log_id_for(key.identity) != config.log_id:
        raise ConfigError(f"{directory}: key.pem is not the key of log {config.log_id}")
    engine = open_engine(config.database_location(directory))
    try:
        upgrade_to_head(engine, create=False)  # a node made by an older Parley is upgraded
    except BaseException:
        engine.dispose()
        raise
    return Node(directory, config, key, engine, clock)


__all__ = [
    "ACK_TEMPLATE",
    "MAX_BATCH",
    "TEMPLATE_TYPES",
    "AuditRow",
    "GroupCommit",
    "LogView",
    "Node",
    "NodeError",
    "PendingSend",
    "init_node",
    "load_node",
    "resolve_template",
    "signed_part",
]
