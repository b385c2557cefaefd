"""Campaigns: the campaign record, trigger types and the lifecycle with Fineract's codes, as a transition table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from herald.domain.business_rule import BusinessRule
from herald.domain.languages import Translations
from herald.domain.schedule import Recurrence
from herald.errors import LifecycleError, ValidationError

DEFAULT_LATE_MINUTES = 24 * 60
"""A Triggered campaign's "too late after" unless its creator chooses another: a day (domain/lateness.py)."""


class TriggerType(IntEnum):
    """Fineract's `campaign_trigger_type`: how a campaign finds its audience."""

    DIRECT = 1
    SCHEDULE = 2
    TRIGGERED = 3
    GATEWAY = 4  # herald's own code: the messages an unchanged Fineract hands to herald as its gateway

    @classmethod
    def parse(cls, value: str | int) -> TriggerType:
        """Accept the code (1), the name (direct) or Fineract's UI word (Scheduled)."""
        if isinstance(value, int) or str(value).strip().lstrip("-").isdigit():
            try:
                parsed = cls(int(value))
            except ValueError:
                pass
            else:
                if parsed is not cls.GATEWAY:
                    return parsed
        else:
            word = str(value).strip().upper()
            aliases = {"SCHEDULED": "SCHEDULE", "TRIGGER": "TRIGGERED"}
            name = aliases.get(word, word)
            if name in cls.__members__ and name != "GATEWAY":
                return cls[name]
        choices = ", ".join(f"{t.name.lower()} ({t.value})" for t in cls if t is not cls.GATEWAY)
        raise ValidationError(f"Unknown trigger type {value!r}; choose one of {choices}.", field="triggerType")


class CampaignStatus(IntEnum):
    """Fineract's `sms_campaign.status_enum`."""

    PENDING = 100
    ACTIVE = 300
    CLOSED = 600


class CampaignAction(StrEnum):
    ACTIVATE = "activate"
    CLOSE = "close"
    REACTIVATE = "reactivate"
    EDIT = "edit"
    DELETE = "delete"


LIFECYCLE: dict[tuple[CampaignStatus, CampaignAction], CampaignStatus] = {
    (CampaignStatus.PENDING, CampaignAction.ACTIVATE): CampaignStatus.ACTIVE,
    (CampaignStatus.ACTIVE, CampaignAction.CLOSE): CampaignStatus.CLOSED,
    (CampaignStatus.CLOSED, CampaignAction.REACTIVATE): CampaignStatus.ACTIVE,
    (CampaignStatus.PENDING, CampaignAction.EDIT): CampaignStatus.PENDING,
    (CampaignStatus.CLOSED, CampaignAction.EDIT): CampaignStatus.CLOSED,
    (CampaignStatus.PENDING, CampaignAction.DELETE): CampaignStatus.PENDING,
    (CampaignStatus.CLOSED, CampaignAction.DELETE): CampaignStatus.CLOSED,
}
"""(status, action) -> status after. Pairs not listed are refused."""

_REFUSALS = {
    CampaignAction.ACTIVATE: "only a Pending campaign can be activated; a Closed one is reactivated",
    CampaignAction.CLOSE: "only an Active campaign can be closed",
    CampaignAction.REACTIVATE: "only a Closed campaign can be reactivated",
    CampaignAction.EDIT: "an Active campaign cannot be edited; close it first",
    CampaignAction.DELETE: "an Active campaign cannot be deleted; close it first",
}


def apply(status: CampaignStatus, action: CampaignAction, *, name: str = "") -> CampaignStatus:
    """The status after `action`, or LifecycleError saying why the action is not allowed now."""
    try:
        return LIFECYCLE[(status, action)]
    except KeyError:
        what = f'Campaign "{name}"' if name else "The campaign"
        raise LifecycleError(
            f"{what} is {status.name.capitalize()}: cannot {action.value} it ({_REFUSALS[action]})."
        ) from None


@dataclass(frozen=True, kw_only=True)
class Campaign:
    """One campaign, the same record from the store to the API, the web form and the CLI.

    The first fields are what its creator chooses (an edit replaces them, except the tenant, which
    is fixed at creation); the rest are where the lifecycle has got to, kept by herald. Fields are
    passed by name only, so adding one (say a sender id) breaks no caller.
    """

    name: str
    tenant: str
    trigger_type: TriggerType
    rule: BusinessRule
    params: dict[str, int] = field(default_factory=dict)
    template: str  # the first template: what a client gets when nothing names another language
    provider: str
    template_language: str | None = None  # the first template's language; None: a campaign of one unnamed one
    translations: tuple[tuple[str, str], ...] = ()  # (language, text) of the other templates, in order
    fallback_provider: str | None = None
    sender_id: str | None = None  # the name or number messages come from; None: the provider's own (domain/senders.py)
    recurrence: Recurrence | None = None
    too_late_after: int | None = None  # Triggered: minutes an event may be old when first seen (domain/lateness.py)
    id: int = 0  # 0 until stored: a draft that a form previews
    status: CampaignStatus = CampaignStatus.PENDING
    next_trigger_at: datetime | None = None
    last_trigger_at: datetime | None = None
    activation_count: int = 0
    activated_at: datetime | None = None

    @property
    def templates(self) -> Translations:
        """Every template in order, the first (`template`) first: what a client's language chooses from."""
        return Translations(((self.template_language, self.template), *self.translations))

    @property
    def timezone(self) -> str | None:
        return self.recurrence.timezone if self.recurrence else None

    @property
    def late_limit(self) -> int:
        """Minutes an event may be old when herald first sees it; a Triggered campaign stored without one has a day."""
        return self.too_late_after or DEFAULT_LATE_MINUTES

    @property
    def last_run(self) -> datetime | None:
        """When it last ran (messages made, for a Scheduled one its occurrence), since its latest activation.

        (Re)activation sets a Scheduled campaign's `last_trigger_at` to the activation itself
        ("occurrences before now are not owed"), so only a later value is a run; a Direct one has
        run once its messages are made (nothing more is due). None: not run since it was activated.
        """
        last, since = self.last_trigger_at, self.activated_at
        if last is None or since is None:
            return None
        if self.trigger_type is TriggerType.DIRECT:
            return last if self.next_trigger_at is None else None
        return last if last > since else None


CHOSEN = (
    "name",
    "tenant",
    "trigger_type",
    "rule",
    "params",
    "template",
    "template_language",
    "translations",
    "provider",
    "fallback_provider",
    "sender_id",
    "recurrence",
    "too_late_after",
)
"""The fields a campaign's creator chooses; the others follow its lifecycle."""
