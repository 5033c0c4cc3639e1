"""The report for the political level, as HTML or PDF from one Jinja2 template.

The HTML is self-contained (plots and maps are embedded PNG data URIs), so the file can be mailed
or archived alone; the PDF is that same HTML laid out by WeasyPrint (pure Python over the system's
Pango), which needs no browser.
"""

import base64
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2

from parley.errors import InputError
from parley.incidents.basemap import SOURCE as COASTLINE_SOURCE
from parley.incidents.report_data import Exchange, IncidentSection, ReportData
from parley.incidents.report_map import render_map_png
from parley.incidents.report_plots import (
    class_colour,
    counts_by_area_png,
    counts_by_class_png,
    counts_by_month_png,
)

TEMPLATE = "report.html.j2"
SUFFIXES = {".html": "html", ".htm": "html", ".pdf": "pdf"}
#: A first notification sent this long after the closest approach was made from the record (an
#: archive, a replayed recording), not while the event happened; the timeline says so.
FROM_RECORD_AFTER_S = 30 * 86_400
DAYS_PER_YEAR = 365.25


class ReportFormatError(InputError):
    """The output file's suffix names no format of report."""


@dataclass(frozen=True, slots=True)
class _IncidentView:
    section: IncidentSection
    map_png: str | None


def report_format(path: Path) -> str:
    """``html`` or ``pdf``, from the output file's suffix."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ReportFormatError(f"{path}: a report is written as .html or .pdf")
    return found


def render_html(data: ReportData) -> str:
    """The whole report as one self-contained HTML page."""
    by_class = data.counts_by_class()
    by_month = data.counts_by_month()
    by_area = data.counts_by_area()
    plots = {
        "by_class": _b64(counts_by_class_png(by_class)),
        "by_month": _b64(counts_by_month_png(by_month)),
        "by_area": _b64(counts_by_area_png(by_area)),
    }
    incidents = [
        _IncidentView(
            section, _b64_or_none(render_map_png(section, data.own_party, data.peer_party))
        )
        for section in data.incidents
    ]
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            title=f"Incident report: {data.own_party} and {data.peer_party}",
            data=data,
            period=_period(data.since, data.until),
            agreement=_agreement(data),
            by_class=by_class,
            by_month=by_month,
            by_area=by_area,
            plots=plots,
            incidents=incidents,
            coastline_source=COASTLINE_SOURCE,
        )
    )


def render_pdf(data: ReportData) -> bytes:
    """The report as PDF: the HTML of :func:`render_html` laid out for A4 pages."""
    return html_to_pdf(render_html(data))


def html_to_pdf(html: str) -> bytes:
    with warnings.catch_warnings():
        # Without Debian's libharfbuzz-subset0 WeasyPrint subsets fonts with fontTools and says
        # so with a DeprecationWarning; the PDF is the same, so a missing package is no failure.
        warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
        import weasyprint  # type: ignore[import-untyped]  # slow to import; only PDFs need it

    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def write_report(data: ReportData, path: Path) -> Path:
    """Write the report in the format its suffix names (``.html`` or ``.pdf``)."""
    kind = report_format(path)
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    try:
        if kind == "pdf":
            path.write_bytes(render_pdf(data))
        else:
            path.write_text(render_html(data), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror})") from None
    return path


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("parley.incidents", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        utc=_utc,
        duration=_duration,
        delay_basis=_delay_basis,
        metres=_metres,
        position=_position,
        class_colour=class_colour,
    )
    return environment


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _b64_or_none(png: bytes | None) -> str | None:
    return None if png is None else _b64(png)


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _duration(seconds: float | None) -> str:
    """``45 s``, ``12 min 05 s``, ``3 h 07 min``, ``2 d 04 h``, ``10 years 232 d``; ``—`` when
    unknown."""
    if seconds is None:
        return "—"
    sign, total = ("−" if seconds < 0 else ""), round(abs(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days >= DAYS_PER_YEAR:
        years = int(days // DAYS_PER_YEAR)
        text = f"{years} year{'s' if years > 1 else ''} {int(days - years * DAYS_PER_YEAR)} d"
    elif days:
        text = f"{days} d {hours:02d} h"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    elif minutes:
        text = f"{minutes} min {secs:02d} s"
    else:
        text = f"{secs} s"
    return sign + text


def _delay_basis(exchange: Exchange) -> str:
    """What a timeline delay runs from: ``after CPA``, ``after incident notification``; a
    notification made from the record long after the event is labelled so."""
    if not exchange.delay_from:
        return ""
    basis = f"after {exchange.delay_from}"
    if (
        exchange.delay_from == "CPA"
        and exchange.delay_s is not None
        and exchange.delay_s > FROM_RECORD_AFTER_S
    ):
        basis += " (notified from the record, not as it happened)"
    return basis


def _metres(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} m".replace(",", " ")


def _position(section: IncidentSection) -> str:
    if section.lat is None or section.lon is None:
        return "position unknown"
    lat = f"{abs(section.lat):.4f}°{'N' if section.lat >= 0 else 'S'}"
    lon = f"{abs(section.lon):.4f}°{'E' if section.lon >= 0 else 'W'}"
    return f"{lat} {lon}"


def _period(since: datetime | None, until: datetime | None) -> str:
    if since is None and until is None:
        return "all incidents on record"
    return f"{_utc(since) if since else 'the first record'} to {_utc(until) if until else 'now'}"


def _agreement(data: ReportData) -> str:
    verdicts = [incident.agree for incident in data.incidents]
    both = [v for v in verdicts if v is not None]
    return (
        f"{sum(both)} of {len(both)} incidents where both parties gave a class"
        f" ({len(verdicts) - len(both)} awaiting an account)"
    )


__all__ = [
    "FROM_RECORD_AFTER_S",
    "ReportFormatError",
    "html_to_pdf",
    "render_html",
    "render_pdf",
    "report_format",
    "write_report",
]
