"""Setting up Fineract's external events for herald: which types to enable, how, and Fineract's properties.

`herald fineract events` prints it all; with `--apply` it enables, through Fineract's API, the event
types herald's triggered rules listen to that are not enabled yet (`PUT /externalevents/configuration`
names only those: it never disables a type, and leaves every other type as it was).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from herald.config import Settings
from herald.domain.campaign import Campaign, CampaignStatus, TriggerType
from herald.errors import ConfigurationError, HeraldError
from herald.events.address import BrokerAddress
from herald.events.kinds import KINDS
from herald.rules.catalog import rules_for_event
from herald.services import campaigns as campaign_service
from herald.services.fineract_api import FineractRefused, FineractUnreachable, call_fineract

PATH = "externalevents/configuration"
OPENWIRE_PORT = 61616
"""ActiveMQ's OpenWire port, the one Fineract's JMS producer connects to (herald reads the same broker over STOMP)."""
READ_PERMISSION = "READ_EXTERNAL_EVENT_CONFIGURATION"
UPDATE_PERMISSION = "UPDATE_EXTERNAL_EVENT_CONFIGURATION"


@dataclass(frozen=True)
class EventToEnable:
    """One external event type herald listens to: the rules it feeds and the active campaigns that hear it."""

    type: str
    entity: str
    action: str
    rules: tuple[str, ...]  # "179 Loan Repayment"
    campaigns: tuple[str, ...] | None  # the tenant's active Triggered campaigns it reaches; None: not known


def listening_campaigns(*, store: Engine, tenant: str) -> list[Campaign]:
    """The tenant's active Triggered campaigns: those an event reaches now."""
    return [
        c
        for c in campaign_service.list_all(store=store)
        if c.tenant == tenant and c.status is CampaignStatus.ACTIVE and c.trigger_type is TriggerType.TRIGGERED
    ]


def events_to_enable(active: Sequence[Campaign] | None) -> list[EventToEnable]:
    """Every type of herald.events.kinds.KINDS, with its rules and (when `active` is known) its listeners."""
    found = []
    for kind in KINDS.values():
        rules = rules_for_event(kind.entity, kind.action)
        ids = {r.id for r in rules}
        listeners = None if active is None else tuple(c.name for c in active if c.rule.id in ids)
        found.append(
            EventToEnable(kind.type, kind.entity, kind.action, tuple(f"{r.id} {r.name}" for r in rules), listeners)
        )
    return found


def configuration_body(types: Iterable[str]) -> dict[str, Any]:
    """The body of `PUT /externalevents/configuration` that enables these types and touches no other."""
    return {"externalEventConfigurations": {t: True for t in types}}


@dataclass(frozen=True)
class FineractSetting:
    """One of Fineract's settings: its environment variable, the property it stands for, the value, why."""

    variable: str
    property: str
    value: str
    note: str = ""


def fineract_settings(broker: BrokerAddress | None) -> list[FineractSetting]:
    """What Fineract needs set (environment or application properties) to publish to herald's broker."""
    host = broker.host_in_url if broker else "<broker host>"
    name = broker.name if broker else "<queue name>"
    kind = broker.kind.upper() if broker else "QUEUE"
    return [
        FineractSetting("FINERACT_EXTERNAL_EVENTS_ENABLED", "fineract.events.external.enabled", "true"),
        FineractSetting(
            "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_ENABLED", "fineract.events.external.producer.jms.enabled", "true"
        ),
        FineractSetting(
            "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_BROKER_URL",
            "fineract.events.external.producer.jms.broker-url",
            f"tcp://{host}:{OPENWIRE_PORT}",
            f"the broker's OpenWire port ({OPENWIRE_PORT}), not its STOMP port: Fineract speaks JMS, herald STOMP",
        ),
        FineractSetting(
            f"FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_{kind}_NAME",
            f"fineract.events.external.producer.jms.event-{kind.lower()}-name",
            name,
            f"the {kind.lower()} of HERALD_EVENTS_URL",
        ),
    ]


@dataclass(frozen=True)
class FineractApi:
    """Where and as whom herald calls Fineract's API (HERALD_FINERACT_API_URL, _USERNAME, _PASSWORD, _VERIFY_TLS)."""

    url: str
    tenant: str
    username: str
    password: str
    verify_tls: bool = True

    def __repr__(self) -> str:  # the password stays out of any log or traceback
        return f"FineractApi(url={self.url!r}, tenant={self.tenant!r}, username={self.username!r})"

    @classmethod
    def from_settings(cls, settings: Settings, tenant: str) -> FineractApi:
        password = settings.fineract_password.get_secret_value() if settings.fineract_password else ""
        if not settings.fineract_api_url or not password:
            raise ConfigurationError(
                "--apply calls Fineract's API: set HERALD_FINERACT_API_URL (https://host:8443/fineract-provider/api/v1)"
                " and HERALD_FINERACT_PASSWORD (of HERALD_FINERACT_USERNAME, default mifos), or PUT the body above"
                " to /externalevents/configuration yourself."
            )
        return cls(
            settings.fineract_api_url, tenant, settings.fineract_username, password, settings.fineract_verify_tls
        )

    def call(self, method: str = "GET", body: Any = None) -> Any:
        doing = "read" if method == "GET" else "change"
        try:
            return call_fineract(
                self.url,
                PATH,
                tenant=self.tenant,
                username=self.username,
                password=self.password,
                method=method,
                body=body,
                verify_tls=self.verify_tls,
            )
        except FineractUnreachable as exc:
            raise HeraldError(exc.message, hint=exc.hint or "Check HERALD_FINERACT_API_URL.") from None
        except FineractRefused as exc:
            raise self._refused(exc, doing) from None

    def _refused(self, exc: FineractRefused, doing: str) -> HeraldError:
        at = f"at {exc.endpoint}"
        if exc.status == 401:
            return ConfigurationError(
                f"Fineract refused herald's login (401) {at}: check HERALD_FINERACT_USERNAME ({self.username})"
                " and HERALD_FINERACT_PASSWORD."
            )
        if exc.status == 403:
            permission = READ_PERMISSION if doing == "read" else UPDATE_PERMISSION
            return ConfigurationError(
                f"Fineract's user {self.username} may not {doing} the external event types (403): give its role"
                f" the permission {permission}, or set HERALD_FINERACT_USERNAME to a user who has it."
            )
        if exc.status == 404 and doing == "read":
            return ConfigurationError(
                f"Fineract has no external events API {at} (404): it takes Fineract 1.7 or later, and"
                " HERALD_FINERACT_API_URL must be its API base, like https://host:8443/fineract-provider/api/v1."
            )
        return HeraldError(f"Fineract refused to {doing} the external event types ({exc.status}) {at}: {exc.detail}")


def read_configuration(api: FineractApi) -> dict[str, bool]:
    """Every external event type Fineract knows and whether it is enabled (`GET /externalevents/configuration`)."""
    answer = api.call("GET")
    items = answer.get("externalEventConfiguration") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("type"), str) for i in items):
        raise HeraldError(
            "Fineract's answer to GET /externalevents/configuration is not the list of event types herald expects"
            ' ({"externalEventConfiguration": [{"type": ..., "enabled": ...}]}): is HERALD_FINERACT_API_URL'
            " Fineract's API base?"
        )
    return {i["type"]: i.get("enabled") is True for i in items}


@dataclass(frozen=True)
class Applied:
    """What `--apply` found and did."""

    already: tuple[str, ...]  # enabled before herald asked
    enabled: tuple[str, ...]  # enabled by this PUT
    unknown: tuple[str, ...]  # types this Fineract does not have (an older version): not asked for
    now: dict[str, bool]  # herald's types as Fineract lists them after the PUT


def enable_events(api: FineractApi, types: Sequence[str]) -> Applied:
    """Enable those of `types` Fineract has and has not enabled; the others are left as they are."""
    before = read_configuration(api)
    unknown = tuple(t for t in types if t not in before)
    already = tuple(t for t in types if before.get(t))
    missing = [t for t in types if t in before and not before[t]]
    if missing:
        api.call("PUT", configuration_body(missing))
    after = read_configuration(api)
    return Applied(already, tuple(missing), unknown, {t: after[t] for t in types if t in after})
