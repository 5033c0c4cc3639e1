"""The template catalogue: both languages render the same fields, bad values are named, the hash
is stable and follows every change of text."""

import re
from dataclasses import replace
from typing import Any

import pytest

from parley.errors import InputError
from parley.hotline.canonical import decode_canonical, encode_canonical
from parley.hotline.entry import ZERO_HASH, Entry, parse_signed_entry, sign_entry
from parley.hotline.keys import PartyKey
from parley.hotline.msgid import MsgIdGenerator
from parley.hotline.templates import (
    CATALOGUE,
    CATALOGUE_VERSION,
    Template,
    TemplateError,
    catalogue_hash,
    catalogue_json,
    catalogue_record,
    check_entry,
    free_text_language,
    placeholders,
    render,
    template,
    validate_fields,
)

GOLDEN_CATALOGUE_HASH = "5e3fed1972c5a165dc0841fd4d7a94520bce5d52dd09e129e891958bcc9c3302"
MSG = "01HWTHJ2T8AAAAAAAAAAAAAAAA"
FINGERPRINT = " ".join(["3f2a"] * 16)

#: every field of every template, with a valid value
FULL: dict[int, dict[str, str]] = {
    1: {
        "incident_id": "2024-017",
        "time": "2024-05-01T12:30:00Z",
        "lat": "54.5",
        "lon": "-19.25",
        "our_track": "mmsi:211000001",
        "your_track": "icao:4ca7b5",
        "closest_approach_m": "150",
        "altitude_m": "30.5",
        "severity": "high-risk",
        "summary": "Low pass across the bow.",
        "vertical_separation_m": "30",
        "closing_speed_mps": "210.5",
        "evidence_sources": "AIS, ADS-B",
        "evidence_sha256": "ab" * 32,
    },
    2: {"reference": MSG, "question": "What was the aircraft's task?"},
    3: {"reference": MSG, "answer": "A navigation error.", "classification": "unintentional"},
    4: {
        "activity_id": "EX-2024-05",
        "kind": "exercise",
        "notice": "planned",
        "area": "Polygon bounded by 54N 18E, 55N 18E, 55N 20E, 54N 20E",
        "start": "2024-05-10T06:00:00Z",
        "end": "2024-05-12T18:00:00Z",
        "troops": "9000",
        "tanks": "120",
        "armoured_vehicles": "300",
        "artillery": "72",
        "sorties": "40",
        "ships": "12",
    },
    5: {"reference": MSG},
    6: {"sequence": "17"},
    7: {"activity_id": "EX-2024-05", "reference": MSG, "text": "A routine exercise."},
    8: {"new_key_fingerprint": FINGERPRINT, "effective_time": "2024-06-01T00:00:00Z"},
    9: {"language": "ru", "text": "Прошу уточнить время."},
}


def required_only(template_id: int) -> dict[str, str]:
    spec = template(template_id)
    return {f.name: FULL[template_id][f.name] for f in spec.fields if f.required}


def test_the_catalogue_is_numbered_1_to_9_with_unique_keys() -> None:
    assert [t.id for t in CATALOGUE] == list(range(1, 10))
    assert len({t.key for t in CATALOGUE}) == len(CATALOGUE)
    assert set(FULL) == {t.id for t in CATALOGUE}
    for spec in CATALOGUE:
        assert {f.name for f in spec.fields} == set(FULL[spec.id]), spec.key
        assert all(answer in FULL for answer in spec.answered_by)
        assert spec.expects_answer == bool(spec.answered_by)
    assert [t.id for t in CATALOGUE if not t.requires_ack] == [5]  # acknowledgements are not acked


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda t: t.key)
def test_english_and_russian_lines_correspond_and_use_every_field(spec: Template) -> None:
    assert len(spec.en) == len(spec.ru)
    assert [placeholders(line) for line in spec.en] == [placeholders(line) for line in spec.ru]
    used = set().union(*(placeholders(line) for line in spec.en))
    assert used == {f.name for f in spec.fields}
    cyrillic = re.compile("[А-Яа-яЁё]")
    assert not any(cyrillic.search(line) for line in spec.en)
    # every Russian line with words of its own is written in Russian
    assert all(cyrillic.search(line) for line in spec.ru if re.sub(r"\{\w+\}", "", line).strip())
    for field in spec.fields:
        assert all(c.en and c.ru and cyrillic.search(c.ru) for c in field.choices)


@pytest.mark.parametrize("template_id", list(FULL))
@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_template_renders_in_both_languages(template_id: int, language: str) -> None:
    full = render(template_id, FULL[template_id], language)
    assert "{" not in full
    assert "}" not in full
    spec = template(template_id)
    for field in spec.fields:
        if field.kind != "choice":
            assert FULL[template_id][field.name] in full
    assert full.count("\n") + 1 == len(spec.lines("en"))
    minimal = render(template_id, required_only(template_id), language)
    optional = sum(1 for f in spec.fields if not f.required)
    assert minimal.count("\n") + 1 == len(spec.en) - optional


def test_known_renderings() -> None:
    assert render(5, {"reference": MSG}, "en") == (
        f"ACKNOWLEDGEMENT: your message {MSG} has been received "
        "and brought to the attention of the duty officer."
    )
    assert render(5, {"reference": MSG}, "ru") == (
        f"ПОДТВЕРЖДЕНИЕ: ваше сообщение {MSG} получено и доведено до сведения дежурного офицера."
    )
    assert render(1, FULL[1], "ru").splitlines()[7] == "Оценка степени опасности: высокая"
    assert render(1, FULL[1], "en").splitlines()[7] == "Assessed severity: high risk"
    assert render(3, FULL[3], "ru").endswith("Наша квалификация события: непреднамеренные действия")
    assert render(4, required_only(4), "ru") == (
        "УВЕДОМЛЕНИЕ О ПЛАНИРУЕМОЙ ВОЕННОЙ ДЕЯТЕЛЬНОСТИ № EX-2024-05\n"
        "Вид деятельности: военные учения\n"
        "Порядок уведомления: плановая, с заблаговременным уведомлением\n"
        "Район: Polygon bounded by 54N 18E, 55N 18E, 55N 20E, 54N 20E\n"
        "Период (UTC): с 2024-05-10T06:00:00Z по 2024-05-12T18:00:00Z"
    )


def test_free_text_travels_in_the_senders_language_and_says_so() -> None:
    english_reader = render(9, FULL[9], "en")
    russian_reader = render(9, FULL[9], "ru")
    assert english_reader.splitlines() == [
        "FREE TEXT in the sender's language (Russian); not an agreed translation:",
        "Прошу уточнить время.",
    ]
    assert russian_reader.splitlines()[0] == (
        "СООБЩЕНИЕ В СВОБОДНОЙ ФОРМЕ на языке отправителя (русский); "
        "согласованный перевод отсутствует:"
    )
    assert free_text_language(9, FULL[9]) == "ru"
    assert free_text_language(6, FULL[6]) is None


def test_values_are_not_reinterpreted_as_placeholders() -> None:
    fields = {**FULL[9], "text": "{text} {0} {language!r}"}
    assert render(9, fields, "en").splitlines()[1] == "{text} {0} {language!r}"


def test_multi_line_text_is_kept() -> None:
    fields = {**FULL[2], "question": "First line.\nSecond line."}
    assert "Question: First line.\nSecond line." in render(2, fields, "en")


@pytest.mark.parametrize(
    ("template_id", "field", "value", "reason"),
    [
        (1, "lat", "91", "field 'lat': 91 is above the maximum 90"),
        (1, "lon", "-180.5", "field 'lon': -180.5 is below the minimum -180"),
        (1, "lat", "54,5", "field 'lat': '54,5' is not a decimal number"),
        (1, "lat", "1e2", "field 'lat': '1e2' is not a decimal number"),
        (1, "lat", "NaN", "field 'lat': 'NaN' is not a decimal number"),
        (1, "closest_approach_m", "-5", "field 'closest_approach_m': -5 is below the minimum 0"),
        (1, "time", "2024-05-01 12:30:00Z", "field 'time': .* is not an ISO 8601 UTC time"),
        (1, "time", "2024-05-01T12:30:00+02:00", "field 'time'"),
        (1, "time", "2024-05-01T12:30:00", "field 'time'"),
        (1, "time", "2024-02-30T12:30:00Z", "field 'time'"),
        (1, "severity", "extreme", "field 'severity': 'extreme' is not one of routine, serious"),
        (1, "summary", "   ", "field 'summary': is empty"),
        (1, "summary", "x" * 4001, "field 'summary': longer than 4000 characters"),
        (1, "summary", "bell\x07", "field 'summary': holds control characters"),
        (1, "incident_id", "a\nb", "field 'incident_id': holds control characters or line breaks"),
        (1, "evidence_sha256", "AB" * 32, "field 'evidence_sha256': .* is not a SHA-256 digest"),
        (2, "reference", "msg-17", "field 'reference': 'msg-17' is not a message id"),
        (3, "classification", "accident", "field 'classification'"),
        (4, "kind", "parade", "field 'kind': 'parade' is not one of exercise, flight"),
        (4, "troops", "-1", "field 'troops': -1 is below the minimum 0"),
        (4, "tanks", "12.5", "field 'tanks': '12.5' is not a whole number"),
        (4, "end", "2024-05-10T06:00:00Z", "field 'end' must be after 'start'"),
        (6, "sequence", "007", "field 'sequence': '007' is not a whole number"),
        (8, "new_key_fingerprint", "3f2a" * 16, "field 'new_key_fingerprint'"),
        (9, "language", "de", "field 'language': 'de' is not one of en, ru"),
    ],
)
def test_invalid_fields_are_named(template_id: int, field: str, value: str, reason: str) -> None:
    fields = {**FULL[template_id], field: value}
    with pytest.raises(TemplateError, match=reason):
        render(template_id, fields, "en")
    with pytest.raises(InputError, match=f"^template {template_id} \\("):
        validate_fields(template_id, fields)


def test_missing_unknown_and_badly_typed_fields() -> None:
    fields = {k: v for k, v in FULL[1].items() if k != "severity"}
    with pytest.raises(
        TemplateError, match=r"template 1 \(Incident notification\): missing field 'severity'"
    ):
        render(1, fields, "ru")
    with pytest.raises(
        TemplateError, match="unknown field 'colour' \\(fields: reference, question\\)"
    ):
        render(2, {**FULL[2], "colour": "red"}, "en")
    with pytest.raises(TemplateError, match="field 'sequence': expected a string, got int"):
        render(6, {"sequence": 17}, "en")  # type: ignore[dict-item]
    with pytest.raises(TemplateError, match=r"unknown template 10 \(catalogue 1.0 has 1, 2"):
        render(10, {}, "en")
    with pytest.raises(TemplateError, match="unknown language 'de' \\(en or ru\\)"):
        render(6, FULL[6], "de")


def test_catalogue_hash_is_stable() -> None:
    assert catalogue_hash() == GOLDEN_CATALOGUE_HASH
    assert CATALOGUE_VERSION == "1.0"
    encoded = encode_canonical(catalogue_json())
    assert decode_canonical(encoded) == catalogue_json()
    assert "Уведомление об инциденте".encode() in encoded


def test_catalogue_hash_follows_every_change() -> None:
    changed_text = replace(CATALOGUE[4], ru=("ПОДТВЕРЖДЕНИЕ: сообщение {reference} получено.",))
    changed_choice = replace(
        CATALOGUE[0],
        fields=tuple(
            replace(f, choices=(*f.choices[:2], replace(f.choices[2], ru="очень высокая")))
            if f.name == "severity"
            else f
            for f in CATALOGUE[0].fields
        ),
    )
    changed_answers = replace(CATALOGUE[1], answered_by=(3, 7))
    variants = [
        catalogue_hash((*CATALOGUE[:4], changed_text, *CATALOGUE[5:])),
        catalogue_hash((changed_choice, *CATALOGUE[1:])),
        catalogue_hash((CATALOGUE[0], changed_answers, *CATALOGUE[2:])),
        catalogue_hash(CATALOGUE[:-1]),
        catalogue_hash(version="1.1"),
    ]
    assert len({catalogue_hash(), *variants}) == len(variants) + 1


def test_a_message_entry_renders_the_same_on_both_sides() -> None:
    """The path a message takes: fields validated, signed into an entry, parsed, rendered."""
    key = PartyKey.from_seed("nato", bytes(32))
    msg_id, time = MsgIdGenerator().stamp()
    validate_fields(1, FULL[1])
    raw = sign_entry(
        key,
        seq=0,
        prev_hash=ZERO_HASH,
        msg_id=msg_id,
        time=time,
        type="message",
        template=1,
        catalogue_version=CATALOGUE_VERSION,
        language=free_text_language(1, FULL[1]),
        fields=FULL[1],
    ).raw
    received = parse_signed_entry(raw).entry
    check_entry(received)
    assert received.template == 1
    assert render(1, received.fields, "ru") == render(1, FULL[1], "ru")


def _entry(**changes: Any) -> Entry:
    values: dict[str, Any] = {
        "seq": 4,
        "prev_hash": "ab" * 32,
        "msg_id": "01HWTHJ2T8CCCCCCCCCCCCCCCC",
        "time": "2024-05-01T12:30:00.000Z",
        "type": "ack",
        "template": 5,
        "catalogue_version": CATALOGUE_VERSION,
        "in_reply_to": MSG,
        "fields": {"reference": MSG},
    }
    values.update(changes)
    return sign_entry(PartyKey.from_seed("nato", bytes(32)), **values).entry


def test_entries_agree_with_the_catalogue() -> None:
    check_entry(_entry())
    check_entry(
        _entry(
            type="message",
            template=9,
            language="en",
            in_reply_to=None,
            fields={"language": "en", "text": "Hello."},
        )
    )
    check_entry(
        _entry(type="catalogue", template=None, in_reply_to=None, fields=catalogue_record())
    )
    assert catalogue_record() == {
        "catalogue_version": "1.0",
        "catalogue_sha256": GOLDEN_CATALOGUE_HASH,
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"template": 6}, r"seq 4 \(ack\): template 6 \(expected 5\)"),
        ({"type": "message"}, r"template 5 \(expected 1, 2, 3, 4, 7, 9\)"),
        ({"type": "unacknowledged"}, "an entry of this type carries no template"),
        ({"template": None}, "template None"),
        ({"catalogue_version": "0.9"}, "catalogue version '0.9', ours is '1.0'"),
        ({"fields": {}}, "missing field 'reference'"),
        ({"in_reply_to": None}, "in_reply_to None differs from the reference"),
        ({"language": "en"}, "language 'en', the message states None"),
    ],
)
def test_entries_that_disagree_with_the_catalogue(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        check_entry(_entry(**changes))


def test_free_text_entries_must_state_their_language() -> None:
    fields = {"language": "ru", "text": "Текст."}
    with pytest.raises(TemplateError, match="language 'en', the message states 'ru'"):
        check_entry(
            _entry(type="message", template=9, language="en", in_reply_to=None, fields=fields)
        )
