"""Where herald receives Fineract's external events: HERALD_EVENTS_URL, parsed and checked (no I/O).

    stomp://user:password@broker:61613/queue/fineract-events      STOMP over plain TCP
    stomp+ssl://user:password@broker:61614/topic/fineract-events  STOMP over TLS

The path is the queue (`/queue/NAME`) or topic (`/topic/NAME`) Fineract publishes to, the one named
by FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_QUEUE_NAME (or _TOPIC_NAME). A password may hold `@`, `:` or
`/` as they are, or %-escaped (`%40`, `%3A`, `%2F`); the credentials end at the URL's last `@`. A
user name with `:` in it must be escaped. Every error and `shown()` leave the password out.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from herald.errors import ConfigurationError

DEFAULT_PORT = 61613
"""ActiveMQ's STOMP port; its OpenWire port (Fineract's side) is 61616."""

SCHEMES = {"stomp": False, "stomp+ssl": True}
"""The schemes herald speaks, and whether each one is TLS."""

_EXAMPLE = "stomp://user:password@broker:61613/queue/fineract-events"
_KNOWN_OTHERS = {"http", "https", "amqp", "amqps", "mqtt", "mqtts", "ws", "wss", "stomps", "stomp+tls", "ssl+stomp"}
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?")


@dataclass(frozen=True)
class BrokerAddress:
    """A broker to receive Fineract's events from, and the queue or topic to read."""

    scheme: str
    host: str  # an IPv6 address without its brackets
    port: int
    destination: str  # "/queue/NAME" or "/topic/NAME", as STOMP names it
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False

    @property
    def kind(self) -> str:
        """The kind of destination: queue or topic."""
        return self.destination.split("/")[1]

    @property
    def name(self) -> str:
        """The destination's name, as Fineract's JMS queue or topic name property takes it."""
        return self.destination.split("/", 2)[2]

    @property
    def host_in_url(self) -> str:
        """The host as a URL writes it: an IPv6 address in brackets."""
        return f"[{self.host}]" if ":" in self.host else self.host

    def shown(self) -> str:
        """The address for logs and screens: the password replaced by ***."""
        credentials = ""
        if self.username is not None or self.password is not None:
            credentials = (self.username or "") + (":***" if self.password is not None else "") + "@"
        return f"{self.scheme}://{credentials}{self.host_in_url}:{self.port}{self.destination}"


def _bad(problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"HERALD_EVENTS_URL {problem}; {fix}.")


def parse_broker_url(text: str) -> BrokerAddress:
    """The BrokerAddress of `text`; ConfigurationError (one line, no password) when it is not one."""
    text = text.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise _bad("is not a URL", f"write it like {_EXAMPLE}")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        supported = " or ".join(f"{s}://" for s in SCHEMES)
        if scheme.startswith("kafka"):
            raise _bad("names Kafka", f"herald does not support Kafka yet: use ActiveMQ over {supported}")
        if scheme in {"tcp", "ssl", "nio", "openwire", "failover"}:
            raise _bad(
                f"uses {scheme}://, ActiveMQ's OpenWire (Fineract's side)",
                f"herald reads over STOMP: use {supported} and the broker's STOMP port ({DEFAULT_PORT})",
            )
        named = f" {scheme!r}" if scheme in _KNOWN_OTHERS else ""  # anything else might be a misplaced password
        raise _bad(f"has an unknown scheme{named}", f"use {supported}")
    username = password = None
    at = rest.rfind("@")
    if at >= 0:
        user, colon, secret = rest[:at].partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
        rest = rest[at + 1 :]
    authority, slash, path = rest.partition("/")
    path = slash + path
    if "?" in path or "#" in path:
        raise _bad("has ?options or a #fragment", "herald takes none: end the URL with /queue/NAME or /topic/NAME")
    host, port = _authority(authority)
    kind, _, name = path.lstrip("/").partition("/")
    name = unquote(name)
    if kind not in {"queue", "topic"} or not name or name.strip() != name:
        raise _bad(
            "names no queue or topic",
            "end it with /queue/NAME or /topic/NAME, the destination Fineract publishes to "
            "(FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_QUEUE_NAME or _TOPIC_NAME)",
        )
    return BrokerAddress(
        scheme=scheme,
        host=host,
        port=port,
        destination=f"/{kind}/{name}",
        username=username,
        password=password,
        tls=SCHEMES[scheme],
    )


def _authority(authority: str) -> tuple[str, int]:
    """Host and port of `host[:port]` or `[v6]:port`."""
    if authority.startswith("["):
        address, bracket, after = authority[1:].partition("]")
        try:
            host = str(ipaddress.IPv6Address(address)) if bracket else ""
        except ValueError:
            host = ""
        if not host:
            raise _bad("has a bad IPv6 host", "write it in brackets, like stomp://[2001:db8::5]:61613/queue/NAME")
        if after and not after.startswith(":"):
            raise _bad("has text after the IPv6 host", "write [address]:port")
        port_text = after[1:] if after else None
    elif authority.count(":") > 1:
        raise _bad("has an IPv6 host without brackets", "write it like stomp://[2001:db8::5]:61613/queue/NAME")
    else:
        host, colon, port_text_raw = authority.partition(":")
        port_text = port_text_raw if colon else None
        if not host:
            raise _bad("has no host", f"name the broker, like {_EXAMPLE}")
        if not _HOST_NAME.fullmatch(host):
            raise _bad("has a host that is not a host name or address", f"name the broker, like {_EXAMPLE}")
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise _bad(
            "has a bad port",  # not echoed: without an @, what looks like a port may be a password
            f"give the broker's STOMP port, a number from 1 to 65535 (ActiveMQ's is {DEFAULT_PORT})",
        )
    return host, int(port_text)
