"""The report rendered from a hand-built ReportData: HTML content, plots, maps, and the PDF's pages
(rendered with pdftoppm, Debian poppler-utils) checked for their figures, accounts and coastline."""

import base64
import io
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from parley.errors import InputError
from parley.incidents.report import (
    ReportFormatError,
    html_to_pdf,
    render_html,
    report_format,
    write_report,
)
from parley.incidents.report_data import (
    Exchange,
    IncidentSection,
    JointRecord,
    LogHead,
    MapPoint,
    PartyAccount,
    ReportData,
    TrackLine,
    area_name,
)
from parley.incidents.report_map import COAST_COLOUR, LAND_COLOUR, SEA_COLOUR, render_map_png

T0 = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
OUR_TEXT = "Our aircraft was approached to 420 m without warning."
THEIR_TEXT = "Standard identification of an aircraft approaching our airspace."


def _line(track: str, side: str, lat: float, lon: float, dlat: float, dlon: float) -> TrackLine:
    points = tuple(
        MapPoint(T0 + timedelta(minutes=i), lat + dlat * i, lon + dlon * i) for i in range(20)
    )
    return TrackLine(track, "ours" if side == "ours" else "theirs", points)


def _baltic_incident() -> IncidentSection:
    """Off the Sambia peninsula (Kaliningrad): the coast is in the map's lower right."""
    return IncidentSection(
        id="INC-1",
        state="clarified",
        severity="serious",
        kind="air-air",
        our_track="icao:4ca7b5",
        their_track="icao:155f3a",
        start=T0,
        end=T0 + timedelta(minutes=19),
        cpa_time=T0 + timedelta(minutes=10),
        lat=55.15,
        lon=19.5,
        min_slant_m=420.0,
        summary="Su-27 intercept of a reconnaissance aircraft",
        ours=PartyAccount("NATO", "ours", "serious", None, OUR_TEXT, T0 + timedelta(hours=1)),
        theirs=PartyAccount(
            "Russia", "theirs", "routine", "routine-activity", THEIR_TEXT, T0 + timedelta(hours=3)
        ),
        tracks=(
            _line("icao:4ca7b5", "ours", 54.9, 19.0, 0.02, 0.05),
            _line("icao:155f3a", "theirs", 55.4, 19.9, -0.01, -0.01),
        ),
        exchanges=(
            Exchange(T0 + timedelta(minutes=42), "sent", "NATO", "incident notification", "N-1",
                     summary="INCIDENT NOTIFICATION INC-1", delay_s=1920.0, delay_from="CPA"),
            Exchange(T0 + timedelta(minutes=49), "received", "Russia", "acknowledgement", "R-1",
                     in_reply_to="N-1", delay_s=420.0, delay_from="incident notification"),
            Exchange(T0 + timedelta(hours=3), "received", "Russia", "clarification reply", "R-2",
                     in_reply_to="N-1", summary="identification", delay_s=8280.0,
                     delay_from="incident notification"),
        ),
        evidence_sha256="ab" * 32,
    )  # fmt: skip


def _plain_incident(
    incident_id: str, severity: str, day: datetime, lat: float, lon: float
) -> IncidentSection:
    return IncidentSection(
        id=incident_id,
        state="notified",
        severity=severity,
        kind="sea-sea",
        our_track="mmsi:211000001",
        their_track="mmsi:273000001",
        start=day,
        end=day + timedelta(minutes=30),
        cpa_time=day + timedelta(minutes=15),
        lat=lat,
        lon=lon,
        min_slant_m=150.0,
    )


def sample_report() -> ReportData:
    """Three incidents: serious (Baltic, March), high-risk (Gulf of Finland, March), routine
    (Black Sea, May: April has none)."""
    return ReportData(
        own_party="NATO",
        peer_party="Russia",
        generated_at=datetime(2026, 6, 1, tzinfo=UTC),
        since=datetime(2026, 3, 1, tzinfo=UTC),
        until=None,
        incidents=(
            _baltic_incident(),
            _plain_incident("INC-2", "high-risk", T0 + timedelta(days=10), 59.9, 26.5),
            _plain_incident("INC-3", "routine", datetime(2026, 5, 2, tzinfo=UTC), 44.4, 33.0),
        ),
        joint=JointRecord(
            body="parley/joint-checkpoint/v1\n",
            note="parley/joint-checkpoint/v1\nlogA\n7\nrootA=\n\n— logA sig\n",
            own=LogHead("NATO", "logA", 7, "rootA="),
            peer=LogHead("Russia", "logB", 5, "rootB="),
            signers=("NATO",),
            receipt_size=6,
            receipt_time=T0 + timedelta(hours=4),
        ),
    )


# ---- the data's own arithmetic ---------------------------------------------------------------


def test_counts_per_class_month_and_area() -> None:
    data = sample_report()
    assert data.counts_by_class() == {"routine": 1, "serious": 1, "high-risk": 1}
    assert data.counts_by_month() == {
        "2026-03": {"routine": 0, "serious": 1, "high-risk": 1},
        "2026-04": {"routine": 0, "serious": 0, "high-risk": 0},
        "2026-05": {"routine": 1, "serious": 0, "high-risk": 0},
    }
    assert data.counts_by_area() == {"Baltic Sea": 2, "Black Sea": 1}
    assert data.incidents[0].agree is False
    assert data.incidents[1].agree is None


@pytest.mark.parametrize(
    ("lat", "lon", "name"),
    [
        (55.15, 19.5, "Baltic Sea"),
        (44.4, 33.0, "Black Sea"),
        (46.0, 36.5, "Sea of Azov"),
        (70.0, 35.0, "Barents Sea"),
        (-33.0, 18.0, "35°S–30°S 15°E–20°E"),
        (None, 19.5, "unknown"),
    ],
)
def test_area_names(lat: float | None, lon: float, name: str) -> None:
    assert area_name(lat, lon) == name


# ---- HTML ------------------------------------------------------------------------------------


def _images(html: str) -> dict[str, bytes]:
    found = re.findall(r'<img[^>]*id="([^"]+)"[^>]*src="data:image/png;base64,([^"]+)"', html)
    return {name: base64.b64decode(data) for name, data in found}


def _cell(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<td class="num" {attribute}="{re.escape(value)}">(\d+)</td>', html)
    assert match is not None, f"no cell {attribute}={value}"
    return match.group(1)


@pytest.fixture(scope="module")
def html() -> str:
    """The sample report's HTML, rendered once for the tests that read it."""
    return render_html(sample_report())


def test_html_has_the_counts_the_plots_and_both_accounts(html: str) -> None:
    assert [_cell(html, "data-class", c) for c in ("routine", "serious", "high-risk")] == [
        "1",
        "1",
        "1",
    ]
    assert _cell(html, "data-month", "2026-03") == "2"
    assert _cell(html, "data-month", "2026-04") == "0"
    assert _cell(html, "data-area", "Baltic Sea") == "2"
    assert '<td id="incident-total">3</td>' in html
    images = _images(html)
    assert {"plot-class", "plot-month", "plot-area", "map-INC-1", "map-INC-2", "map-INC-3"} <= set(
        images
    )
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    ours = html[html.index('id="account-INC-1-ours"') : html.index('id="account-INC-1-theirs"')]
    theirs = html[html.index('id="account-INC-1-theirs"') : html.index('id="map-INC-1"')]
    assert OUR_TEXT in ours
    assert ">serious<" in ours
    assert THEIR_TEXT in theirs
    assert ">routine<" in theirs
    assert "routine-activity" in theirs
    assert "classes differ." in html
    assert "No account given yet." in html  # INC-2 and INC-3


def test_html_timeline_shows_each_delay(html: str) -> None:
    timeline = html[
        html.index('id="timeline-INC-1"') : html.index(
            "</table>", html.index('id="timeline-INC-1"')
        )
    ]
    assert "32 min 00 s" in timeline
    assert "after CPA" in timeline
    assert "7 min 00 s" in timeline
    assert "2 h 18 min" in timeline
    assert timeline.index("N-1") < timeline.index("R-1") < timeline.index("R-2")


def test_html_has_the_joint_checkpoint(html: str) -> None:
    assert '<b id="joint-signers">NATO</b>' in html
    assert "The countersignature of Russia is not held yet" in html
    assert "covers 6 entries of NATO" in html
    assert "— logA sig" in html


def test_text_is_escaped() -> None:
    section = _plain_incident("INC-9", "serious", T0, 55.0, 19.0)
    hostile = PartyAccount("Russia", "theirs", None, None, "<script>alert(1)</script>")
    data = ReportData(
        "NATO",
        "Russia",
        T0,
        None,
        None,
        (IncidentSection(**{**_fields(section), "theirs": hostile}),),
    )
    html = render_html(data)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _fields(section: IncidentSection) -> dict[str, object]:
    return {name: getattr(section, name) for name in IncidentSection.__dataclass_fields__}


def test_an_empty_report_still_renders() -> None:
    html = render_html(ReportData("NATO", "Russia", T0, None, None, ()))
    assert '<td id="incident-total">0</td>' in html
    assert "all incidents on record" in html
    assert "No joint checkpoint" in html


# ---- the map ---------------------------------------------------------------------------------


def _rgb(colour: str) -> npt.NDArray[np.int16]:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def _pixels(png: bytes) -> npt.NDArray[np.int16]:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _near(pixels: npt.NDArray[np.int16], colour: str, tolerance: int) -> npt.NDArray[np.bool_]:
    return np.all(np.abs(pixels - _rgb(colour)) <= tolerance, axis=-1)


def _coast_pixels(pixels: npt.NDArray[np.int16]) -> int:
    """Coastline-coloured pixels with land within 3 pixels: the drawn coast, not text."""
    land = _near(pixels, LAND_COLOUR, 4)
    near_land = np.zeros_like(land)
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            near_land |= np.roll(np.roll(land, dy, axis=0), dx, axis=1)
    return int((_near(pixels, COAST_COLOUR, 40) & near_land).sum())


def test_map_shows_the_baltic_coast_the_tracks_and_the_cpa() -> None:
    png = render_map_png(_baltic_incident(), "NATO", "Russia")
    assert png is not None
    pixels = _pixels(png)
    total = pixels.shape[0] * pixels.shape[1]
    land = int(_near(pixels, LAND_COLOUR, 4).sum())
    sea = int(_near(pixels, SEA_COLOUR, 4).sum())
    assert land > 0.03 * total  # the Sambia peninsula and the locator map's land
    assert sea > 0.15 * total
    assert _coast_pixels(pixels) > 200
    assert _near(pixels, "#1f5fbf", 30).sum() > 150  # our track, blue
    assert _near(pixels, "#c0392b", 30).sum() > 100  # theirs, red (and the locator's box)


def test_map_of_the_open_sea_has_no_land() -> None:
    section = _plain_incident("INC-8", "serious", T0, 40.0, -30.0)  # mid-Atlantic
    png = render_map_png(section, "NATO", "Russia")
    assert png is not None
    pixels = _pixels(png)
    total = pixels.shape[0] * pixels.shape[1]
    assert _near(pixels, SEA_COLOUR, 4).sum() > 0.2 * total
    # only the locator map (14° around the Azores' latitude) may show land: a few islands
    assert _near(pixels, LAND_COLOUR, 4).sum() < 0.01 * total


def test_map_across_the_antimeridian() -> None:
    section = IncidentSection(
        **{
            **_fields(_plain_incident("INC-7", "serious", T0, 65.8, -179.8)),
            "tracks": (
                TrackLine(
                    "mmsi:1",
                    "ours",
                    tuple(MapPoint(T0, 65.8, lon) for lon in (179.0, 179.9, -179.6)),
                ),
            ),
        }
    )
    png = render_map_png(section, "NATO", "Russia")
    assert png is not None
    assert _near(_pixels(png), LAND_COLOUR, 4).sum() > 1000  # Chukotka


def test_no_position_no_map() -> None:
    section = IncidentSection(
        **{**_fields(_plain_incident("INC-6", "serious", T0, 0, 0)), "lat": None}
    )
    assert render_map_png(section, "NATO", "Russia") is None


# ---- files -----------------------------------------------------------------------------------


def test_report_format_from_the_suffix(tmp_path: Path) -> None:
    assert report_format(Path("r.PDF")) == "pdf"
    assert report_format(Path("r.htm")) == "html"
    with pytest.raises(ReportFormatError, match=r"r\.docx: a report is written as \.html or \.pdf"):
        report_format(Path("r.docx"))
    with pytest.raises(InputError, match="does not exist"):
        write_report(sample_report(), tmp_path / "missing" / "r.html")


def test_write_html_and_pdf(tmp_path: Path) -> None:
    data = ReportData("NATO", "Russia", T0, None, None, (_baltic_incident(),))
    text = write_report(data, tmp_path / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert THEIR_TEXT in text
    empty = ReportData("NATO", "Russia", T0, None, None, ())
    assert write_report(empty, tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")


POPPLER = shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None


@pytest.mark.skipif(not POPPLER, reason="pdftoppm/pdftotext missing: apt-get install poppler-utils")
def test_pdf_pages_show_statistics_map_and_both_accounts(html: str, tmp_path: Path) -> None:
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    texts = [_page_text(path, n) for n in range(1, len(pages) + 1)]
    # statistics, one page per incident, the joint checkpoint
    assert len(pages) == 5
    assert "Statistics" in texts[0]
    assert "Baltic Sea" in texts[0]
    incident_page = next(i for i, text in enumerate(texts) if "Incident INC-1" in text)
    page_text = " ".join(texts[incident_page].split())
    assert OUR_TEXT in page_text
    assert THEIR_TEXT in page_text
    assert "32 min 00 s" in page_text
    assert "Joint checkpoint" in texts[-1]
    pixels = _pixels(pages[incident_page].read_bytes())
    # the map, embedded and rasterised again: land and sea colours present (colours resampled)
    assert _near(pixels, LAND_COLOUR, 8).sum() > 500
    assert _near(pixels, SEA_COLOUR, 8).sum() > 5_000
    stats = _pixels(pages[0].read_bytes())
    assert _near(stats, "#e69b2e", 12).sum() > 500  # the serious bars


def _page_text(pdf: Path, page: int) -> str:
    result = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout
