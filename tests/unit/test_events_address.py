"""HERALD_EVENTS_URL: what parses, what is refused with which line, and that no line shows the password."""

from __future__ import annotations

import pytest

from herald.config import Settings, load_settings
from herald.errors import ConfigurationError
from herald.events.address import BrokerAddress, parse_broker_url

SECRET = "Zq7-secret"


def test_a_plain_url_gives_every_part() -> None:
    a = parse_broker_url("stomp://herald:pw@broker.example:61613/queue/fineract-events")
    assert a == BrokerAddress("stomp", "broker.example", 61613, "/queue/fineract-events", "herald", "pw", False)
    assert (a.kind, a.name) == ("queue", "fineract-events")


def test_port_defaults_to_stomp_and_tls_follows_the_scheme() -> None:
    a = parse_broker_url("stomp+ssl://broker/topic/events")
    assert (a.port, a.tls, a.kind, a.name, a.username, a.password) == (61613, True, "topic", "events", None, None)
    assert parse_broker_url("STOMP://broker:1/queue/q").scheme == "stomp"


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("stomp://herald:p@ss@broker:61613/queue/q", "p@ss"),
        ("stomp://herald:a:b:c@broker/queue/q", "a:b:c"),
        ("stomp://herald:sl/ash@broker/queue/q", "sl/ash"),
        ("stomp://herald:@:/@x@broker/queue/q", "@:/@x"),
        ("stomp://herald:p%40ss%3Aw%2Frd%25@broker/queue/q", "p@ss:w/rd%"),
        ("stomp://herald:100%@broker/queue/q", "100%"),  # a % that escapes nothing stays
        ("stomp://herald:@broker/queue/q", ""),
    ],
)
def test_passwords_with_at_colon_slash_and_escapes(url: str, password: str) -> None:
    a = parse_broker_url(url)
    assert (a.username, a.password, a.host, a.destination) == ("herald", password, "broker", "/queue/q")
    assert not password or password not in a.shown()
    assert "***" in a.shown()


def test_escaped_user_name_and_destination() -> None:
    a = parse_broker_url("stomp://dom%3Auser:pw@broker/queue/fineract%2Eevents")
    assert (a.username, a.name) == ("dom:user", "fineract.events")


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("stomp://[::1]/queue/q", "::1", 61613),
        ("stomp://u:p@[2001:db8::5]:61614/queue/q", "2001:db8::5", 61614),
        ("stomp+ssl://[2001:DB8:0:0::5]:1/topic/t", "2001:db8::5", 1),
        ("stomp://10.0.0.7:65535/queue/q", "10.0.0.7", 65535),
    ],
)
def test_ipv6_and_ipv4_hosts(url: str, host: str, port: int) -> None:
    a = parse_broker_url(url)
    assert (a.host, a.port) == (host, port)
    if ":" in host:
        assert f"[{host}]:{port}" in a.shown()
        assert a.host_in_url == f"[{host}]"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("kafka://broker:9092/external-events", "does not support Kafka yet"),
        ("http://broker/queue/q", "unknown scheme 'http'; use stomp:// or stomp+ssl://"),
        ("tcp://broker:61616", "OpenWire"),
        ("broker:61613/queue/q", "is not a URL"),
        ("stomp:///queue/q", "has no host"),
        ("stomp://u:p@:61613/queue/q", "has no host"),
        ("stomp://bro ker/queue/q", "not a host name"),
        ("stomp://broker:0/queue/q", "bad port"),
        ("stomp://broker:65536/queue/q", "bad port"),
        ("stomp://broker:sixty/queue/q", "bad port"),
        ("stomp://broker:/queue/q", "bad port"),
        ("stomp://[::1/queue/q", "bad IPv6 host"),
        ("stomp://[not-v6]/queue/q", "bad IPv6 host"),
        ("stomp://[::1]x/queue/q", "after the IPv6 host"),
        ("stomp://::1/queue/q", "IPv6 host without brackets"),
        ("stomp://broker", "names no queue or topic"),
        ("stomp://broker/", "names no queue or topic"),
        ("stomp://broker/fineract-events", "names no queue or topic"),
        ("stomp://broker/queue/", "names no queue or topic"),
        ("stomp://broker/exchange/x", "names no queue or topic"),
        ("stomp://broker/queue/q?prefetch=1", "?options"),
        ("stomp+tls://broker/queue/q", "unknown scheme 'stomp+tls'; use stomp:// or stomp+ssl://"),
    ],
)
def test_each_mistake_is_one_line_that_says_what_and_how(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_broker_url(url)
    line = str(caught.value)
    assert says in line
    assert line.startswith("HERALD_EVENTS_URL ") and "; " in line and "\n" not in line


@pytest.mark.parametrize(
    "url",
    [
        f"stomp://herald:{SECRET}@broker:notaport/queue/q",
        f"stomp://herald:{SECRET}/queue/q",  # no @: the password sits where a port would
        f"stomp://herald:{SECRET}",
        f"kafka://herald:{SECRET}@broker/q",
        f"stomp://herald:{SECRET}@/queue/q",
        f"stomp://herald:{SECRET}@broker/nowhere",
        f"stomp://herald:{SECRET}@[zz]/queue/q",
        f"{SECRET}://broker/queue/q",
        f"stomp:/herald:{SECRET}@broker/queue/q",
    ],
)
def test_no_error_shows_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_broker_url(url)
    assert SECRET.lower() not in str(caught.value).lower()
    assert SECRET.lower() not in repr(caught.value).lower()
    with pytest.raises(ConfigurationError) as from_settings:
        load_settings(events_url=url)
    assert SECRET.lower() not in str(from_settings.value).lower()


def test_repr_and_shown_never_show_the_password() -> None:
    a = parse_broker_url(f"stomp://herald:{SECRET}@broker/queue/q")
    assert a.password == SECRET
    assert SECRET not in repr(a) and SECRET not in str(a)
    assert a.shown() == "stomp://herald:***@broker:61613/queue/q"
    settings = load_settings(events_url=f"stomp://herald:{SECRET}@broker/queue/q")
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_settings_take_a_good_url_and_leave_events_off_without_one() -> None:
    assert load_settings().events_broker is None
    assert load_settings(events_url="  ").events_broker is None
    broker = load_settings(events_url="stomp+ssl://u:p@mq:61614/topic/fineract").events_broker
    assert broker is not None and (broker.host, broker.tls, broker.name) == ("mq", True, "fineract")


def test_settings_refuse_a_bad_url_the_way_other_settings_errors_read() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(events_url="stomp://broker:99999/queue/q")
    assert str(caught.value) == (
        "Invalid configuration: HERALD_EVENTS_URL: Value error, has a bad port; give the broker's STOMP port, "
        "a number from 1 to 65535 (ActiveMQ's is 61613)."
    )


def test_settings_read_both_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_EVENTS_URL", "stomp://mq/queue/fineract-events")
    monkeypatch.setenv("HERALD_EVENTS_SCHEMAS", "/opt/fineract-avro-schemas-1.9.0.jar")
    settings = Settings()
    assert settings.events_broker is not None and settings.events_broker.destination == "/queue/fineract-events"
    assert str(settings.events_schemas) == "/opt/fineract-avro-schemas-1.9.0.jar"
