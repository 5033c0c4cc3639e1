"""Signed notes, checkpoints, cosignatures and joint checkpoints (C2SP formats)."""

import base64
import hashlib

import pytest

from parley.hotline.checkpoint import (
    COSIGNATURE_HEADER,
    MAX_NOTE_BYTES,
    SIGNATURE_TYPE_COSIGNATURE,
    SIGNATURE_TYPE_ED25519,
    Checkpoint,
    NoteVerifier,
    cosign_note,
    joint_checkpoint_body,
    key_id,
    merge_notes,
    open_note,
    parse_checkpoint,
    parse_joint_checkpoint,
    sign_note,
    split_note,
)
from parley.hotline.errors import HotlineError, MalformedError, SignatureError
from parley.hotline.keys import PartyKey, verify_signature
from parley.hotline.merkle import leaf_hash, root

# ---------------------------------------------------------------------------------------------
# Interoperability vectors.
# golang.org/x/mod/sumdb/note, note_test.go (BSD-3-Clause, the reference implementation of the
# signed-note format): the PeterNeumann and EnochRoot keys, their signatures and bad messages.
# transparency-dev/formats, note/note_cosigv1_test.go (Apache-2.0): verifier keys of both
# signature types and a cosignature whose timestamp is 1727964367.
# ---------------------------------------------------------------------------------------------

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33"
    "WWd1RvMc+QQ=\n"
)
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
CONVERTIBLE_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
COSIGNATURE_BLOB = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXO"
    "RmnFBOBA=="
)

#: The example checkpoint of c2sp.org/tlog-checkpoint.
C2SP_CHECKPOINT_BODY = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)

NATO = PartyKey.from_seed("nato", bytes(range(32)))
RUSSIA = PartyKey.from_seed("russia", bytes(range(32, 64)))
INTRUDER = PartyKey.from_seed("nato", bytes(range(64, 96)))
NATO_SIGNER = NoteVerifier.signer("nato", NATO.public_key)
NATO_COSIGNER = NoteVerifier.cosigner("nato", NATO.public_key)
RUSSIA_SIGNER = NoteVerifier.signer("russia", RUSSIA.public_key)
RUSSIA_COSIGNER = NoteVerifier.cosigner("russia", RUSSIA.public_key)

NATO_LOG = Checkpoint(
    "nato.parley/log", 3, root([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
)
RUSSIA_LOG = Checkpoint("russia.parley/log", 1, root([leaf_hash(b"x")]))


def _peter_key() -> PartyKey:
    material = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert material[0] == SIGNATURE_TYPE_ED25519
    return PartyKey.from_seed("PeterNeumann", material[1:])


# --- the reference implementation's vectors ---------------------------------------------------


def test_sign_note_reproduces_the_go_reference_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", _peter_key()) == GO_TEXT + "\n" + PETER_SIG


def test_verifier_keys_and_key_ids_match_the_reference() -> None:
    peter = NoteVerifier.from_vkey(PETER_VKEY)
    assert peter.key_name == "PeterNeumann"
    assert peter.key_id.hex() == "c74f20a3"
    assert peter.signature_type == SIGNATURE_TYPE_ED25519
    assert peter.public_key == _peter_key().public_key
    assert peter.vkey() == PETER_VKEY
    cosigner = NoteVerifier.from_vkey(COSIGNER_VKEY)
    assert cosigner.signature_type == SIGNATURE_TYPE_COSIGNATURE
    assert cosigner.key_id.hex() == "da77ade7"
    assert cosigner.vkey() == COSIGNER_VKEY
    assert NoteVerifier.from_vkey(CONVERTIBLE_VKEY).key_id.hex() == "7997405c"


def test_open_the_reference_notes() -> None:
    peter, enoch = NoteVerifier.from_vkey(PETER_VKEY), NoteVerifier.from_vkey(ENOCH_VKEY)
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [peter]) == (GO_TEXT, ["PeterNeumann"], {})
    assert open_note(note, [peter, enoch]).signers == ["PeterNeumann", "EnochRoot"]
    assert open_note(note.encode("utf-8"), [enoch]).signers == ["EnochRoot"]
    with pytest.raises(SignatureError, match="no signature from a trusted key"):
        open_note(note, [])
    repeated = GO_TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG
    assert open_note(repeated, [peter]).signers == ["PeterNeumann"]


def test_reference_bad_signature_and_too_many_signatures() -> None:
    peter = NoteVerifier.from_vkey(PETER_VKEY)
    corrupted = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(SignatureError, match=r"PeterNeumann\+c74f20a3 does not verify"):
        open_note(GO_TEXT + "\n" + corrupted, [peter])
    with pytest.raises(MalformedError, match="more than 100 signatures"):
        open_note(GO_TEXT + "\n" + PETER_SIG * 101, [peter])
    assert open_note(GO_TEXT + "\n" + PETER_SIG * 100, [peter]).signers == ["PeterNeumann"]


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(),
        GO_TEXT + "\n— Bad Name " + PETER_SIG.split(" ")[2].rstrip("\n"),
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_reference_malformed_messages(message: str | bytes) -> None:
    with pytest.raises(MalformedError):
        open_note(message, [NoteVerifier.from_vkey(PETER_VKEY)])


def test_cosignature_layout_matches_the_reference_timestamp() -> None:
    _, lines = split_note(C2SP_CHECKPOINT_BODY + "\n— witness " + COSIGNATURE_BLOB + "\n")
    assert len(lines[0].payload) == 8 + 64
    assert int.from_bytes(lines[0].payload[:8], "big") == 1727964367


# --- checkpoints ------------------------------------------------------------------------------


def test_checkpoint_body_is_the_c2sp_text() -> None:
    checkpoint = parse_checkpoint(C2SP_CHECKPOINT_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.body() == C2SP_CHECKPOINT_BODY
    expected = f"nato.parley/log\n3\n{base64.b64encode(NATO_LOG.root).decode()}\n"
    assert NATO_LOG.body() == expected
    assert parse_checkpoint(expected) == NATO_LOG


def test_checkpoint_extension_lines_round_trip() -> None:
    body = C2SP_CHECKPOINT_BODY + "note one\nnote two\n"
    checkpoint = parse_checkpoint(body)
    assert checkpoint.extensions == ("note one", "note two")
    assert checkpoint.body() == body


def test_empty_log_checkpoint() -> None:
    empty = Checkpoint("nato.parley/log", 0, root([]))
    assert empty.body().split("\n")[1] == "0"
    assert parse_checkpoint(empty.body()) == empty


@pytest.mark.parametrize(
    ("size_line", "reason"),
    [
        ("12a", "not a decimal tree size"),
        ("-1", "not a decimal tree size"),
        ("012", "not a decimal tree size"),
        ("1.0", "not a decimal tree size"),
        (" 12", "not a decimal tree size"),
        ("+12", "not a decimal tree size"),
        ("١٢", "not a decimal tree size"),
        ("0x10", "not a decimal tree size"),
        (str(2**64), "not a decimal tree size"),
    ],
)
def test_checkpoint_with_a_bad_size_is_rejected(size_line: str, reason: str) -> None:
    body = C2SP_CHECKPOINT_BODY.replace("20852163", size_line)
    with pytest.raises(MalformedError, match=reason):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    ("root_line", "reason"),
    [
        ("not base64!", "not valid base64"),
        ("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I", "not valid base64"),
        ("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=", "not canonical base64"),
        ("CsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=", "not valid base64"),
        (base64.b64encode(bytes(31)).decode(), "31 bytes, not 32"),
        (base64.b64encode(bytes(33)).decode(), "33 bytes, not 32"),
    ],
)
def test_checkpoint_with_a_bad_root_is_rejected(root_line: str, reason: str) -> None:
    body = C2SP_CHECKPOINT_BODY.replace("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", root_line)
    with pytest.raises(MalformedError, match=reason):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("example.com/log\n5\n", "an origin, a size and a root"),
        ("example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", "newline"),
        ("\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "empty line"),
        (C2SP_CHECKPOINT_BODY + "\n", "empty line"),
    ],
)
def test_checkpoint_with_bad_lines_is_rejected(body: str, reason: str) -> None:
    with pytest.raises(MalformedError, match=reason):
        parse_checkpoint(body)


def test_checkpoint_fields_are_validated() -> None:
    with pytest.raises(MalformedError, match="origin"):
        Checkpoint("", 1, bytes(32))
    with pytest.raises(MalformedError, match="origin"):
        Checkpoint("a\nb", 1, bytes(32))
    with pytest.raises(MalformedError, match="out of range"):
        Checkpoint("log", -1, bytes(32))
    with pytest.raises(MalformedError, match="integer"):
        Checkpoint("log", True, bytes(32))
    with pytest.raises(MalformedError, match="32 bytes"):
        Checkpoint("log", 1, bytes(31))
    with pytest.raises(MalformedError, match="extension"):
        Checkpoint("log", 1, bytes(32), ("",))


# --- signing and opening ------------------------------------------------------------------------


def test_sign_and_open_round_trip() -> None:
    note = sign_note(NATO_LOG.body(), "nato", NATO)
    opened = open_note(note, [NATO_SIGNER, RUSSIA_SIGNER])
    assert opened.body == NATO_LOG.body()
    assert opened.signers == ["nato"]
    assert opened.cosigned_at == {}
    assert parse_checkpoint(opened.body) == NATO_LOG
    assert note.startswith(NATO_LOG.body() + "\n— nato ")
    assert sign_note(NATO_LOG.body(), "nato", NATO) == note  # Ed25519 is deterministic


def test_signature_line_carries_the_key_id_and_signs_the_text() -> None:
    note = sign_note(NATO_LOG.body(), "nato", NATO)
    blob = base64.b64decode(note.rsplit(" ", 1)[1])
    material = b"nato\n\x01" + NATO.public_key
    assert blob[:4] == hashlib.sha256(material).digest()[:4] == NATO_SIGNER.key_id
    assert verify_signature(NATO.public_key, blob[4:], NATO_LOG.body().encode())


def test_tampered_body_is_rejected() -> None:
    note = sign_note(NATO_LOG.body(), "nato", NATO)
    forged = note.replace("\n3\n", "\n2\n", 1)
    with pytest.raises(SignatureError, match=r"signature of nato\+[0-9a-f]{8} does not verify"):
        open_note(forged, [NATO_SIGNER])


def test_tampered_signature_is_rejected() -> None:
    note = sign_note(NATO_LOG.body(), "nato", NATO)
    body, signature = note.rsplit(" ", 1)
    blob = bytearray(base64.b64decode(signature))
    blob[10] ^= 0x01
    forged = body + " " + base64.b64encode(bytes(blob)).decode() + "\n"
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(forged, [NATO_SIGNER])


def test_truncated_signature_from_a_trusted_key_is_rejected() -> None:
    note = sign_note(NATO_LOG.body(), "nato", NATO)
    body, signature = note.rsplit(" ", 1)
    short = base64.b64encode(base64.b64decode(signature)[:-1]).decode()
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(body + " " + short + "\n", [NATO_SIGNER])


def test_wrong_key_under_a_trusted_name_is_rejected() -> None:
    forged = sign_note(NATO_LOG.body(), "nato", INTRUDER)
    with pytest.raises(SignatureError, match="a key named nato signed, but not the trusted one"):
        open_note(forged, [NATO_SIGNER])


def test_unknown_key_name_is_rejected() -> None:
    note = sign_note(NATO_LOG.body(), "someone-else", NATO)
    with pytest.raises(SignatureError, match=r"no signature from a trusted key.*someone-else\+"):
        open_note(note, [NATO_SIGNER, RUSSIA_SIGNER])


def test_a_bad_trusted_signature_rejects_the_whole_note() -> None:
    good = sign_note(NATO_LOG.body(), "russia", RUSSIA)
    body, line = sign_note(NATO_LOG.body(), "nato", NATO).split("\n\n")
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[-1] ^= 0x80
    broken = body + "\n\n— nato " + base64.b64encode(bytes(blob)).decode() + "\n"
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(merge_notes(good, broken), [NATO_SIGNER, RUSSIA_SIGNER])


def test_only_signatures_are_accepted_from_a_signer_key() -> None:
    """A cosignature is not a checkpoint signature: the type byte in the key ID keeps them apart."""
    cosigned = cosign_note(NATO_LOG.body(), "russia", RUSSIA, 1_700_000_000)
    with pytest.raises(SignatureError, match="no signature from a trusted key"):
        open_note(cosigned, [RUSSIA_SIGNER])
    signed = sign_note(NATO_LOG.body(), "russia", RUSSIA)
    with pytest.raises(SignatureError, match="no signature from a trusted key"):
        open_note(signed, [RUSSIA_COSIGNER])


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda n: n.replace("\n\n", "\n", 1), "no blank line"),
        (lambda n: n.replace("\n\n", "\n\n\n", 1), "more than one blank line"),
        (lambda n: n.replace("\n\n", "\n \n", 1), "no blank line"),
        (lambda n: n[:-1], "do not end with a newline"),
        (lambda n: n + "\n", "no signature lines"),
        (lambda n: n.replace("— ", "-- ", 1), "does not start with '— '"),
        (lambda n: n.replace("— ", "– ", 1), "does not start with '— '"),
        (lambda n: n.replace("— nato ", "— nato  ", 1), "is not '— <key name> <base64 signature>'"),
        (lambda n: n.replace("— nato ", "— na+to ", 1), "invalid key name"),
        (lambda n: n.replace("— nato ", "— nato\u00a0x ", 1), "invalid key name"),
        (lambda n: n.rstrip("\n") + "!\n", "not valid base64"),
        (lambda n: n.replace("=\n", "\n"), "not valid base64"),
        (lambda n: n.replace("\n3\n", "\n3\r\n", 1), "control character"),
        (lambda n: n.replace("\n3\n", "\n3\t\n", 1), "control character"),
        (lambda n: "\n" + n, "empty line"),
        (lambda n: n.split("\n\n")[0] + "\n\n— nato AAAA\n", "too short"),
        (lambda n: n.split("\n\n")[0] + "\n\n\n", "no signature lines"),
        (lambda n: "\n\n" + n.split("\n\n")[1], "the note text is empty"),
    ],
)
def test_malformed_notes_are_rejected_with_a_reason(mangle: object, reason: str) -> None:
    note = sign_note(NATO_LOG.body(), "nato", NATO)
    assert callable(mangle)
    with pytest.raises(MalformedError, match=reason):
        open_note(mangle(note), [NATO_SIGNER])


def test_non_canonical_base64_signature_is_rejected() -> None:
    note = sign_note(NATO_LOG.body(), "nato", NATO)
    body, signature = note.rsplit(" ", 1)
    # 68 bytes end in a group of two bytes: one padding character, two spare bits that must be 0.
    last = signature.rstrip("=\n")[-1]
    twin = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    nudged = twin[twin.index(last) + 1]
    forged = body + " " + signature.rstrip("=\n")[:-1] + nudged + "=\n"
    assert base64.b64decode(forged.rsplit(" ", 1)[1]) == base64.b64decode(signature)
    with pytest.raises(MalformedError, match="not canonical base64"):
        open_note(forged, [NATO_SIGNER])


def test_oversized_and_non_utf8_notes_are_rejected() -> None:
    line = "x" * 40 + "\n"
    with pytest.raises(MalformedError, match="would be larger than"):
        sign_note(line * (MAX_NOTE_BYTES // len(line)), "nato", NATO)
    huge = line * (MAX_NOTE_BYTES // len(line)) + "\n" + sign_note(line, "nato", NATO)[42:]
    with pytest.raises(MalformedError, match="larger than"):
        open_note(huge, [NATO_SIGNER])
    with pytest.raises(MalformedError, match="larger than"):
        open_note(huge.encode(), [NATO_SIGNER])
    with pytest.raises(MalformedError, match="not valid UTF-8"):
        open_note(b"\xc3\x28\n\n- x AAAA\n", [NATO_SIGNER])
    with pytest.raises(MalformedError, match="not valid Unicode"):
        open_note("\ud800\n\n— nato AAAAAAAA\n", [NATO_SIGNER])


def test_sign_note_refuses_what_it_could_not_open() -> None:
    with pytest.raises(MalformedError, match="does not end with a newline"):
        sign_note("origin\n5", "nato", NATO)
    with pytest.raises(MalformedError, match="empty line"):
        sign_note("a\n\nb\n", "nato", NATO)
    with pytest.raises(MalformedError, match="control character"):
        sign_note("a\x00\n", "nato", NATO)
    with pytest.raises(MalformedError, match="invalid key name"):
        sign_note("a\n", "na to", NATO)
    with pytest.raises(MalformedError, match="invalid key name"):
        sign_note("a\n", "", NATO)
    with pytest.raises(MalformedError, match="not valid Unicode"):
        sign_note("\ud800\n", "nato", NATO)
    with pytest.raises(MalformedError, match="may not start with 'cosignature/v1'"):
        sign_note(f"{COSIGNATURE_HEADER}\ntime 1\n" + NATO_LOG.body(), "nato", NATO)


def test_ambiguous_verifiers_are_refused() -> None:
    twin = NoteVerifier.signer("nato", INTRUDER.public_key)
    # Same name and a colliding key ID is astronomically unlikely; force one to test the rule.
    object.__setattr__(twin, "key_id", NATO_SIGNER.key_id)
    with pytest.raises(SignatureError, match="ambiguous key nato"):
        open_note(sign_note("a\n", "nato", NATO), [NATO_SIGNER, twin])
    assert open_note(sign_note("a\n", "nato", NATO), [NATO_SIGNER, NATO_SIGNER]).signers


def test_errors_belong_to_the_parley_family() -> None:
    from parley.errors import ParleyError

    assert issubclass(MalformedError, HotlineError)
    assert issubclass(SignatureError, HotlineError)
    assert issubclass(HotlineError, ParleyError)


# --- verifier keys ----------------------------------------------------------------------------


def test_vkey_round_trip_and_errors() -> None:
    for verifier in (NATO_SIGNER, NATO_COSIGNER, RUSSIA_SIGNER):
        assert NoteVerifier.from_vkey(verifier.vkey()) == verifier
    assert NATO_SIGNER.key_id != NATO_COSIGNER.key_id
    assert NATO_COSIGNER.key_id == key_id("nato", NATO.public_key, SIGNATURE_TYPE_COSIGNATURE)
    name, kid, material = NATO_SIGNER.vkey().split("+", 2)
    with pytest.raises(MalformedError, match="wrong key ID"):
        NoteVerifier.from_vkey(f"{name}+00000000+{material}")
    with pytest.raises(MalformedError, match="<name>"):
        NoteVerifier.from_vkey(f"{name}+{kid}")
    with pytest.raises(MalformedError, match="not valid base64"):
        NoteVerifier.from_vkey(f"{name}+{kid}+@@@@")
    ecdsa = base64.b64encode(b"\x02" + NATO.public_key).decode()
    with pytest.raises(MalformedError, match="unsupported signature type 0x02"):
        NoteVerifier.from_vkey(f"{name}+{kid}+{ecdsa}")
    short = base64.b64encode(b"\x01" + NATO.public_key[:31]).decode()
    with pytest.raises(MalformedError, match="not a 32-byte Ed25519 key"):
        NoteVerifier.from_vkey(f"{name}+{kid}+{short}")


# --- cosignatures: the delivery receipt -----------------------------------------------------------

TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z


def _receipted_checkpoint() -> str:
    signed = sign_note(NATO_LOG.body(), "nato", NATO)
    receipt = cosign_note(NATO_LOG.body(), "russia", RUSSIA, TIMESTAMP)
    return merge_notes(signed, receipt)


def test_cosignature_round_trip() -> None:
    note = _receipted_checkpoint()
    opened = open_note(note, [NATO_SIGNER, RUSSIA_COSIGNER])
    assert opened.body == NATO_LOG.body()
    assert opened.signers == ["nato", "russia"]
    assert opened.cosigned_at == {"russia": TIMESTAMP}
    assert open_note(note, [RUSSIA_COSIGNER]).signers == ["russia"]


def test_cosignature_is_the_c2sp_timestamped_signature() -> None:
    receipt = cosign_note(NATO_LOG.body(), "russia", RUSSIA, TIMESTAMP)
    body, line = receipt.split("\n\n")
    assert body + "\n" == NATO_LOG.body()
    name, encoded = line.removeprefix("— ").rstrip("\n").split(" ")
    blob = base64.b64decode(encoded)
    assert name == "russia"
    assert len(blob) == 4 + 8 + 64
    assert blob[:4] == hashlib.sha256(b"russia\n\x04" + RUSSIA.public_key).digest()[:4]
    assert int.from_bytes(blob[4:12], "big") == TIMESTAMP
    message = f"cosignature/v1\ntime {TIMESTAMP}\n".encode() + NATO_LOG.body().encode()
    assert verify_signature(RUSSIA.public_key, blob[12:], message)


def test_cosignature_timestamp_in_the_future_is_rejected() -> None:
    note = _receipted_checkpoint()
    verifiers = [NATO_SIGNER, RUSSIA_COSIGNER]
    assert open_note(note, verifiers, now=TIMESTAMP).cosigned_at == {"russia": TIMESTAMP}
    assert open_note(note, verifiers, now=TIMESTAMP - 300).signers == ["nato", "russia"]
    with pytest.raises(SignatureError, match="301 s ahead of this node's clock"):
        open_note(note, verifiers, now=TIMESTAMP - 301)
    with pytest.raises(SignatureError, match="ahead"):
        open_note(note, verifiers, now=TIMESTAMP - 10, max_future_s=0)


def test_tampered_cosignature_timestamp_is_rejected() -> None:
    receipt = cosign_note(NATO_LOG.body(), "russia", RUSSIA, TIMESTAMP)
    body, line = receipt.split("\n\n")
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[4:12] = (TIMESTAMP + 3600).to_bytes(8, "big")
    forged = body + "\n\n— russia " + base64.b64encode(bytes(blob)).decode() + "\n"
    with pytest.raises(SignatureError, match=r"cosignature of russia\+[0-9a-f]{8} does not verify"):
        open_note(forged, [RUSSIA_COSIGNER])


def test_cosignature_of_another_checkpoint_is_rejected() -> None:
    receipt = cosign_note(NATO_LOG.body(), "russia", RUSSIA, TIMESTAMP)
    line = receipt.split("\n\n")[1]
    older = Checkpoint(NATO_LOG.origin, 2, root([leaf_hash(b"a"), leaf_hash(b"b")]))
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(older.body() + "\n" + line, [RUSSIA_COSIGNER])


def test_malformed_cosignatures_are_rejected() -> None:
    kid = RUSSIA_COSIGNER.key_id
    body = NATO_LOG.body()
    too_late = kid + (2**63).to_bytes(8, "big") + bytes(64)
    with pytest.raises(SignatureError, match="out-of-range timestamp"):
        open_note(
            body + "\n— russia " + base64.b64encode(too_late).decode() + "\n", [RUSSIA_COSIGNER]
        )
    short = kid + TIMESTAMP.to_bytes(8, "big") + bytes(10)
    with pytest.raises(SignatureError, match="wrong length"):
        open_note(body + "\n— russia " + base64.b64encode(short).decode() + "\n", [RUSSIA_COSIGNER])
    with pytest.raises(MalformedError, match="out of range"):
        cosign_note(body, "russia", RUSSIA, -1)
    with pytest.raises(MalformedError, match="out of range"):
        cosign_note(body, "russia", RUSSIA, 2**63)
    with pytest.raises(MalformedError, match="integer"):
        cosign_note(body, "russia", RUSSIA, 1.5)  # type: ignore[arg-type]
    with pytest.raises(MalformedError, match="a checkpoint has"):
        cosign_note("just some text\n", "russia", RUSSIA, TIMESTAMP)


# --- merging --------------------------------------------------------------------------------


def test_merge_keeps_each_line_once_and_refuses_different_texts() -> None:
    signed = sign_note(NATO_LOG.body(), "nato", NATO)
    assert merge_notes(signed, signed) == signed
    with pytest.raises(MalformedError, match="same text"):
        merge_notes(signed, sign_note(RUSSIA_LOG.body(), "russia", RUSSIA))
    with pytest.raises(MalformedError, match="no notes"):
        merge_notes()
    many = [sign_note(NATO_LOG.body(), f"witness{i}", NATO) for i in range(101)]
    with pytest.raises(MalformedError, match="more than 100 signatures"):
        merge_notes(*many)


# --- joint checkpoints ------------------------------------------------------------------------


def test_joint_checkpoint_body_is_canonical() -> None:
    body = joint_checkpoint_body(RUSSIA_LOG, NATO_LOG)
    assert body == joint_checkpoint_body(NATO_LOG, RUSSIA_LOG)
    assert body == "parley/joint-checkpoint/v1\n" + NATO_LOG.body() + RUSSIA_LOG.body()
    assert parse_joint_checkpoint(body) == (NATO_LOG, RUSSIA_LOG)


def test_joint_checkpoint_signed_by_both_parties() -> None:
    body = joint_checkpoint_body(NATO_LOG, RUSSIA_LOG)
    by_nato = sign_note(body, "nato", NATO)
    by_russia = sign_note(body, "russia", RUSSIA)
    joint = merge_notes(by_nato, by_russia)
    verifiers = [NATO_SIGNER, RUSSIA_SIGNER]
    opened = open_note(joint, verifiers)
    assert opened.signers == ["nato", "russia"]
    assert parse_joint_checkpoint(opened.body) == (NATO_LOG, RUSSIA_LOG)
    assert open_note(by_nato, verifiers).signers == ["nato"]
    assert open_note(by_russia, verifiers).signers == ["russia"]


def test_joint_checkpoint_is_not_a_log_checkpoint() -> None:
    body = joint_checkpoint_body(NATO_LOG, RUSSIA_LOG)
    with pytest.raises(MalformedError):
        parse_checkpoint(body)
    with pytest.raises(MalformedError, match="joint checkpoint is the line"):
        parse_joint_checkpoint(NATO_LOG.body())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("parley/joint-checkpoint/v2\n" + NATO_LOG.body() + RUSSIA_LOG.body(), "is the line"),
        ("parley/joint-checkpoint/v1\n" + NATO_LOG.body(), "is the line"),
        ("parley/joint-checkpoint/v1\n" + RUSSIA_LOG.body() + NATO_LOG.body(), "origin order"),
        ("parley/joint-checkpoint/v1\n" + NATO_LOG.body() + NATO_LOG.body(), "origin order"),
        (
            "parley/joint-checkpoint/v1\n"
            + NATO_LOG.body()
            + RUSSIA_LOG.body().replace("\n1\n", "\nx\n"),
            "not a decimal tree size",
        ),
    ],
)
def test_malformed_joint_checkpoints_are_rejected(body: str, reason: str) -> None:
    with pytest.raises(MalformedError, match=reason):
        parse_joint_checkpoint(body)


def test_joint_checkpoint_needs_two_plain_logs() -> None:
    with pytest.raises(MalformedError, match="needs two logs"):
        joint_checkpoint_body(NATO_LOG, NATO_LOG)
    extended = Checkpoint(NATO_LOG.origin, NATO_LOG.size, NATO_LOG.root, ("extra",))
    with pytest.raises(MalformedError, match="without extension lines"):
        joint_checkpoint_body(extended, RUSSIA_LOG)
