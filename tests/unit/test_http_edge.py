"""The HTTP edge's table of foreign errors: every error aiohttp can raise has a deliberate herald outcome."""

from __future__ import annotations

import asyncio
import inspect
import ssl

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from herald.errors import ProviderOutcome
from herald.providers.http_edge import FOREIGN_ERRORS, HttpEdge, foreign


def _exported_client_errors() -> list[type[BaseException]]:
    found = {
        value
        for name in aiohttp.__all__
        if inspect.isclass(value := getattr(aiohttp, name)) and issubclass(value, aiohttp.ClientError)
    }
    return sorted(found, key=lambda cls: cls.__name__)


FOREIGN = [*_exported_client_errors(), TimeoutError, OSError]  # asyncio.TimeoutError is TimeoutError


@pytest.mark.parametrize("cls", FOREIGN, ids=lambda cls: cls.__name__)
def test_every_error_aiohttp_exports_is_mapped_on_purpose(cls: type[BaseException]) -> None:
    """A new aiohttp error class fails here until someone decides what it means (not only its parent's row)."""
    assert cls in FOREIGN_ERRORS, f"{cls.__name__} has no row in providers/http_edge.FOREIGN_ERRORS: decide its outcome"


def test_the_table_knows_no_outcome_a_transport_error_cannot_have() -> None:
    """A socket error is never a verdict on the message (permanent, opted out) nor a request to slow down."""
    allowed = {ProviderOutcome.UNREACHABLE, ProviderOutcome.OUTCOME_UNKNOWN, ProviderOutcome.MISCONFIGURED}
    assert {row.outcome for row in FOREIGN_ERRORS.values()} <= allowed


def _key() -> ConnectionKey:
    return ConnectionKey("api.example", 443, True, True, None, None, None)


@pytest.mark.parametrize(
    ("exc", "outcome", "code"),
    [
        # Nothing reached the provider: another try (or the fallback) is safe.
        (aiohttp.ClientConnectorError(_key(), ConnectionRefusedError(111, "refused")), "UNREACHABLE", "UNREACHABLE"),
        (aiohttp.ClientConnectorDNSError(_key(), OSError(-2, "no name")), "UNREACHABLE", "UNREACHABLE"),
        (
            aiohttp.ClientConnectorCertificateError(_key(), ssl.SSLCertVerificationError("bad cert")),
            "UNREACHABLE",
            "UNREACHABLE",
        ),
        (aiohttp.ConnectionTimeoutError(), "UNREACHABLE", "UNREACHABLE"),
        # It may have reached the provider: herald must ask before sending again.
        (TimeoutError(), "OUTCOME_UNKNOWN", "TIMEOUT"),
        (aiohttp.SocketTimeoutError(), "OUTCOME_UNKNOWN", "TIMEOUT"),
        (aiohttp.ServerDisconnectedError(), "OUTCOME_UNKNOWN", "NETWORK"),
        (aiohttp.ClientPayloadError("cut"), "OUTCOME_UNKNOWN", "NETWORK"),
        (aiohttp.ClientOSError(104, "reset"), "OUTCOME_UNKNOWN", "NETWORK"),
        (ConnectionResetError(104, "reset"), "OUTCOME_UNKNOWN", "NETWORK"),
        (OSError(5, "io"), "OUTCOME_UNKNOWN", "NETWORK"),
        # herald's own settings are wrong: hold the messages, fail none.
        (aiohttp.InvalidURL("htp:/x"), "MISCONFIGURED", "BAD_URL"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_a_foreign_error_becomes_the_provider_error_its_row_says(exc: BaseException, outcome: str, code: str) -> None:
    edge = HttpEdge(provider="tw", label="Twilio (tw)", host="api.example", headers={}, limit=1, timeout=2.5)
    error = edge.failure(exc, "sending")
    assert (foreign(exc).outcome, error.code, error.provider) == (ProviderOutcome[outcome], code, "tw")
    assert error.message.startswith("Twilio (tw): sending:") and "api.example" in error.message


def test_an_exception_that_is_no_transport_error_is_not_swallowed() -> None:
    with pytest.raises(TypeError):
        foreign(ValueError("a bug in herald"))


def test_a_timeout_says_how_long_herald_waited() -> None:
    edge = HttpEdge(provider="ib", label="Infobip (ib)", host="h", headers={}, limit=1, timeout=2.5)
    assert "no answer within 2.5 s" in (edge.failure(TimeoutError()).text or "")


def test_one_session_per_running_loop_with_the_limit_and_headers() -> None:
    edge = HttpEdge(provider="p", label="P", host="h", headers={"User-Agent": "herald"}, limit=3, timeout=1)

    async def use() -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        first = await edge.session()
        assert await edge.session() == first  # the same loop reuses it
        http, _ = first
        assert http.headers["User-Agent"] == "herald"
        assert isinstance(http.connector, aiohttp.TCPConnector) and http.connector.limit == 3
        return first

    one = asyncio.run(use())
    two = asyncio.run(use())  # a job's own asyncio.run gets a session of its own
    assert one[0] is not two[0]
    asyncio.run(edge.close())
