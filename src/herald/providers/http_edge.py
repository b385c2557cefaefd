"""The HTTP edge the HTTP adapters (Twilio, Infobip, Africa's Talking) share: sessions, timeouts, the one table of
foreign errors, and the secret check of the providers that sign nothing.

An aiohttp session belongs to the event loop it was made in, and herald runs several loops in one
process (the worker's, each one-off job's `asyncio.run`), so the edge makes a session per running
loop on first use, with the provider's connector limit, default headers and per-request timeout.
Every exception aiohttp (or the socket under it) raises becomes a ProviderError here, through
FOREIGN_ERRORS: looked up along the exception's MRO, so the most specific listed class decides.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import aiohttp
from pydantic import SecretStr

from herald.errors import ProviderError, ProviderOutcome, WebhookError
from herald.providers.base import WebhookRequest

_UNKNOWN, _UNREACHABLE, _MISCONFIGURED = (
    ProviderOutcome.OUTCOME_UNKNOWN,
    ProviderOutcome.UNREACHABLE,
    ProviderOutcome.MISCONFIGURED,
)


class Foreign(NamedTuple):
    """What a foreign exception means to herald: the outcome, herald's error code, and what happened."""

    outcome: ProviderOutcome
    code: str
    what: str


FOREIGN_ERRORS: dict[type[BaseException], Foreign] = {
    # No connection was made, so nothing reached the provider: safe to try again, here or elsewhere.
    aiohttp.ClientConnectorError: Foreign(_UNREACHABLE, "UNREACHABLE", "cannot connect"),
    aiohttp.ClientConnectorDNSError: Foreign(_UNREACHABLE, "UNREACHABLE", "the host name does not resolve"),
    aiohttp.ClientProxyConnectionError: Foreign(_UNREACHABLE, "UNREACHABLE", "cannot connect to the proxy"),
    aiohttp.ClientHttpProxyError: Foreign(_UNREACHABLE, "UNREACHABLE", "the proxy refused the connection"),
    # TLS failed before a byte of the request went out; often a middlebox, sometimes the CA bundle.
    aiohttp.ClientSSLError: Foreign(_UNREACHABLE, "UNREACHABLE", "the TLS handshake failed"),
    aiohttp.ClientConnectorSSLError: Foreign(_UNREACHABLE, "UNREACHABLE", "the TLS handshake failed"),
    aiohttp.ClientConnectorCertificateError: Foreign(_UNREACHABLE, "UNREACHABLE", "the certificate is not trusted"),
    aiohttp.ServerFingerprintMismatch: Foreign(_UNREACHABLE, "UNREACHABLE", "the certificate fingerprint differs"),
    aiohttp.ConnectionTimeoutError: Foreign(_UNREACHABLE, "UNREACHABLE", "no connection within the timeout"),
    # The request may have reached the provider and herald never heard the answer: ask before resending.
    TimeoutError: Foreign(_UNKNOWN, "TIMEOUT", "no answer within the timeout"),
    aiohttp.ServerTimeoutError: Foreign(_UNKNOWN, "TIMEOUT", "no answer within the timeout"),
    aiohttp.SocketTimeoutError: Foreign(_UNKNOWN, "TIMEOUT", "no answer within the timeout"),
    aiohttp.ServerDisconnectedError: Foreign(_UNKNOWN, "NETWORK", "the server closed the connection"),
    aiohttp.ClientConnectionResetError: Foreign(_UNKNOWN, "NETWORK", "the connection was reset"),
    aiohttp.ServerConnectionError: Foreign(_UNKNOWN, "NETWORK", "the connection failed"),
    aiohttp.ClientConnectionError: Foreign(_UNKNOWN, "NETWORK", "the connection failed"),
    aiohttp.ClientOSError: Foreign(_UNKNOWN, "NETWORK", "a socket error"),
    aiohttp.ClientPayloadError: Foreign(_UNKNOWN, "NETWORK", "the answer's body was cut short"),
    aiohttp.UploadAbortedError: Foreign(_UNKNOWN, "NETWORK", "the upload was aborted"),
    aiohttp.ClientResponseError: Foreign(_UNKNOWN, "NETWORK", "the answer could not be read"),
    aiohttp.ContentTypeError: Foreign(_UNKNOWN, "NETWORK", "the answer has an unexpected content type"),
    aiohttp.WSServerHandshakeError: Foreign(_UNKNOWN, "NETWORK", "the answer could not be read"),
    # A redirect is an answer, but not the result: a create may have happened before it.
    aiohttp.TooManyRedirects: Foreign(_UNKNOWN, "NETWORK", "the provider redirected too often"),
    aiohttp.RedirectClientError: Foreign(_UNKNOWN, "NETWORK", "the provider redirected somewhere unusable"),
    aiohttp.NonHttpUrlRedirectClientError: Foreign(_UNKNOWN, "NETWORK", "the provider redirected off HTTP"),
    aiohttp.InvalidUrlRedirectClientError: Foreign(_UNKNOWN, "NETWORK", "the provider redirected to a bad URL"),
    # herald's own settings are wrong (base_url): nothing went out, and nothing will until they are fixed.
    aiohttp.InvalidURL: Foreign(_MISCONFIGURED, "BAD_URL", "the configured URL is not valid"),
    aiohttp.InvalidUrlClientError: Foreign(_MISCONFIGURED, "BAD_URL", "the configured URL is not valid"),
    aiohttp.NonHttpUrlClientError: Foreign(_MISCONFIGURED, "BAD_URL", "the configured URL is not HTTP(S)"),
    # Anything else aiohttp or the socket raises: no evidence either way, so treat it as possibly sent.
    aiohttp.ClientError: Foreign(_UNKNOWN, "NETWORK", "the HTTP client failed"),
    OSError: Foreign(_UNKNOWN, "NETWORK", "a socket error"),
}
"""Foreign exception class -> its meaning. Every class aiohttp exports is listed on purpose
(tests/unit/test_http_edge.py fails when a new one appears); a subclass not listed takes its
nearest listed ancestor's row."""

CAUGHT = (TimeoutError, aiohttp.ClientError, OSError)
"""What an adapter catches around a request and hands to `HttpEdge.failure`."""

_ADVICE = {
    ProviderOutcome.UNREACHABLE: "herald will retry.",
    ProviderOutcome.OUTCOME_UNKNOWN: "herald will ask the provider before it retries.",
    ProviderOutcome.MISCONFIGURED: "herald holds the messages; fix the provider's base_url.",
}


def foreign(exc: BaseException) -> Foreign:
    """The row of FOREIGN_ERRORS that decides for `exc` (its most specific listed class)."""
    for cls in type(exc).__mro__:
        row = FOREIGN_ERRORS.get(cls)
        if row is not None:
            return row
    raise TypeError(f"{type(exc).__name__} is not an HTTP transport error") from exc


class HttpEdge:
    """One provider's HTTP client side: a session per running loop, the request timeout, error conversion."""

    def __init__(
        self,
        *,
        provider: str,
        label: str,
        host: str,
        headers: Mapping[str, str],
        limit: int,
        timeout: float,
        json_serialize: Callable[[Any], str] = json.dumps,
    ) -> None:
        self.provider = provider  # the configured provider name errors carry
        self.label = label  # how messages name it: "Twilio (twilio-ke)"
        self.host = host
        self.seconds = timeout
        self.timeout = aiohttp.ClientTimeout(total=timeout)  # per request: a hang is a TIMEOUT of that one request
        self._headers = dict(headers)
        self._limit = limit
        self._json = json_serialize
        self._http: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def session(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        """The running loop's session and its request slots (at most `limit` requests in flight)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._slots is None or self._http.closed or self._loop is not loop:
            await self.close()
            if self._http is None:  # another task may have made one while this one waited
                self._http = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=self._limit),
                    headers=self._headers,
                    json_serialize=self._json,
                )
                self._slots = asyncio.Semaphore(self._limit)
                self._loop = loop
        assert self._http is not None and self._slots is not None
        return self._http, self._slots

    def failure(self, exc: BaseException, doing: str = "the request") -> ProviderError:
        """The ProviderError for a foreign exception raised while doing `doing`."""
        row = foreign(exc)
        what = f"no answer within {self.seconds:g} s" if row.code == "TIMEOUT" else row.what
        text = f"{doing}: {what} ({type(exc).__name__}, {self.host})"
        return ProviderError(
            f"{self.label}: {text}; {_ADVICE[row.outcome]}",
            provider=self.provider,
            code=row.code,
            outcome=row.outcome,
            text=text,
        )

    async def close(self) -> None:
        """Drop the session; one of another, still running loop is detached, since only that loop may close it."""
        http, loop = self._http, self._loop
        self._http = self._slots = self._loop = None
        if http is None or http.closed:
            return
        if loop is asyncio.get_running_loop() or loop is None or loop.is_closed():
            await http.close()  # with its loop gone this only marks it closed: nothing is left to wait for
        else:
            http.detach()


SECRET_HEADER = "x-herald-webhook-secret"
"""Where a provider's callback may carry herald's webhook secret instead of the URL's `secret`."""


def check_webhook_secret(provider: str, secret: SecretStr | None, request: WebhookRequest, takes: str) -> None:
    """A callback of a provider that signs nothing (Infobip, Africa's Talking) must carry herald's secret, in
    the URL (`?secret=`) or the header; WebhookError 403 otherwise. `takes`: what herald takes ("pushes")."""
    if secret is None:
        raise WebhookError(f"Provider {provider!r} has no webhook_secret; herald takes no {takes}.", status=403)
    given = request.query.get("secret") or request.headers.get(SECRET_HEADER) or ""
    # As bytes: a forged secret with non-ASCII characters would make compare_digest raise a TypeError.
    if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        raise WebhookError("The call does not carry this provider's webhook secret.", status=403)
