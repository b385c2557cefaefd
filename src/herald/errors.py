"""herald's one exception tree: every error a user can meet, with what happened and what to do.

    HeraldError                     base; `str(e)` is the sentence shown to the user
    ├── ConfigurationError          settings or environment are wrong (bad URL, unknown provider ...)
    ├── ValidationError             a request is refused; `field` names the offending input
    │   ├── TemplateError           a message template that does not parse or uses unknown variables
    │   ├── RecurrenceError         an RRULE / start date / time zone that does not parse
    │   ├── UnknownRuleError        a business rule id or name herald does not know
    │   └── ParameterError          a missing or ill-typed business-rule parameter
    ├── AuthenticationError         no credentials, or credentials herald does not accept (401)
    │   └── LoginThrottledError     too many failed logins: try again after `retry_after` seconds (429)
    ├── PermissionDeniedError       the user's role does not allow the action (403)
    ├── LifecycleError              an action the campaign's status does not allow (activate twice ...)
    ├── NotFoundError               a campaign, message or rule that does not exist
    ├── CoreBankError               the core-banking database cannot be read
    ├── ProviderError               a provider refused or failed; `outcome` (ProviderOutcome) says what next
    ├── WebhookError                a provider's or Fineract's call to herald is malformed or not authentic
    └── UndecodableEvent            a Fineract external event herald cannot read (kept aside with this reason)

Foreign exceptions (SQLAlchemy, HTTP clients, phonenumbers) are converted at the adapter edge; a
user never sees a stack trace.
"""

from __future__ import annotations

from enum import StrEnum


class HeraldError(Exception):
    """Base of every error herald raises on purpose; the message says what to do."""

    def __init__(self, message: str, *, hint: str | None = None, page_hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.page_hint = page_hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def on_page(self) -> str:
        """The sentence for a UI page, whose reader may have no terminal: the hint in the UI's words.

        `hint` is for the command line and the API (it may name a `herald ...` command); `page_hint`,
        when given, replaces it on pages. A hint that names a command and has no page wording is
        left off: the page still says what is wrong, and never sends an officer to a terminal.
        """
        hint = self.page_hint if self.page_hint is not None else self.hint
        if not hint or (self.page_hint is None and "`herald " in hint):
            return self.message
        return f"{self.message} {hint}"


class ConfigurationError(HeraldError):
    """Settings, environment or files herald needs are missing or wrong."""


class ValidationError(HeraldError):
    """A request herald refuses; `field` names the input that is wrong."""

    def __init__(
        self, message: str, *, field: str | None = None, hint: str | None = None, page_hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint, page_hint=page_hint)
        self.field = field


class TemplateError(ValidationError):
    """A message template that does not parse or names a variable the rule does not provide."""


class RecurrenceError(ValidationError):
    """A recurrence rule, start date or time zone that does not parse."""


class UnknownRuleError(ValidationError):
    """A business rule that herald does not know (or that a trigger type cannot use)."""


class ParameterError(ValidationError):
    """A business-rule parameter that is missing or has the wrong type."""


class AuthenticationError(HeraldError):
    """No credentials, or credentials herald does not accept (answered 401)."""


class LoginThrottledError(AuthenticationError):
    """Too many failed logins for this username or address: refused, unchecked, for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(
            f"Too many failed logins. Try again in {retry_after} {unit}.",
            hint="If you forgot your password, ask an admin to reset it.",
        )
        self.retry_after = retry_after


class PermissionDeniedError(HeraldError):
    """Authenticated, but the user's role does not allow the action (answered 403)."""


class LifecycleError(HeraldError):
    """An action that the campaign's current status does not allow."""


class NotFoundError(HeraldError):
    """A campaign, message or other object that does not exist."""


class CoreBankError(HeraldError):
    """The core-banking (Fineract) database cannot be reached or read."""


class ProviderOutcome(StrEnum):
    """What a provider's refusal or failure means for the message; one per ProviderError.

    Acceptance is not among them: an accepted message carries the provider's id, not an error.
    """

    PERMANENT = "permanent"  # refused for good (invalid number, blocked content): fail it, retrying changes nothing
    OPTED_OUT = "opted out"  # refused because the recipient unsubscribed: fail it, add the number to the opt-out list
    TRANSIENT = "transient"  # the provider answered with a passing failure (5xx, queue full): retry, here or elsewhere
    UNREACHABLE = "unreachable"  # no connection was made, nothing reached the provider: retry, here or elsewhere
    # The request may have reached the provider (a timeout, a dropped connection, an unreadable 2xx):
    # before trying again herald asks the provider whether it already has the message, and never
    # hands it to another provider blind.
    OUTCOME_UNKNOWN = "outcome unknown"
    # The provider asks herald to slow down (HTTP 429, SMPP ESME_RTHROTTLED / ESME_RMSGQFUL): no
    # message is at fault, so no attempt is used up; the provider gets a pause (`retry_after`) instead.
    THROTTLED = "throttled"
    # The provider refuses herald itself (credentials, account, a bad base URL): no message is at
    # fault, so none is failed for it; herald holds them, or hands them to a fallback, until fixed.
    MISCONFIGURED = "misconfigured"


class ProviderError(HeraldError):
    """A provider refused or failed a request.

    `outcome` says what that means for the message (retry, fail, ask first, pause, hold); `code` and
    `text` are the provider's own; `retry_after` is the pause a THROTTLED provider asked for, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        outcome: ProviderOutcome,
        code: str | None = None,
        text: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.outcome = outcome
        self.code = code
        self.text = text
        self.retry_after = retry_after  # seconds the provider asked for (Retry-After), if it said


class WebhookError(HeraldError):
    """A webhook call herald refuses: 403 when it is not authentic, 400 when it is malformed.

    The caller (a provider) gets the status and the sentence; nothing is stored from it.
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class UndecodableEvent(HeraldError):
    """A Fineract external event that herald cannot read: not Avro single-object encoding, an unknown schema ...

    The message is the reason kept with the event in the dead-letter list; the event itself is not lost.
    """
