"""The in-process event bus: numbering, bounded history, resume after an id, wake-ups."""

import pytest

from parley.hotline.events import EventBus, EventTypeError


def test_events_are_numbered_and_read_after_a_number() -> None:
    bus = EventBus()
    assert bus.since(0) == []
    first = bus.publish("message.recorded", {"msg_id": "A"})
    second = bus.publish("message.delivered", {"size": 2})
    assert (first.number, second.number) == (1, 2)
    assert [e.type for e in bus.since(0) or []] == ["message.recorded", "message.delivered"]
    assert [e.payload for e in bus.since(1) or []] == [{"size": 2}]
    assert bus.since(2) == []
    assert bus.since(3) is None  # a number from the future: the reader must reload
    assert first.to_json()["payload"] == {"msg_id": "A"}


def test_a_reader_that_fell_behind_the_history_is_told_so() -> None:
    bus = EventBus(capacity=3)
    for n in range(5):
        bus.publish("test.sent", {"n": n})
    assert bus.since(1) is None  # events 2.. are partly gone (2 was dropped)
    assert [e.payload["n"] for e in bus.since(2) or []] == [2, 3, 4]


def test_ids_carry_the_epoch_so_a_restart_is_recognised() -> None:
    bus, other = EventBus(), EventBus()
    event = bus.publish("link.status", {"status": "up"})
    event_id = bus.event_id(event)
    assert event_id == f"{bus.epoch}-1"
    assert bus.resume_after(event_id) == 1
    assert bus.resume_after(None) == 1  # a new reader starts at the next event
    assert other.resume_after(event_id) is None  # an id from before a restart
    assert bus.resume_after("garbage") is None


def test_subscribers_are_woken_until_they_unsubscribe() -> None:
    bus = EventBus()
    woken: list[int] = []
    unsubscribe = bus.subscribe(lambda: woken.append(bus.last_number))
    bus.publish("a.b", {})
    unsubscribe()
    bus.publish("a.b", {})
    assert woken == [1]


@pytest.mark.parametrize("bad", ["", "Message", "message..sent", "message sent", ".x", "x."])
def test_a_type_must_be_dotted_lower_case_words(bad: str) -> None:
    with pytest.raises(EventTypeError, match="dotted lower-case"):
        EventBus().publish(bad, {})
    assert EventBus().published_types == set()
