"""The numbered catalogue of hotline messages, with agreed English and Russian texts.

A message names its template by number and carries the template's field values as strings; each
side renders it in its own language from the same catalogue. Both logs record
:data:`CATALOGUE_VERSION` and :func:`catalogue_hash` (SHA-256 of the canonical JSON of the whole
catalogue, texts included), so both sides can prove they render the same meaning.

Texts are lists of lines with ``{field}`` placeholders. The English and Russian lines correspond one
to one and hold the same placeholders; a line whose placeholder names an optional field that was
not given is left out. Choice fields render as their label in the reader's language. Free text
(template 9) travels in the sender's language, which the message states.
"""

import hashlib
import string
from collections.abc import Mapping

from parley.hotline.canonical import encode_canonical
from parley.hotline.entry import Entry
from parley.hotline.template_model import (
    LANGUAGES,
    Choice,
    FieldKind,
    FieldSpec,
    Language,
    Template,
    TemplateError,
    field_problem,
    parse_field_time,
)

CATALOGUE_VERSION = "1.0"
#: The template each entry type must use; ``message`` may use any of the others listed here.
TYPE_TEMPLATES: dict[str, frozenset[int]] = {
    "message": frozenset({1, 2, 3, 4, 7, 9}),
    "ack": frozenset({5}),
    "test": frozenset({6}),
    "key-rotation": frozenset({8}),
}


def _line(name: str, required: bool = True, max_length: int = 200) -> FieldSpec:
    return FieldSpec(name, "line", required, max_length=max_length)


def _text(name: str, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "text", required, max_length=4000)


def _number(name: str, low: int, high: int, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "decimal", required, minimum=low, maximum=high)


def _count(name: str) -> FieldSpec:
    return FieldSpec(name, "integer", required=False, minimum=0, maximum=10_000_000)


SEVERITY = (
    Choice("routine", "routine", "низкая (штатное сближение)"),
    Choice("serious", "serious", "значительная"),
    Choice("high-risk", "high risk", "высокая"),
)
CLASSIFICATION = (
    Choice("unintentional", "unintentional action", "непреднамеренные действия"),
    Choice("routine-activity", "routine activity", "плановая деятельность"),
    Choice("technical-failure", "technical failure", "техническая неисправность"),
    Choice("facts-disputed", "facts disputed", "изложенные факты оспариваются"),
    Choice("under-investigation", "under investigation", "проводится расследование"),
)
ACTIVITY_KIND = (
    Choice("exercise", "military exercise", "военные учения"),
    Choice("flight", "flight activity", "полёты авиации"),
)
#: How an activity was notified: in advance (planned) or when it began (snap, Vienna Document
#: 2011 §41), so that the receiving desk judges lateness as the sender declared it.
NOTICE = (
    Choice("planned", "planned, notified in advance", "плановая, с заблаговременным уведомлением"),
    Choice("snap", "snap, notified at its start", "внезапная, уведомление в момент начала"),
)
LANGUAGE_NAME = (Choice("en", "English", "английский"), Choice("ru", "Russian", "русский"))

CATALOGUE: tuple[Template, ...] = (
    Template(
        1,
        "incident-notification",
        "Incident notification",
        "Уведомление об инциденте",
        (
            _line("incident_id", max_length=64),
            FieldSpec("time", "time"),
            _number("lat", -90, 90),
            _number("lon", -180, 180),
            _line("our_track", max_length=64),
            _line("your_track", max_length=64),
            _number("closest_approach_m", 0, 1_000_000),
            _number("altitude_m", -1_000, 100_000),
            FieldSpec("severity", "choice", choices=SEVERITY),
            _text("summary"),
            _number("vertical_separation_m", 0, 100_000, required=False),
            _number("closing_speed_mps", 0, 10_000, required=False),
            _line("evidence_sources", required=False),
            FieldSpec("evidence_sha256", "sha256", required=False),
        ),
        (
            "INCIDENT NOTIFICATION No. {incident_id}",
            "Time (UTC): {time}",
            "Position: latitude {lat}, longitude {lon}",
            "Our unit: {our_track}; your unit: {your_track}",
            "Closest approach: {closest_approach_m} m at an altitude of {altitude_m} m",
            "Vertical separation: {vertical_separation_m} m",
            "Closing speed: {closing_speed_mps} m/s",
            "Assessed severity: {severity}",
            "Summary: {summary}",
            "Evidence sources: {evidence_sources}",
            "Evidence record (SHA-256): {evidence_sha256}",
            "We request your explanation.",
        ),
        (
            "УВЕДОМЛЕНИЕ ОБ ИНЦИДЕНТЕ № {incident_id}",
            "Время (UTC): {time}",
            "Место: широта {lat}, долгота {lon}",
            "Наш объект: {our_track}; ваш объект: {your_track}",
            "Минимальное расстояние сближения: {closest_approach_m} м на высоте {altitude_m} м",
            "Вертикальный интервал: {vertical_separation_m} м",
            "Скорость сближения: {closing_speed_mps} м/с",
            "Оценка степени опасности: {severity}",
            "Краткое описание: {summary}",
            "Источники данных: {evidence_sources}",
            "Контрольная сумма доказательных материалов (SHA-256): {evidence_sha256}",
            "Просим представить разъяснения.",
        ),
        expects_answer=True,
        answered_by=(3, 7),
    ),
    Template(
        2,
        "request-for-clarification",
        "Request for clarification",
        "Запрос разъяснений",
        (FieldSpec("reference", "msg_id"), _text("question")),
        (
            "REQUEST FOR CLARIFICATION concerning your message {reference}",
            "Question: {question}",
            "We request your reply.",
        ),
        (
            "ЗАПРОС РАЗЪЯСНЕНИЙ по вашему сообщению {reference}",
            "Вопрос: {question}",
            "Просим дать ответ.",
        ),
        expects_answer=True,
        answered_by=(3,),
    ),
    Template(
        3,
        "clarification-reply",
        "Clarification reply",
        "Ответ на запрос разъяснений",
        (
            FieldSpec("reference", "msg_id"),
            _text("answer"),
            FieldSpec("classification", "choice", choices=CLASSIFICATION),
        ),
        (
            "CLARIFICATION in reply to your message {reference}",
            "{answer}",
            "Our classification of the event: {classification}",
        ),
        (
            "РАЗЪЯСНЕНИЕ в ответ на ваше сообщение {reference}",
            "{answer}",
            "Наша квалификация события: {classification}",
        ),
    ),
    Template(
        4,
        "planned-activity",
        "Notification of a planned military activity",
        "Уведомление о планируемой военной деятельности",
        (
            _line("activity_id", max_length=64),
            FieldSpec("kind", "choice", choices=ACTIVITY_KIND),
            FieldSpec("notice", "choice", choices=NOTICE),
            _line("area", max_length=500),
            FieldSpec("start", "time"),
            FieldSpec("end", "time"),
            _count("troops"),
            _count("tanks"),
            _count("armoured_vehicles"),
            _count("artillery"),
            _count("sorties"),
            _count("ships"),
        ),
        (
            "NOTIFICATION OF A PLANNED MILITARY ACTIVITY No. {activity_id}",
            "Type of activity: {kind}",
            "Notice: {notice}",
            "Area: {area}",
            "Period (UTC): from {start} to {end}",
            "Personnel: {troops}",
            "Battle tanks: {tanks}",
            "Armoured combat vehicles: {armoured_vehicles}",
            "Artillery systems: {artillery}",
            "Aircraft sorties: {sorties}",
            "Ships: {ships}",
        ),
        (
            "УВЕДОМЛЕНИЕ О ПЛАНИРУЕМОЙ ВОЕННОЙ ДЕЯТЕЛЬНОСТИ № {activity_id}",
            "Вид деятельности: {kind}",
            "Порядок уведомления: {notice}",
            "Район: {area}",
            "Период (UTC): с {start} по {end}",
            "Численность личного состава: {troops}",
            "Количество боевых танков: {tanks}",
            "Количество боевых бронированных машин: {armoured_vehicles}",
            "Количество артиллерийских систем: {artillery}",
            "Количество самолёто-вылетов: {sorties}",
            "Количество кораблей: {ships}",
        ),
        chronological=(("start", "end"),),
    ),
    Template(
        5,
        "acknowledgement",
        "Acknowledgement",
        "Подтверждение получения",
        (FieldSpec("reference", "msg_id"),),
        (
            "ACKNOWLEDGEMENT: your message {reference} has been received "
            "and brought to the attention of the duty officer.",
        ),
        (
            "ПОДТВЕРЖДЕНИЕ: ваше сообщение {reference} получено "
            "и доведено до сведения дежурного офицера.",
        ),
        requires_ack=False,
    ),
    Template(
        6,
        "test",
        "Test message",
        "Проверочное сообщение",
        (FieldSpec("sequence", "integer", minimum=0, maximum=10**12),),
        (
            "TEST MESSAGE No. {sequence}",
            "This is a scheduled test of the hotline. Please acknowledge receipt.",
        ),
        (
            "ПРОВЕРОЧНОЕ СООБЩЕНИЕ № {sequence}",
            "Плановая проверка линии прямой связи. Просим подтвердить получение.",
        ),
    ),
    Template(
        7,
        "reassurance",
        "Reassurance (goodwill message)",
        "Заверение (сообщение доброй воли)",
        (
            _line("activity_id", max_length=64),
            FieldSpec("reference", "msg_id", required=False),
            _text("text"),
        ),
        (
            "REASSURANCE concerning {activity_id}",
            "With reference to your message {reference}.",
            "This activity is not directed against your side.",
            "{text}",
        ),
        (
            "ЗАВЕРЕНИЕ в отношении {activity_id}",
            "Ссылка на ваше сообщение {reference}.",
            "Данная деятельность не направлена против вашей стороны.",
            "{text}",
        ),
    ),
    Template(
        8,
        "key-rotation",
        "Key rotation",
        "Смена ключа подписи",
        (FieldSpec("new_key_fingerprint", "fingerprint"), FieldSpec("effective_time", "time")),
        (
            "KEY ROTATION",
            "From {effective_time} (UTC) our log entries will be signed with the key "
            "whose fingerprint is {new_key_fingerprint}.",
            "Please confirm this fingerprint through an independent channel before accepting it.",
        ),
        (
            "СМЕНА КЛЮЧА ПОДПИСИ",
            "С {effective_time} (UTC) записи нашего журнала будут подписываться ключом "
            "с отпечатком {new_key_fingerprint}.",
            "Просим до принятия ключа сверить его отпечаток по независимому каналу связи.",
        ),
    ),
    Template(
        9,
        "free-text",
        "Free text",
        "Сообщение в свободной форме",
        (FieldSpec("language", "choice", choices=LANGUAGE_NAME), _text("text")),
        ("FREE TEXT in the sender's language ({language}); not an agreed translation:", "{text}"),
        (
            "СООБЩЕНИЕ В СВОБОДНОЙ ФОРМЕ на языке отправителя ({language}); "
            "согласованный перевод отсутствует:",
            "{text}",
        ),
    ),
)


def template(template_id: int) -> Template:
    """The template with this number; :class:`TemplateError` if the catalogue has none."""
    for candidate in CATALOGUE:
        if candidate.id == template_id:
            return candidate
    raise TemplateError(
        f"unknown template {template_id!r} (catalogue {CATALOGUE_VERSION} has "
        f"{', '.join(str(t.id) for t in CATALOGUE)})"
    )


def validate_fields(template_id: int, fields: Mapping[str, str]) -> None:
    """Raise :class:`TemplateError` naming the first missing, unknown or invalid field."""
    spec = template(template_id)
    where = f"template {spec.id} ({spec.name_en})"
    for name in sorted(fields):
        if spec.field(name) is None:
            known = ", ".join(f.name for f in spec.fields)
            raise TemplateError(f"{where}: unknown field {name!r} (fields: {known})")
    for field_spec in spec.fields:
        value = fields.get(field_spec.name)
        if value is None:
            if field_spec.required:
                raise TemplateError(f"{where}: missing field {field_spec.name!r}")
            continue
        problem = field_problem(field_spec, value)
        if problem:
            raise TemplateError(f"{where}: field {field_spec.name!r}: {problem}")
    for earlier, later in spec.chronological:
        first, second = (
            parse_field_time(fields.get(earlier, "")),
            parse_field_time(fields.get(later, "")),
        )
        if first is not None and second is not None and second <= first:
            raise TemplateError(f"{where}: field {later!r} must be after {earlier!r}")


def render(template_id: int, fields: Mapping[str, str], language: str) -> str:
    """The message text in ``language`` (``en`` or ``ru``) after validating the fields."""
    if language not in LANGUAGES:
        raise TemplateError(f"unknown language {language!r} (en or ru)")
    validate_fields(template_id, fields)
    spec = template(template_id)
    lang: Language = "en" if language == "en" else "ru"
    shown = {name: _shown(spec, name, value, lang) for name, value in fields.items()}
    kept = [line for line in spec.lines(lang) if placeholders(line) <= shown.keys()]
    return "\n".join(line.format_map(shown) for line in kept)


def free_text_language(template_id: int, fields: Mapping[str, str]) -> str | None:
    """The language to record in a log entry: the stated language of free text, else null."""
    return fields.get("language") if template(template_id).key == "free-text" else None


def catalogue_record() -> dict[str, str]:
    """The fields of the ``catalogue`` entry that records, in a log, which catalogue it speaks."""
    return {"catalogue_version": CATALOGUE_VERSION, "catalogue_sha256": catalogue_hash()}


def check_entry(entry: Entry) -> None:
    """Require that an entry's type, template, catalogue version, fields, language and reply link
    agree with this catalogue. Entries of the other types (``unacknowledged``, ``catalogue``)
    carry no template; their fields are not checked here."""
    where = f"seq {entry.seq} ({entry.type})"
    allowed = TYPE_TEMPLATES.get(entry.type)
    if allowed is None:
        if entry.template is not None:
            raise TemplateError(f"{where}: an entry of this type carries no template")
        return
    if entry.template not in allowed:
        expected = ", ".join(str(i) for i in sorted(allowed))
        raise TemplateError(f"{where}: template {entry.template} (expected {expected})")
    if entry.catalogue_version != CATALOGUE_VERSION:
        raise TemplateError(
            f"{where}: catalogue version {entry.catalogue_version!r}, ours is {CATALOGUE_VERSION!r}"
        )
    validate_fields(entry.template, entry.fields)
    language = free_text_language(entry.template, entry.fields)
    if entry.language != language:
        raise TemplateError(
            f"{where}: language {entry.language!r}, the message states {language!r}"
        )
    reference = entry.fields.get("reference")
    if reference is not None and entry.in_reply_to != reference:
        raise TemplateError(
            f"{where}: in_reply_to {entry.in_reply_to} differs from the reference {reference}"
        )


def placeholders(line: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(line) if name}


def catalogue_json(
    templates: tuple[Template, ...] = CATALOGUE, version: str = CATALOGUE_VERSION
) -> dict[str, object]:
    return {"version": version, "templates": [t.to_json() for t in templates]}


def catalogue_hash(
    templates: tuple[Template, ...] = CATALOGUE, version: str = CATALOGUE_VERSION
) -> str:
    """Hex SHA-256 of the canonical JSON of the catalogue: what both logs record."""
    return hashlib.sha256(encode_canonical(catalogue_json(templates, version))).hexdigest()


def _shown(spec: Template, name: str, value: str, language: Language) -> str:
    field_spec = spec.field(name)
    if field_spec is not None and field_spec.kind == "choice":
        choice = next(c for c in field_spec.choices if c.value == value)
        return choice.en if language == "en" else choice.ru
    return value


__all__ = [
    "ACTIVITY_KIND",
    "CATALOGUE",
    "CATALOGUE_VERSION",
    "CLASSIFICATION",
    "LANGUAGES",
    "LANGUAGE_NAME",
    "SEVERITY",
    "TYPE_TEMPLATES",
    "Choice",
    "FieldKind",
    "FieldSpec",
    "Language",
    "Template",
    "TemplateError",
    "catalogue_hash",
    "catalogue_json",
    "catalogue_record",
    "check_entry",
    "free_text_language",
    "placeholders",
    "render",
    "template",
    "validate_fields",
]
