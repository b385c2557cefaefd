"""The Africa's Talking adapter: bulk sends of one text to many numbers, pushed delivery reports, opt-outs, replies.

One form POST to `/version1/messaging` carries every recipient of one identical text from one
sender (comma-separated `to`), and AT answers per recipient with a `statusCode`, its `messageId` and
its `cost`. AT has no per-message lookup, so a send whose answer was lost cannot be asked about: its
messages are FAILED as OUTCOME_UNKNOWN, never sent again blind (README, Exactly once). AT signs no
callback: herald takes its delivery reports, opt-out notifications and inbound messages only with
the secret herald puts in the callback URLs (`?secret=...`, or the `X-Herald-Webhook-Secret` header).
AT's callback URLs are set in its dashboard, not per request (README, Africa's Talking specifics).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from herald.domain import wire
from herald.domain.message import MessageStatus
from herald.domain.phones import mask
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.errors import ProviderError, ProviderOutcome, WebhookError
from herald.providers.africastalking_codes import (
    FAILURE_REASONS,
    REPORT_STATUSES,
    TRANSIENT_STATUSES,
    cost,
    http_outcome,
    recipient_name,
    recipient_outcome,
)
from herald.providers.base import (
    InboundSink,
    OutboundMessage,
    ProviderCheck,
    ReportSink,
    SendResult,
    WebhookBatch,
    WebhookRequest,
    retry_after,
)
from herald.providers.config import AfricasTalkingSettings
from herald.providers.http_edge import CAUGHT, HttpEdge, check_webhook_secret

log = logging.getLogger(__name__)

SEND_PATH = "/version1/messaging"
USER_PATH = "/version1/user"
MAX_FIELD = 2000  # longest form value herald reads from a callback (AT's ids and reasons are short)
MAX_BODY = 64 * 1024  # one report, reply or opt-out is a few hundred bytes; an inbound text at most a few kB


def _recipient_key(number: str) -> str:
    return number.strip().lstrip("+")


class AfricasTalkingProvider:
    """Africa's Talking over HTTP with an API key; one request per text, many recipients each."""

    kind = "africastalking"
    pushes_reports = True  # AT has no report pull: every report comes to the callback URL
    asks_one_by_one = True  # nothing to ask: no reason to look its waiting messages up at every run

    def __init__(self, settings: AfricasTalkingSettings, *, now: Callable[[], datetime], public_url: str | None):
        self.name = settings.name
        self.settings = settings
        self.max_batch = settings.batch_size
        self._now = now
        self._base = settings.api_url
        self._edge = HttpEdge(
            provider=settings.name,
            label=f"Africa's Talking ({settings.name})",
            host=self._base,
            headers={"apiKey": settings.api_key.get_secret_value(), "Accept": "application/json"},
            limit=settings.max_in_flight,
            timeout=settings.timeout,
        )
        # AT's callback URLs are set in its dashboard (README), so `public_url` is not sent anywhere.
        if settings.webhook_secret is None:
            log.warning("provider %s has no webhook_secret: herald refuses its callbacks, so no reports", self.name)

    def in_doubt_reason(self) -> str:
        return "Africa's Talking cannot be asked whether it sent a message, and herald never sends one twice blind"

    # -- sending ----------------------------------------------------------------------------------

    def _error(self, message: str, code: str, text: str, outcome: ProviderOutcome) -> ProviderError:
        return ProviderError(message, provider=self.name, outcome=outcome, code=code, text=text)

    async def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """One request per (sender, text) with at most `batch_size` distinct numbers; results in order."""
        groups: list[list[int]] = []
        open_groups: dict[tuple[str | None, str], tuple[list[int], set[str]]] = {}
        for index, m in enumerate(messages):
            key = (m.sender or self.settings.sender, m.body)
            number = _recipient_key(m.to)
            group, numbers = open_groups.get(key) or ([], set())
            if not group or len(group) >= self.max_batch or number in numbers:
                # A number twice in one request would leave two answers to tell apart by order alone.
                group, numbers = [], set()
                groups.append(group)
                open_groups[key] = (group, numbers)
            group.append(index)
            numbers.add(number)
        answers = await asyncio.gather(*(self._send_group([messages[i] for i in g]) for g in groups))
        results: list[SendResult | None] = [None] * len(messages)
        for group, answer in zip(groups, answers, strict=True):
            for index, result in zip(group, answer, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    def form(self, messages: Sequence[OutboundMessage]) -> dict[str, str]:
        """The form of one bulk send; every message has the same text and sender (as the SDK sends it)."""
        first = messages[0]
        data = {
            "username": self.settings.username,
            "to": ",".join(m.to for m in messages),
            "message": first.body,
            "bulkSMSMode": "1",
        }
        sender = first.sender or self.settings.sender
        if sender:
            data["from"] = sender  # a short code or an alphanumeric sender id registered with AT
        return data

    async def _send_group(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        try:
            status, answer = await self._call("POST", SEND_PATH, data=self.form(messages))
            if status not in (200, 201):
                raise self._http_error(status, answer)
            recipients = _recipients(answer)
            if recipients is None:
                raise self._error(
                    "Africa's Talking answered without a recipient list; it may have sent them.",
                    "MALFORMED",
                    "the send answer has no SMSMessageData.Recipients",
                    ProviderOutcome.OUTCOME_UNKNOWN,
                )
        except ProviderError as exc:
            return [SendResult(m.message_id, error=exc) for m in messages]
        by_number: dict[str, dict[str, Any]] = {}
        for entry in recipients:
            number = entry.get("number")
            if isinstance(number, str):
                by_number.setdefault(_recipient_key(number), entry)
        return [self._result(m, by_number.get(_recipient_key(m.to))) for m in messages]

    def _result(self, message: OutboundMessage, entry: dict[str, Any] | None) -> SendResult:
        if entry is None:
            # AT lists every recipient it read, refused ones too: one missing may have gone or not.
            error = self._error(
                "Africa's Talking's answer did not mention this number; it may have sent it.",
                "MISSING",
                "the number is not in the answer",
                ProviderOutcome.OUTCOME_UNKNOWN,
            )
            return SendResult(message.message_id, error=error)
        code = _int(entry.get("statusCode"))
        outcome = recipient_outcome(code)
        external_id = entry.get("messageId")
        charged = cost(entry.get("cost"))
        if outcome is None:
            if not isinstance(external_id, str) or not external_id or external_id == "None" or len(external_id) > 120:
                error = self._error(
                    f"Africa's Talking accepted the message ({code}) without a usable messageId.",
                    "NO_ID",
                    "accepted without a message id",
                    ProviderOutcome.OUTCOME_UNKNOWN,
                )
                return SendResult(message.message_id, error=error)
            amount, currency = charged if charged is not None else (None, None)
            return SendResult(message.message_id, external_id=external_id, cost=amount, cost_currency=currency)
        name = recipient_name(code, entry.get("status") if isinstance(entry.get("status"), str) else None)
        log.info("africastalking %s refused %s: %s (%s)", self.name, mask(message.to), name, code)
        error = self._error(f"Africa's Talking refused the message: {name} ({code}).", str(code), name, outcome)
        return SendResult(message.message_id, error=error)

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """(HTTP status, parsed JSON or the text); foreign transport errors become a ProviderError at the edge."""
        http, _ = await self._edge.session()
        try:
            async with http.request(method, self._base + path, timeout=self._edge.timeout, **kwargs) as response:
                raw = await response.read()
                if http_outcome(response.status) is ProviderOutcome.THROTTLED:
                    raise ProviderError(
                        f"Africa's Talking asks herald to slow down (429); herald pauses provider {self.name!r}.",
                        provider=self.name,
                        outcome=ProviderOutcome.THROTTLED,
                        code="HTTP429",
                        text="too many requests",
                        retry_after=retry_after(response.headers.get("Retry-After"), self._now()),
                    )
                try:
                    return response.status, json.loads(raw) if raw else None
                except ValueError:
                    return response.status, raw[:200].decode("utf-8", "replace")
        except CAUGHT as exc:
            raise self._edge.failure(exc) from None

    def _http_error(self, status: int, body: Any) -> ProviderError:
        text = body.strip() if isinstance(body, str) and body.strip() else f"HTTP {status}"
        text = " ".join(text.split())[:200]
        outcome = http_outcome(status)
        if outcome is ProviderOutcome.MISCONFIGURED:
            return self._error(
                f"Africa's Talking refused the credentials of provider {self.name!r} ({status}: {text}); "
                "check username and api_key (a sandbox key works only with username `sandbox`).",
                f"HTTP{status}",
                text,
                outcome,
            )
        verdict = {
            ProviderOutcome.TRANSIENT: "herald will retry",
            ProviderOutcome.OUTCOME_UNKNOWN: "AT may have sent them and cannot be asked: not sent again",
        }.get(outcome, "the request will not be retried")
        return self._error(f"Africa's Talking answered {status} ({text}); {verdict}.", f"HTTP{status}", text, outcome)

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """AT has no report pull: its reports come only to the callback URL."""
        return []

    # -- callbacks --------------------------------------------------------------------------------

    def parse_webhook(self, request: WebhookRequest) -> WebhookBatch:
        self._authenticate(request)
        if len(request.body) > MAX_BODY:
            raise WebhookError(f"The body is {len(request.body)} bytes; AT's callbacks are smaller.", status=413)
        form = _form(request)
        if "id" in form and "status" in form:
            return WebhookBatch(reports=[self._report(form)])
        if "from" in form and "text" in form:
            sender = form["from"]
            at = self._now()
            return WebhookBatch(inbound=[InboundMessage(sender, form["text"], at)])
        if "phoneNumber" in form and "senderId" in form:
            log.info("africastalking %s: %s opted out of %s", self.name, mask(form["phoneNumber"]), form["senderId"])
            return WebhookBatch(optouts=[form["phoneNumber"]])
        raise WebhookError(
            "The form is neither a delivery report (id, status), an inbound message (from, text) nor an "
            "opt-out notification (senderId, phoneNumber).",
            status=400,
        )

    def _report(self, form: dict[str, str]) -> DeliveryReport:
        external_id, status = form["id"], form["status"]
        if problem := wire.text_problem(external_id, 120):
            raise WebhookError(f"The report's `id` {problem}.", status=400)
        outcome = REPORT_STATUSES.get(status)
        if outcome is None:
            raise WebhookError(f"The report's status {status[:40]!r} is not one Africa's Talking sends.", status=400)
        at = self._now()
        if outcome is not MessageStatus.FAILED:
            return DeliveryReport(external_id, outcome, at)
        reason = form.get("failureReason") or ""
        meaning, opted_out, passes = FAILURE_REASONS.get(reason, ("", False, False))
        code = reason or status
        text = f"{status}: {meaning or reason or 'no reason given'}"
        if form.get("networkCode"):
            text += f" (network {form['networkCode'][:10]})"
        transient = not opted_out and (passes or (status in TRANSIENT_STATUSES and not reason))
        return DeliveryReport(external_id, MessageStatus.FAILED, at, code[:40], text, opted_out, transient)

    def _authenticate(self, request: WebhookRequest) -> None:
        check_webhook_secret(self.name, self.settings.webhook_secret, request, "callbacks")

    # -- the rest ---------------------------------------------------------------------------------

    async def check(self) -> ProviderCheck:
        try:
            status, answer = await self._call("GET", USER_PATH, params={"username": self.settings.username})
        except ProviderError as exc:
            return ProviderCheck(False, f"Africa's Talking at {self._base} is unreachable ({exc.text})")
        user = answer.get("UserData") if isinstance(answer, dict) else None
        if status == 200 and isinstance(user, dict):
            return ProviderCheck(True, f"credentials accepted; balance {user.get('balance')}")
        if status in (401, 403):
            return ProviderCheck(
                False,
                f"Africa's Talking refused the credentials ({status}); check username "
                f"{self.settings.username!r} and api_key (sandbox keys work only with username `sandbox`)",
            )
        return ProviderCheck(False, f"Africa's Talking answered {status}: {str(answer)[:120]}")

    async def close(self) -> None:
        await self._edge.close()


def _recipients(answer: Any) -> list[dict[str, Any]] | None:
    data = answer.get("SMSMessageData") if isinstance(answer, dict) else None
    recipients = data.get("Recipients") if isinstance(data, dict) else None
    if not isinstance(recipients, list):
        return None
    return [r for r in recipients if isinstance(r, dict)]


def _form(request: WebhookRequest) -> dict[str, str]:
    """The callback's form fields (the last value of each), refused whole if it is not a readable form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise WebhookError(f"Africa's Talking posts forms; this body is {kind[:60]}.", status=400)
    try:
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(request.body))
    except (UnicodeDecodeError, ValueError):
        raise WebhookError("The body is not a URL-encoded form.", status=400) from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if len(value) > MAX_FIELD or len(key) > 100:
            raise WebhookError(f"The form field {key[:40]!r} is longer than herald reads.", status=400)
        if wire.text_problem(value):
            raise WebhookError(f"The form field {key[:40]!r} holds characters herald cannot store.", status=400)
        form[key] = value
    return form


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return -1


def build(
    settings: AfricasTalkingSettings,
    *,
    now: Callable[[], datetime],
    public_url: str | None,
    report_sink: ReportSink,
    inbound_sink: InboundSink | None = None,
) -> AfricasTalkingProvider:
    """AT's reports come by callback, never on our own connection: `report_sink` is unused."""
    return AfricasTalkingProvider(settings, now=now, public_url=public_url)


__all__ = ["AfricasTalkingProvider", "build"]
