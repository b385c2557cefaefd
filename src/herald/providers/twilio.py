"""The Twilio Programmable Messaging adapter: one REST call per message, sent concurrently; signed status callbacks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import aiohttp
from yarl import URL

from herald.domain import wire
from herald.domain.message import MessageStatus
from herald.domain.phones import mask
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.errors import ProviderError, ProviderOutcome, WebhookError
from herald.providers.base import (
    InboundSink,
    InDoubt,
    OutboundMessage,
    ProviderCheck,
    ReportSink,
    SendResult,
    WebhookAnswer,
    WebhookBatch,
    WebhookRequest,
    retry_after,
)
from herald.providers.config import TwilioSettings
from herald.providers.http_edge import CAUGHT, HttpEdge
from herald.providers.twilio_codes import ADVICE, ERRORS, STATUSES, http_outcome, is_transient_failure
from herald.providers.twilio_lookup import Candidate, adopted, likeness

log = logging.getLogger(__name__)
_UNANSWERED = object()  # a status lookup Twilio did not answer (transport error, non-200)

API_VERSION = "2010-04-01"
_FORM_TYPE = "application/x-www-form-urlencoded"
# Twilio reads the answer to an incoming message as TwiML (error 12300 otherwise); an empty
# <Response/> tells it herald sends no reply from the webhook.
EMPTY_TWIML = WebhookAnswer("text/xml", b'<?xml version="1.0" encoding="UTF-8"?><Response/>')


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and every (name, value) pair, sorted and de-duplicated."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    payload = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """The URL as given plus its twin with or without the scheme's default port: Twilio signs either."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if default is None or not host:
        return [url]
    if parts.port is None:
        return [url, urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}"))]
    if parts.port == default:
        return [url, urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))]
    return [url]


def is_signed(auth_token: str, url: str, params: Sequence[tuple[str, str]], given: str) -> bool:
    # As bytes: a forged header with non-ASCII characters would make compare_digest raise a TypeError.
    return any(
        hmac.compare_digest(signature(auth_token, u, params).encode(), given.encode()) for u in url_variants(url)
    )


class TwilioProvider:
    """Sends each message as its own Messages.json request; many in flight, never more than max_in_flight."""

    kind = "twilio"
    max_batch = 200

    def __init__(self, settings: TwilioSettings, *, now: Callable[[], datetime], public_url: str | None = None) -> None:
        self.name = settings.name
        self.settings = settings
        self._now = now
        self._token = settings.auth_token.get_secret_value()
        self._account = f"{settings.base_url.rstrip('/')}/{API_VERSION}/Accounts/{settings.account_sid}"
        self._host = urlsplit(settings.base_url).netloc or settings.base_url
        self._create_url = URL(f"{self._account}/Messages.json")  # parsed once, not on every request
        self._edge = HttpEdge(
            provider=settings.name,
            label=f"Twilio ({settings.name})",
            host=self._host,
            headers={
                "Authorization": aiohttp.encode_basic_auth(settings.account_sid, self._token),
                "Accept": "application/json",
                "User-Agent": "herald",
            },
            limit=settings.max_in_flight,
            timeout=settings.timeout,
        )
        self._timeout = self._edge.timeout
        self.status_callback = (
            f"{public_url.rstrip('/')}/webhooks/{settings.name}" if public_url and settings.status_callback else None
        )
        self.pushes_reports = self.status_callback is not None
        self.asks_one_by_one = True  # GET Messages/{sid}.json
        self._form_tails: dict[str | None, str] = {}

    def _form(self, message: OutboundMessage) -> dict[str, str]:
        form = {"To": message.to, "Body": message.body}
        if self.settings.messaging_service_sid is not None:
            form["MessagingServiceSid"] = self.settings.messaging_service_sid
        # A campaign's sender id (an alphanumeric name or a number) is the From; with a Messaging
        # Service it must be one of the service's senders, and Twilio uses it instead of choosing.
        sender = message.sender or self.settings.from_number
        if sender is not None:
            form["From"] = sender
        else:
            assert self.settings.messaging_service_sid is not None  # the settings want a number or a service
        if self.status_callback is not None:
            form["StatusCallback"] = self.status_callback
        return form

    def _encoded(self, message: OutboundMessage) -> bytes:
        """The form of `_form`, urlencoded; the fields messages of one sender share are encoded once."""
        tail = self._form_tails.get(message.sender)
        if tail is None:
            shared = self._form(OutboundMessage(0, "", "", sender=message.sender))
            del shared["To"], shared["Body"]
            tail = self._form_tails[message.sender] = "&" + urlencode(shared) if shared else ""
        return f"To={quote_plus(message.to)}&Body={quote_plus(message.body)}{tail}".encode()

    async def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        http, slots = await self._edge.session()
        return list(await asyncio.gather(*(self._send_one(http, slots, m) for m in messages)))

    async def _send_one(
        self, http: aiohttp.ClientSession, slots: asyncio.Semaphore, message: OutboundMessage
    ) -> SendResult:
        async with slots:
            try:
                # Encoded here rather than by aiohttp's FormData, and handed over as a ready payload: the
                # same bytes for a good deal less CPU per request (the send path's limit on a small host).
                form = aiohttp.BytesPayload(self._encoded(message), content_type=_FORM_TYPE)
                async with http.post(self._create_url, data=form, timeout=self._timeout) as response:
                    status, raw = response.status, await response.read()
                    wait = None if status < 300 else retry_after(response.headers.get("Retry-After"), self._now())
            except CAUGHT as exc:
                return self._refused(message, self._edge.failure(exc, "sending"))
        if 200 <= status < 300:
            body = _json(raw)
            sid = body.get("sid") if body is not None else None
            if isinstance(sid, str) and sid[:2] in ("SM", "MM"):
                return SendResult(message.message_id, external_id=sid)
            error = self._transport_error("MALFORMED", f"HTTP {status} without a Message resource")
            return self._refused(message, error)
        return self._refused(message, self._http_error(status, raw, wait))

    def _transport_error(self, code: str, text: str) -> ProviderError:
        # The outcome is unknown (Twilio may or may not have queued it): herald looks it up, then retries.
        return ProviderError(
            f"Twilio ({self.name}) did not confirm the message: {text}; herald will retry it later.",
            provider=self.name,
            outcome=ProviderOutcome.OUTCOME_UNKNOWN,
            code=code,
            text=text,
        )

    async def lookup(self, messages: Sequence[InDoubt]) -> dict[int, str]:
        """Messages Twilio already holds although herald never saw its answer.

        Twilio's Messages API takes no idempotency key, so herald records every attempt before
        sending and, for an attempt whose answer it never got, lists the recipient's newest
        messages. A listed message is the lost one when what Twilio never changes agrees (outbound,
        to that number, from that sender or Messaging Service, created since the attempt began) and
        its body is herald's text, as is or as Twilio alters it (twilio_lookup.py); a body that is
        clearly another text is never adopted, and no listed message is adopted for two of herald's.
        """
        http, slots = await self._edge.session()
        listed = await asyncio.gather(*(self._candidates(http, slots, m) for m in messages))
        return adopted(messages, listed)

    async def _candidates(
        self, http: aiohttp.ClientSession, slots: asyncio.Semaphore, message: InDoubt
    ) -> list[Candidate]:
        """The recipient's listed messages that may be this attempt: same number, sender and window."""
        params = {"To": message.to, "PageSize": "50"}
        sender = message.sender or self.settings.from_number
        if sender is not None:
            params["From"] = sender
        async with slots:
            try:
                async with http.get(f"{self._account}/Messages.json", params=params, timeout=self._timeout) as answer:
                    status, raw = answer.status, await answer.read()
            except CAUGHT as exc:
                raise self._edge.failure(exc, "listing messages") from None
        body = _json(raw)
        if status != 200 or body is None or not isinstance(body.get("messages"), list):
            raise self._transport_error("LOOKUP", f"listing messages answered HTTP {status}")
        earliest = message.since - timedelta(minutes=1)  # clocks differ a little
        service = None if sender is not None else self.settings.messaging_service_sid
        found = []
        for item in body["messages"]:
            if not isinstance(item, dict):
                continue
            created, sid = _rfc2822(item.get("date_created")), item.get("sid")
            if not isinstance(sid, str) or created is None or created < earliest or sid in message.taken:
                continue
            if item.get("to") != message.to or not str(item.get("direction", "outbound")).startswith("outbound"):
                continue
            if (sender is not None and item.get("from") != sender) or (
                service is not None and item.get("messaging_service_sid") != service
            ):
                continue
            text = item.get("body")
            found.append(Candidate(sid, created, likeness(text if isinstance(text, str) else None, message.body)))
        return found

    def _http_error(self, status: int, raw: bytes, wait: float | None = None) -> ProviderError:
        body = _json(raw) or {}
        raw_code = body.get("code")
        code = str(raw_code) if isinstance(raw_code, int | str) and raw_code != "" else f"HTTP{status}"
        known = ERRORS.get(code)
        text = _text(body) or (known.title if known else f"HTTP {status}")
        outcome = http_outcome(status)
        if known is not None and known.outcome is ProviderOutcome.THROTTLED:
            outcome = ProviderOutcome.THROTTLED
        elif outcome is ProviderOutcome.PERMANENT and known is not None:  # only a 4xx leaves it to the code
            outcome = known.outcome
        advice = ADVICE[outcome]
        if status == 401:
            advice = f"check the Account SID and Auth Token of provider {self.name!r}."
        return ProviderError(
            f"Twilio ({self.name}) refused the message: {code} {text.rstrip('.')}; {advice}",
            provider=self.name,
            outcome=outcome,
            code=code,
            text=text,
            retry_after=wait,
        )

    def _refused(self, message: OutboundMessage, error: ProviderError) -> SendResult:
        log.info(
            "twilio %s: message %s to %s not accepted (%s, %s)",
            self.name,
            message.message_id,
            mask(message.to),
            error.code,
            error.outcome,
        )
        return SendResult(message.message_id, error=error)

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """The reports Twilio has on these messages; ProviderError when it answered about none of them
        (down, or refusing herald), so they do not count as asked about."""
        http, slots = await self._edge.session()
        found = await asyncio.gather(*(self._fetch_one(http, slots, sid) for sid in external_ids))
        if external_ids and all(f is _UNANSWERED for f in found):
            raise ProviderError(
                f"Twilio answered none of {len(external_ids)} status lookups",
                provider=self.name,
                outcome=ProviderOutcome.UNREACHABLE,
                code="NO_ANSWER",
                text="no status lookup answered",
            )
        return [r for r in found if isinstance(r, DeliveryReport)]

    async def _fetch_one(
        self, http: aiohttp.ClientSession, slots: asyncio.Semaphore, sid: str
    ) -> DeliveryReport | object | None:
        """The message's report, None when nothing is new, _UNANSWERED when Twilio did not say."""
        async with slots:
            try:
                async with http.get(f"{self._account}/Messages/{sid}.json", timeout=self._timeout) as response:
                    status, raw = response.status, await response.read()
            except CAUGHT as exc:
                log.warning("twilio %s: fetching %s failed: %s", self.name, sid, self._edge.failure(exc).text)
                return _UNANSWERED
        body = _json(raw)
        if status == 404:  # an answer: Twilio has no such message (deleted, or another account's)
            log.warning("twilio %s: fetching %s: no such message (404)", self.name, sid)
            return None
        if status != 200 or body is None or not isinstance(body.get("status"), str):
            log.warning("twilio %s: fetching %s answered HTTP %s", self.name, sid, status)
            return _UNANSWERED
        at = _rfc2822(body.get("date_updated")) or self._now()
        return self.report(sid, body["status"], body.get("error_code"), body.get("error_message"), at)

    def report(self, sid: str, status: str, code: object, text: object, at: datetime) -> DeliveryReport | None:
        """A DeliveryReport from a Twilio status, or None when the status is nothing new (or unknown)."""
        mapped = STATUSES.get(status)
        if mapped is None:
            log.warning("twilio %s: unknown status %r for %s, ignored", self.name, status, sid)
            return None
        if mapped is MessageStatus.WAITING_FOR_DELIVERY_REPORT:
            return None
        if mapped is not MessageStatus.FAILED:
            return DeliveryReport(sid, mapped, at)
        error_code = str(code) if code not in (None, "") else None
        known = ERRORS.get(error_code or "")
        error_text = text if isinstance(text, str) and text else (known.title if known else f"Twilio status {status}")
        opted_out = known is not None and known.outcome is ProviderOutcome.OPTED_OUT
        transient = not opted_out and is_transient_failure(error_code)
        return DeliveryReport(sid, mapped, at, error_code, error_text, opted_out, transient)

    def parse_webhook(self, request: WebhookRequest) -> WebhookBatch:
        headers = {k.lower(): v for k, v in request.headers.items()}
        signed: list[tuple[str, str]] = []  # a GET (incoming-message webhook set so): Twilio signs the URL alone
        if request.method.upper() == "GET":
            params = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        elif request.method.upper() == "POST" and headers.get("content-type", "").lower().startswith(_FORM_TYPE):
            try:
                params = signed = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                raise WebhookError("The callback body is not UTF-8 form data.", status=400) from None
        else:
            raise WebhookError("Twilio calls are form-encoded POSTs or GETs with a query; this is neither.", status=400)
        given = headers.get("x-twilio-signature")
        if not given:
            raise WebhookError("The callback has no X-Twilio-Signature header; refused.", status=403)
        if "x-twilio-webhooks-signature-settings" in headers:
            raise WebhookError(
                "The callback is signed with a Webhooks-Rule key; herald checks Auth Token signatures only.",
                status=403,
            )
        if not is_signed(self._token, request.url, signed, given):
            raise WebhookError(
                f"The X-Twilio-Signature does not match {request.url} with {self.name}'s Auth Token; refused. "
                "Check that herald's public URL is exactly the one Twilio calls.",
                status=403,
            )
        fields = dict(params)
        if "MessageStatus" in fields:
            sid = fields.get("MessageSid")
            if not sid:
                raise WebhookError("The status callback has no MessageSid.", status=400)
            code = fields.get("ErrorCode")
            if problem := wire.text_problem(sid, 64):  # Twilio's SIDs are 34 characters
                raise WebhookError(f"The status callback's MessageSid {problem}.", status=400)
            if code and not (code.isascii() and code.isdigit() and len(code) <= 10):
                raise WebhookError(
                    f"The status callback's ErrorCode {code[:20]!r} is not a Twilio error code.", status=400
                )
            text = fields.get("ErrorMessage")
            report = self.report(sid, fields["MessageStatus"], code, text, self._now())
            return WebhookBatch(reports=[report] if report is not None else [])
        if "Body" in fields and "From" in fields:
            return WebhookBatch(inbound=[InboundMessage(fields["From"], fields["Body"], self._now())])
        raise WebhookError("The callback has neither MessageSid/MessageStatus nor Body/From.", status=400)

    def webhook_answer(self, batch: WebhookBatch) -> WebhookAnswer | None:
        """Empty TwiML for an incoming message; a status callback wants only the 200 (herald's JSON counts)."""
        return EMPTY_TWIML if batch.inbound else None

    async def check(self) -> ProviderCheck:
        http, _ = await self._edge.session()
        try:
            async with http.get(f"{self._account}.json", timeout=self._timeout) as response:
                status, raw = response.status, await response.read()
        except CAUGHT as exc:
            return ProviderCheck(False, f"unreachable {self._host}: {self._edge.failure(exc, 'checking').text}")
        if status == 401:
            return ProviderCheck(False, f"credentials refused by {self._host} for account {self.settings.account_sid}")
        if status != 200:
            return ProviderCheck(False, f"{self._host} answered HTTP {status} for account {self.settings.account_sid}")
        account_status = (_json(raw) or {}).get("status", "active")
        if account_status != "active":
            return ProviderCheck(False, f"Twilio account {self.settings.account_sid} is {account_status}")
        return ProviderCheck(True, f"Twilio account {self.settings.account_sid} reachable at {self._host}, active")

    async def close(self) -> None:
        await self._edge.close()


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _text(body: dict[str, Any]) -> str | None:
    """The error sentence of either of Twilio's error shapes (classic or RFC 9457 problem details)."""
    for key in ("message", "detail", "title"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _rfc2822(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # "-0000" means UTC of unknown origin


def build(
    settings: TwilioSettings,
    *,
    now: Callable[[], datetime],
    public_url: str | None,
    report_sink: ReportSink,
    inbound_sink: InboundSink | None = None,
) -> TwilioProvider:
    """Twilio pushes to herald's webhook URL, so the report sink (for adapters with their own link) is unused."""
    return TwilioProvider(settings, now=now, public_url=public_url)
