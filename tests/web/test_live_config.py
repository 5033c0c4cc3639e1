"""A node's feeds.toml: what it may say, and one clear line for what it may not."""

from pathlib import Path

import pytest

from parley.errors import ConfigError
from parley.tracks.sources import FileReplay, TcpSource, UdpSource
from parley.web.live import make_source
from parley.web.live_config import (
    FeedConfig,
    LiveSettings,
    host_port,
    load_live_settings,
    parse_live_settings,
)


def test_no_file_means_no_feeds(tmp_path: Path) -> None:
    assert load_live_settings(tmp_path) == LiveSettings()


def test_a_full_file(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(
        'sides = "sides.toml"\nbatch_s = 0.25\nopen_incidents = false\n\n'
        '[[feeds]]\nkind = "nmea-tcp"\nurl = "tcp://10.0.0.7:10110"\n\n'
        '[[feeds]]\nkind = "nmea-udp"\nurl = "0.0.0.0:10111"\n\n'
        '[[feeds]]\nkind = "replay"\npath = "baltic.csv"\nspeed = 20\nname = "drill"\n',
        encoding="utf-8",
    )
    settings = load_live_settings(tmp_path)
    assert settings.sides == tmp_path / "sides.toml"
    assert (settings.batch_s, settings.open_incidents) == (0.25, False)
    assert settings.feeds == (
        FeedConfig("nmea-tcp", "nmea-tcp:tcp://10.0.0.7:10110", url="tcp://10.0.0.7:10110"),
        FeedConfig("nmea-udp", "nmea-udp:0.0.0.0:10111", url="0.0.0.0:10111"),
        FeedConfig("replay", "drill", path=tmp_path / "baltic.csv", speed=20.0),
    )
    tcp, udp, replay = (make_source(feed) for feed in settings.feeds)
    assert isinstance(tcp, TcpSource)
    assert (tcp.host, tcp.port, tcp.parser.format_name) == ("10.0.0.7", 10110, "ais-nmea")
    assert isinstance(udp, UdpSource)
    assert udp.port == 10111
    assert isinstance(replay, FileReplay)
    assert replay.speed == 20.0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"feeds": [{"kind": "radar"}]}, "feeds[0]: kind 'radar': expected one of nmea-tcp"),
        ({"feeds": [{"kind": "sbs-tcp"}]}, "feeds[0]: a sbs-tcp feed needs url"),
        ({"feeds": [{"kind": "replay"}]}, 'feeds[0]: a replay feed needs path = "FILE"'),
        ({"feeds": [{"kind": "sbs-tcp", "url": "host"}]}, "url 'host': expected host:port"),
        ({"feeds": [{"kind": "replay", "path": "x", "speed": 0}]}, "speed must be a positive"),
        ({"feeds": [{"kind": "sbs-tcp", "url": "h:1", "port": 2}]}, "unknown key 'port'"),
        ({"batch_s": "1"}, "batch_s must be a positive number, got '1'"),
        ({"open_incidents": 1}, "open_incidents must be true or false"),
        ({"feed": []}, "unknown key 'feed'"),
        ({"feeds": {"kind": "sbs-tcp"}}, "feeds must be [[feeds]] tables"),
    ],
)
def test_mistakes_are_one_line_naming_the_file(document: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_live_settings(document, "node/feeds.toml", Path("node"))
    text = str(caught.value)
    assert text.startswith("node/feeds.toml")
    assert message in text
    assert "\n" not in text


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text("[[feeds]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"feeds\.toml"):
        load_live_settings(tmp_path)


def test_host_port_forms() -> None:
    assert host_port("tcp://127.0.0.1:30003") == ("127.0.0.1", 30003)
    assert host_port("[::1]:30005") == ("::1", 30005)
    with pytest.raises(ConfigError):
        host_port("127.0.0.1:70000")
