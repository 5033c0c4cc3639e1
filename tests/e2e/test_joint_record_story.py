"""Issue 5's "done when", as one scripted run through the command line on two paired nodes whose
logs travel on signed bundles (``parley hotline export`` / ``import``):

detect the encounters of the bundled April 2016 sample -> ``parley incident ingest`` on the NATO
node opens incidents with the classes the rules give -> NATO notifies one -> Russia's node has it,
acknowledges and answers with its own account and class -> both accounts side by side on both
nodes -> ``parley report`` writes a PDF whose pages (``pdftoppm``, ``pdftotext``) show the
statistics, the map and both accounts with figures that match the inputs. Then the Vienna
Document: an exercise of 10,000 troops notified 29 days ahead is late, one of 8,000 troops is not
notifiable.
"""

import io
import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

import parley.data
from parley.cli.main import run
from parley.incidents.report_map import LAND_COLOUR, SEA_COLOUR, SIDE_COLOURS
from parley.incidents.report_plots import class_colour
from parley.scenarios.april2016 import (
    ExpectedEncounter,
    donald_cook_11_april,
    donald_cook_12_april,
    rc135_14_april,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
        reason="pdftoppm/pdftotext missing: apt-get install poppler-utils",
    ),
]

APRIL_2016 = Path(parley.data.__file__).with_name("samples") / "april2016.csv"
#: What each side said of the Su-24 passes of 12 April 2016 (reference/incidents.md).
NATO_WORDS = "Simulated attack profile: a Su-24 passed within 30 ft of USS Donald Cook, unsafe."
RUSSIA_WORDS = "Scheduled training flight over neutral waters, observing all safety measures."
PAGE_DPI = 80


class Desks:
    """The two node directories and the command line, each command's output read back."""

    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.nato, self.russia = folder / "nato", folder / "russia"
        self._capsys = capsys
        self._bundles = 0

    def parley(self, *args: str) -> str:
        self._capsys.readouterr()
        code = run([str(arg) for arg in args])
        captured = self._capsys.readouterr()
        assert code == 0, f"parley {' '.join(args)}: {captured.err}"
        return captured.out

    def json(self, *args: str) -> Any:
        return json.loads(self.parley(*args, "--json"))

    def pair(self) -> None:
        for node, party in ((self.nato, "nato"), (self.russia, "russia")):
            self.parley("node", "init", str(node), "--party", party)
            (self.folder / f"{party}.identity.json").write_text(
                self.parley("node", "identity", str(node)), encoding="utf-8"
            )
        self.parley(
            "node",
            "trust",
            str(self.nato),
            str(self.folder / "russia.identity.json"),
            "--url",
            "http://127.0.0.1:9",
        )
        self.parley(
            "node",
            "trust",
            str(self.russia),
            str(self.folder / "nato.identity.json"),
            "--url",
            "http://127.0.0.1:9",
        )

    def carry(self, source: Path, target: Path) -> None:
        """The source's new entries to the target on a signed bundle (a USB stick)."""
        self._bundles += 1
        bundle = self.folder / f"{self._bundles}-{source.name}.bundle"
        self.parley("hotline", "export", str(source), "-o", str(bundle))
        self.parley("hotline", "import", str(target), str(bundle))


@pytest.fixture
def desks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Desks:
    made = Desks(tmp_path, capsys)
    made.pair()
    return made


def expected_encounters() -> list[ExpectedEncounter]:
    """What the rules must find in april2016.csv: the three cases it is built from."""
    cases = (donald_cook_11_april(), donald_cook_12_april(), rc135_14_april())
    return [encounter for case in cases for encounter in case.expected]


def test_the_joint_record_from_detection_to_the_report(desks: Desks, tmp_path: Path) -> None:
    nato, russia = desks.nato, desks.russia

    # detect: the encounters the April 2016 cases were built to show, with their classes
    detect_json = tmp_path / "detect.json"
    detect_json.write_text(desks.parley("detect", str(APRIL_2016), "--json", "--evidence"))
    detected = json.loads(detect_json.read_text())["encounters"]
    expected = expected_encounters()
    assert sorted(((e["a"], e["b"]), e["severity"]) for e in detected) == sorted(
        (e["pair"], e["severity"]) for e in expected
    )

    # ingest on the NATO node: one incident per serious or high-risk encounter (the passes of the
    # same pair are a day apart, beyond the default 6 h merge window), with the same class
    ingested = desks.json("incident", "ingest", str(nato), str(detect_json), "--by", "ivanova")
    assert len(ingested["opened"]) == 6
    incidents = desks.json("incident", "list", str(nato))
    assert sorted(((i["track_a"], i["track_b"]), i["severity"]) for i in incidents) == sorted(
        (e["pair"], e["severity"]) for e in expected if e["severity"] in ("serious", "high-risk")
    )
    assert {i["state"] for i in incidents} == {"detected"}
    attack = next(
        i for i in incidents if i["their_track"] == "sim:su24-1" and i["severity"] == "high-risk"
    )
    incident_id = attack["id"]

    # NATO gives its account and notifies: the notification carries NATO's class and words
    desks.parley(
        "incident",
        "account",
        str(nato),
        incident_id,
        "--class",
        "high-risk",
        "--text",
        NATO_WORDS,
        "--by",
        "ivanova",
    )
    sent = desks.json("incident", "notify", str(nato), incident_id, "--by", "ivanova")
    assert sent["incident"]["state"] == "notified"
    desks.carry(nato, russia)

    # the peer node has the incident with NATO's account; Russia acknowledges and answers
    there = desks.json("incident", "show", str(russia), incident_id)
    assert (there["incident"]["origin"], there["incident"]["state"]) == ("peer", "notified")
    assert there["accounts"]["theirs"]["classification"] == "high-risk"
    assert there["accounts"]["theirs"]["text"] == NATO_WORDS
    assert there["messages"][0]["msg_id"] == sent["msg_id"]
    desks.parley("hotline", "ack", str(russia), sent["msg_id"])
    assert desks.json("incident", "show", str(russia), incident_id)["incident"]["state"] == (
        "acknowledged"
    )
    answered = desks.json(
        "incident",
        "account",
        str(russia),
        incident_id,
        "--class",
        "routine",
        "--text",
        RUSSIA_WORDS,
        "--nature",
        "routine-activity",
        "--send",
        "--by",
        "petrov",
    )
    assert len(answered["sent"]) == 2  # the account (template 1) and the clarification reply
    desks.carry(russia, nato)

    # both accounts side by side on both nodes, each party with its own class
    here = desks.json("incident", "show", str(nato), incident_id)
    there = desks.json("incident", "show", str(russia), incident_id)
    assert here["incident"]["state"] == there["incident"]["state"] == "clarified"
    for detail, ours, theirs in ((here, "nato", "russia"), (there, "russia", "nato")):
        assert (detail["accounts"]["ours"]["party"], detail["accounts"]["theirs"]["party"]) == (
            ours,
            theirs,
        )
        assert detail["accounts"]["agree"] is False
    assert (here["accounts"]["ours"]["classification"], here["accounts"]["ours"]["text"]) == (
        "high-risk",
        NATO_WORDS,
    )
    assert here["accounts"]["theirs"] == {
        **here["accounts"]["theirs"],
        "classification": "routine",
        "nature": "routine-activity",
        "text": RUSSIA_WORDS,
    }
    assert there["accounts"]["ours"]["text"] == RUSSIA_WORDS
    assert [(m["direction"], m["role"]) for m in here["messages"]] == [
        ("sent", "notification"),
        ("received", "acknowledgement"),
        ("received", "account"),
        ("received", "reply"),
    ]

    # the report, and its pages as a reader sees them
    pdf = tmp_path / "report.pdf"
    written = desks.json("report", str(nato), "-o", str(pdf))
    by_class = dict(Counter(i["severity"] for i in incidents))
    assert written["incidents"] == 6
    assert (
        written["by_class"]
        == {"routine": 0, "serious": 3, "high-risk": 3}
        == {
            "routine": 0,
            **by_class,
        }
    )
    pages = _render(pdf, tmp_path)
    texts = [_page_text(pdf, number) for number in range(1, len(pages) + 1)]
    _check_statistics(texts[0], _pixels(pages[0]), by_class)
    _check_incident_pages(pdf, texts, pages, incident_id, attack)
    _check_joint_checkpoint(_page_text(pdf, len(pages), layout=True), desks)


def _check_joint_checkpoint(text: str, desks: Desks) -> None:
    """The last page: both logs' heads as this node holds them, signed by NATO alone (bundles
    carry no joint checkpoint: only the servers exchange one)."""
    logs = desks.json("hotline", "log", str(desks.nato))
    assert "Joint checkpoint" in text
    for party, entries in (("nato", logs["own"]), ("russia", logs["peer"])):
        assert re.search(rf"\b{party}\s+parley/{party}/[0-9a-f]{{16}}\s+{len(entries)}\s", text)
    flat = " ".join(text.split())
    assert "Signed by: nato. The countersignature of russia is not held yet" in flat


def _check_statistics(text: str, pixels: npt.NDArray[np.int16], by_class: dict[str, int]) -> None:
    """Page 1: the counts per class, month and area, as tables and bar charts."""
    flat = " ".join(text.split())
    assert "Statistics" in flat
    assert "Incidents 6" in flat
    for name in ("routine", "serious", "high-risk"):
        assert re.search(rf"\b{name} {by_class.get(name, 0)}\b", flat), name
    assert "2016-04 0 3 3 6" in flat  # month: routine, serious, high-risk, total
    assert "Baltic Sea 6" in flat
    assert "0 of 1 incidents where both parties gave a class (5 awaiting an account)" in flat
    for name in ("serious", "high-risk"):  # the bars of both classes present
        assert _near(pixels, class_colour(name), 12).sum() > 1_000, name


def _check_incident_pages(
    pdf: Path, texts: list[str], pages: list[Path], incident_id: str, attack: dict[str, Any]
) -> None:
    """The notified incident: its facts, both accounts, the map, and the hotline exchange."""
    first = next(n for n, text in enumerate(texts) if f"Incident {incident_id}" in text)
    # the incident may run onto the next page (its hotline exchange)
    flat = " ".join(" ".join(texts[first : first + 2]).split())
    pdf_layout_text = _page_text(pdf, first + 1, layout=True)
    assert "State clarified" in flat
    assert f"{attack['min_slant_m']:.0f} m at 2016-04-12 15:44:4" in flat
    assert "Baltic Sea" in flat
    nato_column, russia_column = _account_columns(pdf_layout_text)
    assert "Class: high-risk" in nato_column
    assert NATO_WORDS in nato_column
    assert "Class: routine Nature: routine-activity" in russia_column
    assert RUSSIA_WORDS in russia_column
    assert "The parties' classes differ." in flat
    # the exchange: the notification's delay runs from the closest approach, years before it was
    # sent from the record (and so labelled), the answers' from the notification
    exchange = flat[flat.index("Hotline exchange") :]
    assert "incident notification: class high-risk: Simulated attack profile" in exchange
    assert re.search(
        r"Delay 1\d years \d+ d after CPA \(notified from the record, not as it happened\)",
        exchange,
    )
    assert "russia acknowledgement" in exchange
    assert "russia account: class routine: Scheduled training flight" in exchange
    assert "(classification: routine-activity)" in exchange
    assert len(re.findall(r"\d+ s after incident notification", exchange)) == 3

    pixels = _pixels(pages[first])
    # the map: sea and land (the locator map of the Baltic) in the map's colours, resampled
    assert _near(pixels, SEA_COLOUR, 8).sum() > 20_000
    assert _near(pixels, LAND_COLOUR, 8).sum() > 1_000
    # both tracks inside the main map (not the accounts' coloured borders above it)
    main_map = _main_map(pixels)
    assert _near(main_map, SIDE_COLOURS["theirs"], 40).sum() > 100  # the Su-24's passes
    assert _near(main_map, SIDE_COLOURS["ours"], 40).sum() > 10  # the destroyer, slow


# ---- pages and pixels ------------------------------------------------------------------------


def _render(pdf: Path, folder: Path) -> list[Path]:
    subprocess.run(
        ["pdftoppm", "-r", str(PAGE_DPI), "-png", str(pdf), str(folder / "page")], check=True
    )
    return sorted(folder.glob("page-*.png"), key=lambda path: int(path.stem.split("-")[-1]))


def _page_text(pdf: Path, page: int, layout: bool = False) -> str:
    """The text of one page (1-based); with ``layout``, in its columns."""
    options = ["-layout"] if layout else []
    result = subprocess.run(
        ["pdftotext", *options, "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def _account_columns(layout_text: str) -> tuple[str, str]:
    """The words of the two account boxes, left (this node's party) and right, as laid out."""
    lines = layout_text.splitlines()
    header = next(n for n, line in enumerate(lines) if re.fullmatch(r"\s*nato\s+russia\s*", line))
    column = lines[header].index("russia")
    below = lines[header + 1 :]
    box = below[: next(n for n, line in enumerate(below) if "classes differ" in line)]
    left = " ".join(" ".join(line[:column] for line in box).split())
    right = " ".join(" ".join(line[column:] for line in box).split())
    return left, right


def _pixels(png: Path) -> npt.NDArray[np.int16]:
    return np.asarray(Image.open(io.BytesIO(png.read_bytes())).convert("RGB"), dtype=np.int16)


def _near(pixels: npt.NDArray[np.int16], colour: str, tolerance: int) -> npt.NDArray[np.bool_]:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    close: npt.NDArray[np.bool_] = np.all(np.abs(pixels - rgb) <= tolerance, axis=-1)
    return close


def _main_map(pixels: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """The main map's axes: the first run of columns holding sea (the locator map is the
    second), cut to the rows where those columns hold sea."""
    sea = _near(pixels, SEA_COLOUR, 8)
    columns = np.flatnonzero(sea.sum(axis=0) > 20)
    assert columns.size, "no map on the page"
    gaps = np.flatnonzero(np.diff(columns) > 8)  # not the map's white grid lines
    last = columns[gaps[0]] if gaps.size else columns[-1]
    rows = np.flatnonzero(sea[:, columns[0] : last + 1].sum(axis=1) > 20)
    return pixels[rows[0] : rows[-1] + 1, columns[0] : last + 1]


# ---- activities ------------------------------------------------------------------------------


def _exercise(activity_id: str, troops: int, start: datetime) -> dict[str, Any]:
    return {
        "id": activity_id,
        "kind": "exercise",
        "notice": "planned",
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (start + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "area": {
            "type": "Polygon",
            "coordinates": [[[14.0, 54.5], [16.5, 54.5], [16.5, 55.6], [14.0, 55.6]]],
        },
        "declared": {"troops": troops},
    }


def test_an_exercise_notified_29_days_ahead(desks: Desks, tmp_path: Path) -> None:
    nato, russia = desks.nato, desks.russia
    start = (datetime.now(UTC) + timedelta(days=29, minutes=10)).replace(microsecond=0)
    exercises = tmp_path / "exercises.json"
    exercises.write_text(
        json.dumps([_exercise("large-10000", 10_000, start), _exercise("small-8000", 8_000, start)])
    )
    desks.json("activity", "add", str(nato), str(exercises))
    for activity_id in ("large-10000", "small-8000"):
        desks.json("activity", "notify", str(nato), activity_id)
    desks.carry(nato, russia)

    for node, origin in ((nato, "own"), (russia, "peer")):
        large = desks.json("activity", "show", str(node), "large-10000", "--origin", origin)
        assert large["declared"]["troops"] == 10_000
        notified = datetime.fromisoformat(large["notified_at"])
        assert timedelta(days=28, hours=23) < start - notified <= timedelta(days=29, minutes=10)
        assert large["assessment"]["notifiable_by"] == ["troops"]
        assert large["assessment"]["flags"] == ["notifiable", "late"]
        assert large["assessment"]["days_late"] == 13  # due 42 days ahead
        small = desks.json("activity", "show", str(node), "small-8000", "--origin", origin)
        assert small["declared"]["troops"] == 8_000
        assert small["assessment"]["flags"] == []  # below 9,000 troops: not notifiable
        assert (small["assessment"]["notifiable"], small["assessment"]["days_late"]) == (False, 0)
