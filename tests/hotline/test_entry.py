"""Log entries: exact signed bytes, one wire form, and every tampering refused with its reason."""

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from parley.hotline.canonical import encode_canonical
from parley.hotline.entry import (
    ENTRY_HEADER,
    MAX_ENTRY_BYTES,
    ZERO_HASH,
    Entry,
    EntrySignatureError,
    MalformedEntryError,
    PeerRef,
    SignedEntry,
    log_id_for,
    parse_signed_entry,
    sign,
    sign_entry,
    verify_signed_entry,
)
from parley.hotline.errors import MalformedError, SignatureError
from parley.hotline.keys import PartyKey
from parley.hotline.msgid import MsgIdGenerator
from parley.hotline.templates import CATALOGUE_VERSION

MSG_ID = "01HWTHJ2T8AAAAAAAAAAAAAAAA"
OTHER_MSG_ID = "01HWTHJ2T8BBBBBBBBBBBBBBBB"
TIME = "2024-05-01T12:30:00.125Z"
ROOT = hashlib.sha256(b"peer").hexdigest()


def free_text(key: PartyKey, **overrides: Any) -> SignedEntry:
    fields: dict[str, Any] = {
        "seq": 3,
        "prev_hash": hashlib.sha256(b"seq 2").hexdigest(),
        "msg_id": MSG_ID,
        "time": TIME,
        "type": "message",
        "template": 9,
        "catalogue_version": CATALOGUE_VERSION,
        "in_reply_to": OTHER_MSG_ID,
        "peer_ref": PeerRef(7, ROOT),
        "language": "ru",
        "fields": {"language": "ru", "text": 'Прошу "уточнить"\nвремя.'},
    }
    fields.update(overrides)
    return sign_entry(key, **fields)


def body_of(signed: SignedEntry) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(signed.signed_bytes[len(ENTRY_HEADER) :])
    return body


def wire(key: PartyKey, body: object, encode: Callable[[Any], bytes] = encode_canonical) -> bytes:
    """Sign any body, however wrong, so that only the parser's own checks can refuse it."""
    signed = ENTRY_HEADER + encode(body)
    return signed + b"\n" + base64.b64encode(key.sign(signed)) + b"\n"


def test_round_trip_keeps_the_exact_bytes(nato: PartyKey) -> None:
    signed = free_text(nato)
    parsed = parse_signed_entry(signed.raw)
    assert parsed == signed
    assert parsed.entry.fields["text"] == 'Прошу "уточнить"\nвремя.'
    assert parsed.entry.peer_ref == PeerRef(7, ROOT)
    assert parsed.entry.log_id == "parley/nato/" + hashlib.sha256(nato.public_key).hexdigest()[:16]
    assert parsed.entry_hash == hashlib.sha256(parsed.signed_bytes).hexdigest()
    assert parsed.verify(nato.identity)
    assert verify_signed_entry(signed.raw, nato.identity) == signed
    header, body, signature, end = signed.raw.split(b"\n")
    assert (header + b"\n", end) == (ENTRY_HEADER, b"")
    assert signed.signed_bytes == ENTRY_HEADER + body
    assert base64.b64decode(signature) == signed.signature
    assert "Прошу".encode() in body  # Cyrillic travels as UTF-8, not as \u escapes


def test_golden_entry(nato: PartyKey) -> None:
    """The format is a contract with the other party's software: these bytes must not drift."""
    signed = sign_entry(
        nato,
        seq=0,
        prev_hash=ZERO_HASH,
        msg_id=MSG_ID,
        time=TIME,
        type="test",
        template=6,
        catalogue_version="1.0",
        fields={"sequence": "1"},
    )
    assert signed.raw == GOLDEN_RAW
    assert signed.entry_hash == "8e81f383ee84e309cad27a509c96c0083c79344bbe332a6306d998e6066a75b1"
    assert parse_signed_entry(GOLDEN_RAW).verify(nato.identity)


GOLDEN_RAW = (
    b"parley-hotline-entry/v1\n"
    b'{"catalogue_version":"1.0","fields":{"sequence":"1"},"in_reply_to":null,"language":null,'
    b'"log_id":"parley/nato/56475aa75463474c","msg_id":"01HWTHJ2T8AAAAAAAAAAAAAAAA",'
    b'"peer_ref":null,"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",'
    b'"seq":0,"template":6,"time":"2024-05-01T12:30:00.125Z","type":"test"}\n'
    b"SeQUgI5I5xZ45RwPcxLTI22W/x6AYQTyQ/tBZkAiZfKDDGFO3qTxjWu/91kFWgk1t81RT59L1T4Ak0+Bjb02AA==\n"
)


def test_every_flipped_bit_is_refused_or_fails_the_signature(nato: PartyKey) -> None:
    raw = free_text(nato).raw
    reasons: set[str] = set()
    for position in range(len(raw)):
        for bit in (0x01, 0x20):
            tampered = bytearray(raw)
            tampered[position] ^= bit
            try:
                parsed = parse_signed_entry(bytes(tampered))
            except MalformedEntryError as exc:
                reasons.add(str(exc).split(":")[0])
                continue
            assert not parsed.verify(nato.identity), f"flip at byte {position} still verifies"
            with pytest.raises(EntrySignatureError):
                parsed.require_signed_by(nato.identity)
    # the parser, not only the signature, catches most of them, and says where
    assert {
        "body",
        "field 'msg_id'",
        "not a hotline entry (no 'parley-hotline-entry/v1' header line)",
    } <= reasons


def test_signature_under_another_key_or_for_another_log(nato: PartyKey, russia: PartyKey) -> None:
    signed = free_text(nato)
    with pytest.raises(SignatureError, match="entry of log 'parley/nato/56475aa75463474c'"):
        signed.require_signed_by(PartyKey.from_seed("nato", bytes(32)).identity)
    with pytest.raises(EntrySignatureError, match="expected 'parley/russia/"):
        verify_signed_entry(signed.raw, russia.identity)
    forged = wire(russia, body_of(signed))  # nato's entry signed by russia
    assert not parse_signed_entry(forged).verify(nato.identity)
    with pytest.raises(EntrySignatureError, match="seq 3: bad signature"):
        verify_signed_entry(forged, nato.identity)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda raw: raw + b"x", "1 bytes after the signature line"),
        (lambda raw: raw + b"\n", "1 bytes after the signature line"),
        (lambda raw: raw + raw, r"\d+ bytes after the signature line"),
        (lambda raw: raw[:-1], "truncated"),
        (lambda raw: raw[: raw.index(b"}") + 1], "truncated"),
        (lambda raw: raw[len(ENTRY_HEADER) :], "not a hotline entry"),
        (lambda raw: raw.replace(b"/v1\n", b"/v2\n", 1), "not a hotline entry"),
        (lambda raw: b"\n" + raw, "not a hotline entry"),
        (lambda raw: raw[:-3] + b"=\n", "signature line is not the base64 of 64 bytes"),
        (lambda raw: raw[:-4] + b"B==\n", "not the base64"),
        (lambda raw: raw[:-90] + b"\n\n", "not the base64"),
        (lambda raw: raw.replace(b'","', b'", "', 1), "body: not the canonical encoding"),
        (lambda raw: raw.replace(b"{", b"{\n", 1), "bytes after the signature line"),
        (lambda raw: b"x" * (MAX_ENTRY_BYTES + 1), "oversized: 65537 bytes"),
    ],
)
def test_malformed_wire_forms_are_refused(
    nato: PartyKey, mangle: Callable[[bytes], bytes], reason: str
) -> None:
    with pytest.raises(MalformedEntryError, match=reason):
        parse_signed_entry(mangle(free_text(nato).raw))


def test_non_canonical_bodies_are_refused_even_when_validly_signed(nato: PartyKey) -> None:
    body = body_of(free_text(nato))
    reordered = wire(
        nato,
        body,
        lambda b: json.dumps(
            dict(reversed(b.items())), ensure_ascii=False, separators=(",", ":")
        ).encode(),
    )
    spaced = wire(nato, body, lambda b: json.dumps(b, sort_keys=True, ensure_ascii=False).encode())
    escaped = wire(
        nato, body, lambda b: json.dumps(b, sort_keys=True, separators=(",", ":")).encode()
    )
    for raw in (reordered, spaced, escaped):
        with pytest.raises(MalformedEntryError, match="body: not the canonical encoding"):
            parse_signed_entry(raw)
    duplicated = wire(nato, body, lambda b: encode_canonical(b)[:-1] + b',"seq":3}')
    with pytest.raises(MalformedEntryError, match="body: duplicate key 'seq'"):
        parse_signed_entry(duplicated)
    with pytest.raises(MalformedEntryError, match=r"body: number 3.0 is not an integer"):
        parse_signed_entry(
            wire(nato, body, lambda b: encode_canonical(b).replace(b'"seq":3', b'"seq":3.0'))
        )


def _changed(field: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body[field] = value

    return change


def _dropped(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.pop(field)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_changed("extra", 1), "unknown field 'extra'"),
        (_dropped("peer_ref"), "missing field 'peer_ref'"),
        (
            _changed("seq", "3"),
            "field 'seq': expected an integer from 0 to 9007199254740991, got '3'",
        ),
        (_changed("seq", -1), "field 'seq': expected an integer"),
        (_changed("seq", True), "field 'seq': expected an integer"),
        (_changed("prev_hash", "AB" * 32), "field 'prev_hash': expected 64 lower-case hex digits"),
        (_changed("prev_hash", ZERO_HASH), "must be 64 zeros for seq 0 and only for seq 0"),
        (_changed("msg_id", "01hwthj2t8aaaaaaaaaaaaaaaa"), "field 'msg_id': expected a message id"),
        (_changed("msg_id", OTHER_MSG_ID), "an entry cannot reply to itself"),
        (_changed("time", "2024-05-01T12:30:00Z"), "field 'time': expected a UTC time"),
        (_changed("time", "2024-13-01T12:30:00.000Z"), "field 'time'"),
        (_changed("time", 1714566600), "field 'time': expected a UTC time .*, got 1714566600"),
        (_changed("type", "chat"), "field 'type': expected one of message, ack, unacknowledged"),
        (_changed("template", 0), "field 'template': expected an integer from 1 to 999"),
        (_changed("template", "9"), "field 'template'"),
        (_changed("catalogue_version", ""), "field 'catalogue_version'"),
        (_changed("in_reply_to", ""), "field 'in_reply_to': expected a message id"),
        (_changed("language", "de"), "field 'language': expected one of en, ru, got 'de'"),
        (_changed("log_id", "nato"), "field 'log_id': expected 'parley/<party>/<16 hex digits>'"),
        (_changed("peer_ref", {"size": 7}), "field 'peer_ref': expected null or"),
        (_changed("peer_ref", {"size": -1, "root": ROOT}), "field 'peer_ref.size'"),
        (_changed("peer_ref", {"size": 1, "root": "00"}), "field 'peer_ref.root'"),
        (
            _changed("fields", ["text"]),
            "field 'fields': expected an object of strings, got a array",
        ),
        (_changed("fields", {"text": 5}), "field 'fields.text': expected a string, got 5"),
        (_changed("fields", {"Text": "x"}), "key 'Text' is not lower-case"),
        (_changed("fields", {"text": None}), "field 'fields.text': expected a string, got a null"),
    ],
)
def test_wrong_fields_are_refused_by_name(
    nato: PartyKey, change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    body = body_of(free_text(nato))
    change(body)
    with pytest.raises(MalformedEntryError, match=reason):
        parse_signed_entry(wire(nato, body))


def test_bodies_that_are_not_objects(nato: PartyKey) -> None:
    with pytest.raises(MalformedEntryError, match="the body is a JSON array, not an object"):
        parse_signed_entry(wire(nato, []))
    with pytest.raises(MalformedEntryError, match="an entry is bytes, got str"):
        parse_signed_entry("text")  # type: ignore[arg-type]


def test_sign_entry_validates_and_defaults(
    nato: PartyKey, russia: PartyKey, ids: MsgIdGenerator
) -> None:
    msg_id, time = ids.stamp()
    signed = sign_entry(
        nato,
        seq=0,
        prev_hash=ZERO_HASH,
        msg_id=msg_id,
        time=time,
        type="test",
        catalogue_version=CATALOGUE_VERSION,
    )
    assert signed.entry.fields == {}
    assert (signed.entry.template, signed.entry.in_reply_to, signed.entry.peer_ref) == (None,) * 3
    assert signed.entry.time == "2024-05-01T12:30:00.000Z"
    with pytest.raises(MalformedEntryError, match=r"field 'log_id': .* is not this key's log"):
        free_text(nato, log_id=log_id_for(russia.identity))
    with pytest.raises(MalformedEntryError, match="unknown field 'colour'"):
        free_text(nato, colour="red")
    with pytest.raises(MalformedEntryError, match=r"field 'fields.text': expected a string"):
        free_text(nato, fields={"text": 1})
    with pytest.raises(MalformedError, match=r"field 'seq'"):
        free_text(nato, seq=1.0)
    with pytest.raises(MalformedEntryError, match="field 'fields': key 1 is not"):
        free_text(nato, fields={1: "x"})


def test_sign_refuses_entries_of_other_logs(nato: PartyKey, russia: PartyKey) -> None:
    entry = free_text(nato).entry
    with pytest.raises(MalformedEntryError, match="is not this key's log"):
        sign(russia, entry)
    assert sign(nato, entry).raw == free_text(nato).raw  # Ed25519 is deterministic


def test_oversized_entries_cannot_be_signed_or_parsed(nato: PartyKey) -> None:
    with pytest.raises(MalformedEntryError, match=r"oversized: 7\d{4} bytes \(limit 65536\)"):
        free_text(nato, fields={"text": "x" * 70_000})
    # the limit counts bytes, not characters: Cyrillic takes two bytes each
    with pytest.raises(MalformedEntryError, match="oversized"):
        free_text(nato, fields={"text": "ж" * 33_000})
    fits = free_text(nato, fields={"text": "ж" * 32_000})
    assert len(fits.raw) <= MAX_ENTRY_BYTES
    body = body_of(fits)
    body["fields"]["text"] = "ж" * 33_000
    with pytest.raises(MalformedEntryError, match=r"oversized: 66\d{3} bytes"):
        parse_signed_entry(wire(nato, body))


def test_entries_compare_by_value_and_hash(nato: PartyKey) -> None:
    first = free_text(nato).entry
    again = Entry.from_json(first.to_json())
    assert again == first
    assert hash(again) == hash(first)
    assert again.signed_bytes() == free_text(nato).signed_bytes
