"""The transport for a broker address: one module per kind of broker."""

from __future__ import annotations

from herald.events.address import BrokerAddress
from herald.events.transport import EventSource


def open_source(address: BrokerAddress) -> EventSource:
    """The subscription HERALD_EVENTS_URL names (ActiveMQ over STOMP is the one herald has)."""
    from herald.events.stomp import StompSource

    return StompSource(
        address.host,
        address.port,
        address.destination,
        username=address.username,
        password=address.password,
        tls=address.tls,
    )
