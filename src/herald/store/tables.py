"""herald's own tables: campaigns, their messages, office profiles and job runs (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back time-zone aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("herald stores aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only makes INTEGER PRIMARY KEY an auto-increment alias of the rowid, so big ids use a variant.
Id = BigInteger().with_variant(Integer(), "sqlite")

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("tenant", String(100), nullable=False, server_default="default"),
    Column("trigger_type", SmallInteger, nullable=False),
    Column("rule_id", Integer, nullable=False),
    Column("params", JSON, nullable=False),
    Column("template", Text, nullable=False),
    Column("template_language", String(8)),  # the first template's language; NULL: one template, unnamed
    Column("translations", JSON),  # [[language, text], ...]: the other languages' templates; NULL: none
    Column("provider", String(50), nullable=False),
    Column("fallback_provider", String(50)),
    Column("sender_id", String(24)),  # None: the provider's own sender (domain/senders.py)
    Column("status", SmallInteger, nullable=False),
    Column("recurrence", String(200)),
    Column("recurrence_start", DateTime),  # naive local wall-clock time in `timezone`
    Column("timezone", String(64)),
    Column("too_late_after", Integer),  # Triggered: minutes an event may be old when first seen; others NULL
    Column("next_trigger_at", UTCDateTime()),
    Column("last_trigger_at", UTCDateTime()),
    Column("activation_count", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("activated_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("campaign_id", Id, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("dedup_key", String(200), nullable=False),
    Column("client_id", BigInteger),
    Column("office_id", BigInteger),
    Column("mobile_no", String(50)),
    Column("body", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("reason", String(300)),
    Column("encoding", String(8), nullable=False),
    Column("segments", SmallInteger, nullable=False),
    Column("provider", String(50), nullable=False),
    Column("external_id", String(120)),
    # The campaign's sender id when first claimed ("": the provider's own): retries and lookups use the same.
    Column("sender_id", String(24)),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("not_before", UTCDateTime()),
    Column("in_flight_since", UTCDateTime()),  # set while an attempt is with the provider
    # When the first attempt whose outcome is unknown began: kept across reclaims until the provider
    # says whether it has the message, so every lookup covers every attempt since then.
    Column("in_doubt_since", UTCDateTime()),
    Column("claimed_by", String(64)),  # the worker holding the lease (workers.id)
    Column("error_code", String(40)),
    Column("error_text", String(300)),
    # The provider's report says the failure passes (handset off, network busy) and the re-send policy
    # has not settled it yet (made its copy, or found it never will): what the policy reads.
    Column("resend_pending", Boolean, nullable=False, server_default="0"),
    # One line per failed attempt that another followed (store/attempts.py); NULL for most messages.
    Column("earlier_attempts", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("delivered_at", UTCDateTime()),
    Column("report_lookup_at", UTCDateTime()),  # when herald last asked the provider about a report that never came
    # What the provider says it charged (Africa's Talking's send answer), in its currency; NULL: not said.
    Column("provider_cost", Numeric(14, 6)),
    Column("provider_cost_currency", String(3)),
    Column("language", String(8)),  # the template's language this client got (domain/languages.py); NULL: unnamed
    UniqueConstraint("campaign_id", "dedup_key"),
    Index(None, "status", "not_before"),
    Index(None, "status", "provider", "not_before"),  # the send job claims per provider
    Index(None, "campaign_id", "status"),
    Index(None, "external_id"),
)

# Only the failures the re-send policy has still to settle, by when they were reported: what it reads
# every report pass, without scanning every failed message of every campaign.
Index(
    "ix_messages_resend_pending",
    messages.c.updated_at,
    sqlite_where=messages.c.resend_pending == true(),
    postgresql_where=messages.c.resend_pending == true(),
)

office_profiles = Table(
    "office_profiles",
    metadata,
    Column("tenant", String(100), primary_key=True, server_default="default"),
    Column("office_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("region", String(2), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("language", String(8)),  # the office's default language for messages; NULL: the campaign's first
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job", String(80), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("counts", JSON),
    Column("error", Text),
    Index(None, "job", "started_at"),
)

corebank_outages = Table(
    "corebank_outages",
    metadata,
    Column("tenant", String(100), primary_key=True),
    Column("job", String(80), nullable=False),  # the job that met it, by slug
    Column("reason", Text, nullable=False),  # the one-line sentence (never a password: URLs are shown hidden)
    Column("since", UTCDateTime(), nullable=False),
    Column("checked_at", UTCDateTime(), nullable=False),  # the latest time a worker found it still broken
)
"""The tenants whose core bank a worker cannot read, while that lasts (the jobs page shows them)."""

installation = Table(
    "installation",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
)
"""One row: this installation's id, made by migration 0008, carried in the references sent to providers."""

parked_reports = Table(
    "parked_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("provider", String(50), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("error_code", String(40)),
    Column("error_text", String(300)),
    Column("opted_out", Boolean, nullable=False, server_default="0"),
    Column("transient", Boolean, nullable=False, server_default="0"),
    Column("received_at", UTCDateTime(), nullable=False),
    Index(None, "provider", "external_id"),
)
"""Reports that arrived before herald recorded the provider's id (the send call had not returned yet)."""

message_parts = Table(
    "message_parts",
    metadata,
    Column("provider", String(50), primary_key=True),
    Column("part_id", String(120), primary_key=True),  # the provider's id of this part
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(120), nullable=False),  # the message's id for this attempt (the first part's)
    Column("status", SmallInteger),  # what this part's last report said; NULL: nothing yet
    Index(None, "message_id"),
)
"""Every part of a long message sent as several parts with their own ids (SMPP), so each part's
report finds its message after a restart and the message's status combines them (domain/multipart.py)."""

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("source", String(50), nullable=False),
    Column("detail", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
)
"""Numbers that asked not to be messaged (STOP replies, provider unsubscribes, manual entries)."""

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime(), nullable=False),
)
"""People who use herald's UI and API; the role decides what they may do (admin, campaign_manager, viewer)."""

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
)
"""Tokens scripts send as `Authorization: Bearer`; only their SHA-256 is kept, the token is shown once."""

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index(None, "user_id"),
)
"""UI sessions: the cookie holds a random id, the table its SHA-256, so a copy of the database opens no session."""

workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("kind", String(20), nullable=False),  # worker, serve, cli
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("stopping", Boolean, nullable=False, server_default="0"),
    Index(None, "heartbeat_at"),
)
"""Processes that send: each heartbeats; a silent one's claims are settled by the others, and the live ones
share every provider's rate limit between them."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(100)),  # the username (None for a failed login with an unknown name)
    Column("via", String(20), nullable=False),  # ui, api, cli, system
    Column("action", String(60), nullable=False),  # login, login.failed, campaign.activate, user.create ...
    Column("target", String(200)),  # what it was done to: a campaign name, a username, a masked number
    Column("address", String(64)),  # the client's address, for logins
    Column("tenant", String(100)),
    Column("detail", JSON),
    Index(None, "at"),
    Index(None, "action", "at"),
    Index(None, "actor", "at"),
)
"""Who did what and when; herald only ever appends to it."""

hook_arrivals = Table(
    "hook_arrivals",
    metadata,
    Column("tenant", String(100), primary_key=True),
    Column("entity", String(60), primary_key=True),  # Fineract's entityName: LOAN, CLIENT, SAVINGSACCOUNT
    Column("action", String(60), primary_key=True),  # actionName: REPAYMENT, APPROVE, ACTIVATE ...
    Column("last_at", UTCDateTime(), nullable=False),
    Column("last_succeeded", Boolean, nullable=False),  # False: the command failed in Fineract, nothing to send
    Column("received", BigInteger, nullable=False, server_default="0"),
)
"""When Fineract's hook last called for each event: whether Fineract calls at all, seen on a triggered campaign."""

event_arrivals = Table(
    "event_arrivals",
    metadata,
    Column("tenant", String(100), primary_key=True),
    Column("entity", String(60), primary_key=True),  # the hook entity the external event stands for (kinds.KINDS)
    Column("action", String(60), primary_key=True),
    Column("last_at", UTCDateTime(), nullable=False),
    Column("last_succeeded", Boolean, nullable=False),  # always True: Fineract publishes only what it committed
    Column("received", BigInteger, nullable=False, server_default="0"),
)
"""When Fineract's external events (from the broker) last came for each kind of event, like hook_arrivals."""

external_events = Table(
    "external_events",
    metadata,
    Column("event_key", String(120), primary_key=True),  # idempotencyKey, plus "#<item id>" inside a bulk event
    Column("tenant", String(100), nullable=False),
    Column("type", String(100), nullable=False),
    Column("event_id", BigInteger, nullable=False),  # m_external_event.id in Fineract
    Column("created_at", UTCDateTime(), nullable=True),  # when Fineract raised it
    Column("received_at", UTCDateTime(), nullable=False),
    Column("messages", Integer, nullable=False),  # how many messages it created
    Index("ix_external_events_received_at", "received_at"),  # the Events page's chart: acted on per hour
)
"""Every external event herald has acted on: delivery is at least once, and a key seen twice is acted on once."""

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ref", String(200), nullable=False, unique=True),  # the event key, else the broker's message id
    Column("received_at", UTCDateTime(), nullable=False),
    Column("tenant", String(100), nullable=True),
    Column("type", String(100), nullable=True),
    Column("broker_message_id", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),  # the whole message as the broker gave it
    # an id is never given again, on SQLite too: "retry 7" or "discard 7" typed from an old listing must not
    # reach a letter that came after the 7th was discarded
    sqlite_autoincrement=True,
)
"""External events herald could not read or act on, kept with the reason for an admin; never silently dropped."""

catchup_marks = Table(
    "catchup_marks",
    metadata,
    Column("campaign_id", Id, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("last_id", BigInteger),  # id sources: the highest event id caught up (NULL: not known yet)
    Column("last_date", Date),  # date sources: the first business date not yet fully caught up
    Column("set_at", UTCDateTime(), nullable=False),  # the (re)activation that set the mark to "now"
    Column("ran_at", UTCDateTime()),  # the catch-up job's last run for this campaign
    Column("events", BigInteger, nullable=False, server_default="0"),  # events fed through since set_at
    Column("created", BigInteger, nullable=False, server_default="0"),  # messages those created
    Column("too_late", BigInteger, nullable=False, server_default="0"),  # of which stored INVALID as too late
)
"""Per Triggered campaign, how far the catch-up job has read Fineract for events its hooks may have missed."""

__all__ = [
    "api_tokens",
    "audit_log",
    "campaigns",
    "catchup_marks",
    "corebank_outages",
    "dead_letters",
    "event_arrivals",
    "external_events",
    "hook_arrivals",
    "installation",
    "job_runs",
    "messages",
    "metadata",
    "office_profiles",
    "opt_outs",
    "parked_reports",
    "sessions",
    "users",
    "workers",
]
