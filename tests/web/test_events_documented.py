"""Every event type the server can publish is documented in docs/events.md: the types the
watcher and the timers publish, every literal ``publish("…")`` in the source, and every type
actually published while the app runs a send."""

import re
from pathlib import Path

from parley.hotline.events import EventBus
from parley.hotline.node import init_node
from parley.hotline.node_events import WATCHER_EVENT_TYPES, NodeWatcher
from parley.web.events import RESET_EVENT
from parley.web.timers import TIMER_EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_ROW = re.compile(r"^\| `([a-z][a-z0-9.-]*)` \|", re.MULTILINE)
PUBLISHED_LITERAL = re.compile(r"""\.publish\(\s*["']([^"']+)["']""")


def documented_types() -> set[str]:
    return set(DOCUMENTED_ROW.findall((ROOT / "docs" / "events.md").read_text(encoding="utf-8")))


def published_in_source() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "parley").rglob("*.py"):
        found |= set(PUBLISHED_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_known_type_is_documented() -> None:
    known = WATCHER_EVENT_TYPES | TIMER_EVENT_TYPES | {RESET_EVENT} | published_in_source()
    assert "link.status" in known
    assert "escalation.notice" in known
    assert sorted(known - documented_types()) == []


def test_the_types_published_for_a_send_are_documented(tmp_path: Path) -> None:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    bus = EventBus()
    watcher = NodeWatcher(nato, bus)
    nato.send(9, {"language": "en", "text": "hello"})
    nato.send(6, {"sequence": "1"})
    assert watcher.poll() == 2
    assert bus.published_types == {"message.recorded", "test.sent"}
    assert sorted(bus.published_types - documented_types()) == []
    nato.close()
    russia.close()


def test_the_check_would_catch_an_undocumented_type() -> None:
    assert "message.recorded" in documented_types()
    assert "message.teleported" not in documented_types()
