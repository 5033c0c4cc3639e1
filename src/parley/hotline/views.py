"""What a duty officer sees of each entry: its fields, its rendered text and its state.

States are derived from the two logs, never stored:

* of our own messages: ``recorded`` (in our log), ``delivered`` (a receipt, the peer's cosignature,
  covers its seq), ``acknowledged`` (an ACK entry in the peer's log refers to it), ``answered`` (a
  message in the peer's log replies to it), ``unacknowledged`` (the escalation ladder ran out: our
  own ``unacknowledged`` entry refers to it, and no ACK came);
* of the peer's messages: ``received``, ``acknowledged`` and ``answered`` (by us, in our log).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parley.hotline.entry import parse_signed_entry
from parley.hotline.errors import HotlineError, MalformedError
from parley.hotline.records import StoredEntry
from parley.hotline.templates import TemplateError, render, template

STATES_OWN = ("recorded", "delivered", "acknowledged", "answered", "unacknowledged")
STATES_PEER = ("received", "acknowledged", "answered")


@dataclass(frozen=True, slots=True)
class MessageView:
    log: str
    log_id: str
    seq: int
    msg_id: str
    time: str
    type: str
    template: int | None
    template_key: str | None
    in_reply_to: str | None
    language: str | None
    fields: dict[str, str]
    states: tuple[str, ...]
    text: str = field(default="")

    @property
    def state(self) -> str:
        return self.states[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "log": self.log,
            "log_id": self.log_id,
            "seq": self.seq,
            "msg_id": self.msg_id,
            "time": self.time,
            "type": self.type,
            "template": self.template,
            "template_key": self.template_key,
            "in_reply_to": self.in_reply_to,
            "language": self.language,
            "fields": self.fields,
            "state": self.state,
            "states": list(self.states),
            "text": self.text,
        }


def message_views(
    entries: Sequence[StoredEntry], other: Sequence[StoredEntry], role: str, delivered_size: int
) -> list[MessageView]:
    """The views of one log's entries; ``other`` is the other log (where acks and replies are).

    ``role`` is ``own`` or ``peer``; ``delivered_size`` is how much of an own log a receipt covers.
    """
    acked = {e.in_reply_to for e in other if e.type == "ack" and e.in_reply_to}
    answered = {e.in_reply_to for e in other if e.type == "message" and e.in_reply_to}
    proven_unanswered = {
        e.in_reply_to for e in entries if e.type == "unacknowledged" and e.in_reply_to
    }
    views: list[MessageView] = []
    for stored in entries:
        try:
            entry = parse_signed_entry(stored.raw).entry
        except MalformedError as exc:
            raise HotlineError(
                f"stored entry {stored.log_id} seq {stored.seq} is malformed ({exc}); "
                "run parley hotline verify"
            ) from None
        states = ["recorded" if role == "own" else "received"]
        if role == "own" and stored.seq < delivered_size:
            states.append("delivered")
        if stored.msg_id in acked:
            states.append("acknowledged")
        if stored.msg_id in answered:
            states.append("answered")
        if role == "own" and stored.msg_id in proven_unanswered and stored.msg_id not in acked:
            states.append("unacknowledged")
        views.append(
            MessageView(
                log=role,
                log_id=entry.log_id,
                seq=entry.seq,
                msg_id=entry.msg_id,
                time=entry.time,
                type=entry.type,
                template=entry.template,
                template_key=_template_key(entry.template),
                in_reply_to=entry.in_reply_to,
                language=entry.language,
                fields=dict(entry.fields),
                states=tuple(states),
                text=_text(entry.template, entry.fields),
            )
        )
    return views


def _template_key(template_id: int | None) -> str | None:
    if template_id is None:
        return None
    try:
        return template(template_id).key
    except TemplateError:
        return None


def _text(template_id: int | None, fields: Any) -> str:
    if template_id is None:
        return ""
    try:
        return render(template_id, fields, "en")
    except TemplateError as exc:
        return f"(cannot render: {exc})"


__all__ = ["STATES_OWN", "STATES_PEER", "MessageView", "message_views"]
