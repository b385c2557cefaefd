"""The Infobip adapter: batched sends over /sms/3/messages (or legacy /sms/2/text/advanced), pulled and pushed reports.

Every destination carries herald's reference as Infobip's `messageId`, so the external id is known
before the request returns and an early report is never orphaned. Infobip signs no webhook: herald
appends its shared secret to the notify URL it hands Infobip (`?secret=...`) and also accepts it in
the `X-Herald-Webhook-Secret` header (for account-level subscriptions whose headers you choose).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

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
    WebhookBatch,
    WebhookRequest,
    retry_after,
)
from herald.providers.config import InfobipSettings
from herald.providers.http_edge import CAUGHT, HttpEdge, check_webhook_secret
from herald.providers.infobip_codes import (
    REJECTION_OUTCOMES,
    ErrorClass,
    error_class,
    http_outcome,
    is_transient_failure,
    status_outcome,
)

log = logging.getLogger(__name__)

PULL_LIMIT = 1000  # Infobip's maximum page of /sms/3/reports
MAX_PULL_PAGES = 100  # one fetch drains at most 100,000 reports; the next run takes the rest
LOGS_IDS = 100  # messageIds per GET /sms/3/logs: the query string stays short, the answer one page


def _at(report: dict[str, Any], now: Callable[[], datetime]) -> datetime:
    for key in ("doneAt", "sentAt"):
        try:
            at = datetime.fromisoformat(str(report[key]))
        except (KeyError, ValueError):
            continue
        return at if at.tzinfo else at.replace(tzinfo=UTC)  # Infobip's times carry an offset; never store naive
    return now()


def parse_report(report: dict[str, Any], now: Callable[[], datetime]) -> DeliveryReport | None:
    """One v3 DeliveryReport or legacy SmsReport as herald's DeliveryReport; None while still pending."""
    external_id = report.get("messageId")
    status = report.get("status")
    if not isinstance(external_id, str) or not isinstance(status, dict):
        return None
    outcome, status_class = status_outcome(status)
    if outcome == "accepted":
        return None
    at = _at(report, now)
    if outcome is not MessageStatus.FAILED:
        return DeliveryReport(external_id, outcome, at)
    error: dict[str, Any] = report["error"] if isinstance(report.get("error"), dict) else {}
    cls = error_class(error)
    if cls is ErrorClass.NONE:  # the status alone says why (REJECTED_DND, EXPIRED_EXPIRED ...)
        code, text = str(status.get("name") or status.get("id")), str(status.get("description") or status.get("name"))
    else:
        code = str(error.get("id"))
        text = f"{error.get('name', 'ERROR')}: {error.get('description') or error.get('name', '')}"
    opted_out = ErrorClass.OPT_OUT in (cls, status_class)
    transient = not opted_out and is_transient_failure(status, error)
    return DeliveryReport(external_id, MessageStatus.FAILED, at, code, text, opted_out, transient)


class InfobipProvider:
    """Infobip over HTTP with an API key; many messages per request."""

    kind = "infobip"

    def __init__(self, settings: InfobipSettings, *, now: Callable[[], datetime], public_url: str | None) -> None:
        self.name = settings.name
        self.settings = settings
        self.max_batch = settings.batch_size
        self._now = now
        self._base = settings.base_url.rstrip("/")
        self._edge = HttpEdge(
            provider=settings.name,
            label=f"Infobip ({settings.name})",
            host=self._base,
            headers={
                "Authorization": f"App {settings.api_key.get_secret_value()}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            limit=settings.max_in_flight,
            timeout=settings.timeout,
        )
        self._notify_url = self._notify(public_url)
        self.pushes_reports = self._notify_url is not None
        self.asks_one_by_one = False  # a pull drains the account's report queue, whoever is waiting
        self.report_lookup_after = settings.report_lookup_after

    def _notify(self, public_url: str | None) -> str | None:
        if not (public_url and self.settings.notify):
            return None
        if self.settings.webhook_secret is None:
            # herald refuses unauthenticated pushes, so asking for them would only lose reports.
            log.warning("provider %s has no webhook_secret: delivery reports will be pulled, not pushed", self.name)
            return None
        secret = quote(self.settings.webhook_secret.get_secret_value(), safe="")
        return f"{public_url.rstrip('/')}/webhooks/{self.name}?secret={secret}"

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """(HTTP status, parsed JSON or None); foreign transport errors become a ProviderError at the edge."""
        http, _ = await self._edge.session()
        try:
            async with http.request(method, self._base + path, timeout=self._edge.timeout, **kwargs) as response:
                raw = await response.read()
                if http_outcome(response.status) is ProviderOutcome.THROTTLED:
                    wait = retry_after(response.headers.get("Retry-After"), self._now())
                    raise ProviderError(
                        f"Infobip asks herald to slow down (429); herald pauses provider {self.name!r}.",
                        provider=self.name,
                        outcome=ProviderOutcome.THROTTLED,
                        code="HTTP429",
                        text="too many requests",
                        retry_after=wait,
                    )
                try:
                    return response.status, json.loads(raw) if raw else None
                except ValueError:
                    return response.status, None
        except CAUGHT as exc:
            raise self._edge.failure(exc) from None

    def _error(self, message: str, code: str, text: str, outcome: ProviderOutcome) -> ProviderError:
        return ProviderError(message, provider=self.name, outcome=outcome, code=code, text=text)

    def _http_error(self, status: int, body: Any) -> ProviderError:
        code, text = _envelope(status, body)
        outcome = http_outcome(status)
        if outcome is ProviderOutcome.MISCONFIGURED:
            return self._error(
                f"Infobip refused the credentials of provider {self.name!r} ({status}); check api_key and its scopes.",
                code,
                text,
                outcome,
            )
        verdict = {
            ProviderOutcome.TRANSIENT: "herald will retry",
            ProviderOutcome.OUTCOME_UNKNOWN: "Infobip may have taken it: herald looks in its logs before sending again",
        }.get(outcome, "the request will not be retried")
        return self._error(f"Infobip answered {status} ({text}); {verdict}.", code, text, outcome)

    async def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        chunks = [messages[i : i + self.max_batch] for i in range(0, len(messages), self.max_batch)]
        answers = await asyncio.gather(*(self._send_chunk(chunk) for chunk in chunks))
        return [result for answer in answers for result in answer]

    async def _send_chunk(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        path, body = self._request(messages)
        try:
            status, answer = await self._call("POST", path, json=body)
            if status != 200:
                raise self._http_error(status, answer)
            entries = answer.get("messages") if isinstance(answer, dict) else None
            if not isinstance(entries, list):
                raise self._error(
                    "Infobip's answer was not a message list; herald will retry.",
                    "MALFORMED",
                    "malformed",
                    ProviderOutcome.OUTCOME_UNKNOWN,
                )
        except ProviderError as exc:
            return [SendResult(m.message_id, error=exc) for m in messages]
        by_id = {e.get("messageId"): e for e in entries if isinstance(e, dict)}
        return [self._result(m, by_id.get(m.reference)) for m in messages]

    def _result(self, message: OutboundMessage, entry: dict[str, Any] | None) -> SendResult:
        status = entry.get("status") if entry is not None else None
        if not isinstance(status, dict):
            error = self._error(
                "Infobip's answer did not mention this message; herald will retry.",
                "MISSING",
                "no status",
                ProviderOutcome.TRANSIENT,
            )
            return SendResult(message.message_id, error=error)
        outcome, cls = status_outcome(status)
        if outcome != MessageStatus.FAILED:
            return SendResult(message.message_id, external_id=message.reference)
        name = str(status.get("name") or status.get("groupName") or "REJECTED")
        text = str(status.get("description") or name)
        log.info("infobip %s rejected %s: %s", self.name, mask(message.to), name)
        error = self._error(f"Infobip rejected the message: {text}.", name, text, REJECTION_OUTCOMES[cls])
        return SendResult(message.message_id, error=error)

    def _request(self, messages: Sequence[OutboundMessage]) -> tuple[str, dict[str, Any]]:
        """The JSON of one send: identical texts from one sender share one entry with several destinations."""
        grouped: dict[tuple[str, str], list[dict[str, str]]] = {}
        for m in messages:
            # A campaign's sender id, else the provider's; a number goes as international digits without "+".
            sender = (m.sender or self.settings.sender).lstrip("+")
            grouped.setdefault((sender, m.body), []).append({"to": m.to.lstrip("+"), "messageId": m.reference})
        url = self._notify_url
        # Text goes as text: Infobip picks GSM-7 or UCS-2 from it, and no transliteration alters it.
        entries: list[dict[str, Any]]
        if self.settings.api == "v2":
            notify = {"notifyUrl": url, "notifyContentType": "application/json"} if url else {}
            entries = [{"from": f, "destinations": d, "text": t, **notify} for (f, t), d in grouped.items()]
            return "/sms/2/text/advanced", {"messages": entries}
        hooks: dict[str, Any] = (
            {"webhooks": {"delivery": {"url": url}, "contentType": "application/json"}} if url else {}
        )
        entries = [{"sender": f, "destinations": d, "content": {"text": t}, **hooks} for (f, t), d in grouped.items()]
        return "/sms/3/messages", {"messages": entries}

    async def lookup(self, messages: Sequence[InDoubt]) -> dict[int, str]:
        """Messages Infobip already holds although herald never saw its answer.

        herald sends its own reference as Infobip's messageId, so the logs endpoint answers by id. A
        log to another number is not ours: an old-form reference may be another installation's.
        """
        wanted = {ref: m for m in messages for ref in m.references}  # every attempt since the doubt
        return {wanted[ref].message_id: ref for ref, _ in await self._logs({r: m.to for r, m in wanted.items()})}

    async def lookup_reports(self, wanted: Mapping[str, str]) -> list[DeliveryReport]:
        """Final reports, from the message logs, for messages whose report never came (external id -> number).

        Infobip hands each report out once: one in a pull answer that never arrived is nowhere else but
        in the logs (kept 48 hours). Logs still pending give nothing."""
        return [r for _, log in await self._logs(wanted) if (r := parse_report(log, self._now)) is not None]

    async def _logs(self, wanted: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
        """(messageId, log) from GET /sms/3/logs for the ids asked (id -> the number it went to)."""
        found: list[tuple[str, dict[str, Any]]] = []
        refs = list(wanted)
        for start in range(0, len(refs), LOGS_IDS):
            params = [("messageId", r) for r in refs[start : start + LOGS_IDS]] + [("limit", str(PULL_LIMIT))]
            status, answer = await self._call("GET", "/sms/3/logs", params=params)
            if status != 200:
                raise self._http_error(status, answer)
            results = answer.get("results") if isinstance(answer, dict) else None
            for item in results if isinstance(results, list) else []:
                ref = item.get("messageId") if isinstance(item, dict) else None
                if not isinstance(ref, str) or ref not in wanted:
                    continue
                destination = item.get("destination")
                if isinstance(destination, str) and destination.lstrip("+") != wanted[ref].lstrip("+"):
                    log.warning("infobip %s: the log of %s is to another number; not ours, ignored", self.name, ref)
                    continue
                found.append((ref, item))
        return found

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """Drain Infobip's report queue: it hands each report out once and not by id, so every report
        it has is returned, asked for or not (herald parks those it does not know yet)."""
        path = "/sms/1/reports" if self.settings.api == "v2" else "/sms/3/reports"
        reports: list[DeliveryReport] = []
        for page in range(MAX_PULL_PAGES):
            try:
                status, answer = await self._call("GET", path, params={"limit": str(PULL_LIMIT)})
                if status != 200:
                    raise self._http_error(status, answer)
            except ProviderError:
                if page == 0:
                    raise
                # Reports already drained exist nowhere else now: hand them over, the rest waits.
                log.warning("infobip %s: report pull stopped after %d pages", self.name, page)
                break
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, list):
                break
            reports += [r for r in (parse_report(x, self._now) for x in results if isinstance(x, dict)) if r]
            if len(results) < PULL_LIMIT:
                break
        return reports

    def parse_webhook(self, request: WebhookRequest) -> WebhookBatch:
        self._authenticate(request)
        try:
            payload = wire.loads(request.body)
        except wire.Unreadable as exc:
            raise WebhookError(f"{exc} Infobip pushes JSON reports.", status=400) from None
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise WebhookError("The body has no `results` list of reports or messages.", status=400)
        batch = WebhookBatch()
        for index, item in enumerate(results):
            # One unreadable result must not cost the others: Infobip would retry the whole call forever.
            problem = self._result_problem(item)
            if problem:
                batch.skipped.append(f"result {index} {problem}")
            elif "status" in item:
                report = parse_report(item, self._now)
                if report is not None:
                    batch.reports.append(report)
            else:
                text = item.get("text") or item.get("cleanText") or ""
                at = _at({"doneAt": item.get("receivedAt")}, self._now)
                sender = str(item["from"])  # international digits without "+": make it E.164 for the opt-out list
                batch.inbound.append(InboundMessage("+" + sender if sender.isdigit() else sender, str(text), at))
        if results and len(batch.skipped) == len(results):  # nothing at all was readable: say so
            raise WebhookError(f"No result can be read: {'; '.join(batch.skipped[:3])}.", status=400)
        return batch

    @staticmethod
    def _result_problem(item: object) -> str | None:
        """Why one pushed result cannot be read (None when it is a report or an inbound message herald can keep)."""
        if not isinstance(item, dict):
            return "is not a JSON object"
        if "status" in item:
            if not isinstance(item.get("status"), dict):
                return "has a `status` that is not an object"
            message_id = item.get("messageId")
            if not isinstance(message_id, str) or not message_id:
                return "has no text `messageId`"
            problem = wire.text_problem(message_id, 120)  # messages.external_id
            return f"has a `messageId` that {problem}" if problem else None
        if "from" in item:
            return None
        return "is neither a delivery report nor an inbound message"

    def _authenticate(self, request: WebhookRequest) -> None:
        check_webhook_secret(self.name, self.settings.webhook_secret, request, "pushes")

    async def check(self) -> ProviderCheck:
        try:
            status, answer = await self._call("GET", "/account/1/balance")
        except ProviderError:
            return ProviderCheck(False, f"Infobip at {self._base} is unreachable")
        if status == 200 and isinstance(answer, dict):
            return ProviderCheck(
                True, f"credentials accepted; balance {answer.get('balance')} {answer.get('currency')}"
            )
        if status in (401, 403):
            return ProviderCheck(False, f"Infobip refused the credentials ({status}); check api_key")
        return ProviderCheck(False, f"Infobip answered {status}: {_envelope(status, answer)[1]}")

    async def close(self) -> None:
        await self._edge.close()


def _envelope(status: int, body: Any) -> tuple[str, str]:
    """(code, text) from a v3 `ApiError` or a legacy `requestError.serviceException`."""
    if isinstance(body, dict):
        if "errorCode" in body:
            return str(body["errorCode"]), str(body.get("description") or body["errorCode"])
        legacy = (
            body.get("requestError", {}).get("serviceException") if isinstance(body.get("requestError"), dict) else None
        )
        if isinstance(legacy, dict):
            return str(legacy.get("messageId", status)), str(legacy.get("text") or legacy.get("messageId"))
    return f"HTTP{status}", f"HTTP {status}"


def build(
    settings: InfobipSettings,
    *,
    now: Callable[[], datetime],
    public_url: str | None,
    report_sink: ReportSink,
    inbound_sink: InboundSink | None = None,
) -> InfobipProvider:
    """Infobip reports come by pull or webhook, never on our own connection: `report_sink` is unused."""
    return InfobipProvider(settings, now=now, public_url=public_url)
