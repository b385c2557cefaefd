"""A message in the client's language, end to end: Fineract says it, herald picks the template, the fake Twilio
receives it.

Each client's language comes, in this order, from Fineract (a code value of the client, or a data
table the institution made, holding a code value or text), then from the client's office's default
language, then from the campaign's first template. It runs on SQLite with herald's Fineract
tables, on PostgreSQL with Fineract's real-type tables (tests/fineract_ddl) and a data table
created as Fineract creates them (quoted names: `Language_cd_lang` keeps its capitals), herald's
own store on the same engine, and on MariaDB, Fineract's usual database, with its real-type tables
and a backquoted data table, read by a read-only user (herald's store on SQLite there). What counts
is what the fake Twilio received, per number.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.corebank.schema import metadata
from herald.errors import ConfigurationError, TemplateError, ValidationError
from herald.fakes.twilio import ACCOUNT_SID, FakeTwilio
from herald.server import create_app
from herald.services import campaigns, offices
from herald.services.campaigns import CampaignRequest
from herald.services.preview import preview
from herald.services.stats import Pricing, statistics
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns as campaign_table
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests import mariadb, postgres
from tests.campaign_parts import activating, previewing, validating
from tests.e2e.conftest import HOOK_SECRET, START
from tests.fineract_builder import STAMP, FineractBuilder
from tests.integration.test_rules_fineract_schema import Bank, load_ddl

TOKEN = "twilio-token-lang-1"
WORDS = {"Kiswahili": "sw", "Luganda": "lg", "Kinyarwanda": "rw", "English": "en"}
TEMPLATES = {
    "en": "Dear {{firstName}}, your instalment is due.",
    "sw": "Mpendwa {{firstName}}, malipo yako yanadaiwa.",
    "rw": "Muraho {{firstName}}, igihe cyo kwishyura kirageze.",
}
_databases = itertools.count()

# Office 2 defaults to Swahili, office 3 to Kinyarwanda, the head office (1) names no language.
# first name, office, what Fineract says, the language the client must get
CLIENTS = (
    ("Amina", 1, "Kiswahili", "sw"),  # the client's own
    ("Brian", 3, "Luganda", "rw"),  # no Luganda template: the office's default, counted as a fallback
    ("Claude", 3, None, "rw"),  # nothing said: the office's default
    ("Dora", 1, None, "en"),  # nothing anywhere: the first template
    ("Eric", 2, "Kinyarwanda", "rw"),  # the client's own beats the office's
    ("Faith", 2, "English", "en"),  # ... also when it is the first template's
)


@dataclass
class Core:
    """A Fineract database a test writes to as Fineract would, and the URL herald reads it by."""

    writer: sa.Engine
    url: str
    store_url: str
    real_schema: bool  # Fineract's own DDL (tests/fineract_ddl), not herald's SQLite stand-in
    mysql: bool = False

    def put(self, table: str, **values: Any) -> None:
        quote = self.writer.dialect.identifier_preparer.quote
        names = ", ".join(quote(k) for k in values)
        binds = ", ".join(f":{k}" for k in values)
        with self.writer.begin() as conn:
            conn.execute(sa.text(f"INSERT INTO {quote(table)} ({names}) VALUES ({binds})"), values)

    def execute(self, sql: str, **binds: Any) -> None:
        with self.writer.begin() as conn:
            conn.execute(sa.text(sql), binds)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def core(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fineract.sqlite'}"
        writer = sa.create_engine(url)
        metadata.create_all(writer)
        found = Core(writer, url, f"sqlite:///{tmp_path / 'herald.sqlite'}", real_schema=False)
        found.put("m_office", id=1, hierarchy=".", name="Head Office", opening_date="2020-01-01")
        found.put("m_office", id=2, parent_id=1, hierarchy=".2.", name="Nairobi", opening_date="2020-01-01")
        found.put("m_office", id=3, parent_id=1, hierarchy=".3.", name="Kigali", opening_date="2020-01-01")
    elif request.param == "mariadb":  # Fineract's usual database; herald reads it as a read-only user
        server = request.getfixturevalue("mariadb_server")
        name = f"lang_fineract{next(_databases)}"
        writer = sa.create_engine(mariadb.create_database(server, name))
        load_ddl(writer, "mariadb")
        Bank(writer, writer)
        url = mariadb.create_reader(server, name)
        found = Core(writer, url, f"sqlite:///{tmp_path / 'herald.sqlite'}", real_schema=True, mysql=True)
    else:
        server = request.getfixturevalue("pg_server")
        n = next(_databases)
        url = postgres.create_database(server, f"lang_fineract{n}")
        writer = sa.create_engine(url)
        load_ddl(writer, "postgresql")
        Bank(writer, writer)  # offices 1-4, the app user, currencies, products, code 13 ...
        found = Core(writer, url, postgres.create_database(server, f"lang_herald{n}"), real_schema=True)
        store = make_engine(found.store_url)
        upgrade(store)  # `herald db upgrade`, as an operator runs it on a server database
        store.dispose()
    try:
        yield found
    finally:
        writer.dispose()


def _clients(core: Core) -> dict[str, int]:
    ids = {}
    for n, (first, office, _, _) in enumerate(CLIENTS, start=1):
        ids[first] = cid = 100 + n
        mobile = f"+2547120003{n:02d}"
        if core.real_schema:  # every NOT NULL column of Fineract's m_client
            core.execute(
                "INSERT INTO m_client (id, account_no, status_enum, office_id, firstname, lastname, display_name,"
                " mobile_no, legal_form_enum, is_staff, submittedon_date, activation_date, office_joining_date,"
                " created_on_utc, last_modified_on_utc) VALUES (:id, :acc, 300, :office, :first, 'Client',"
                " :display, :mobile, 1, false, DATE '2021-12-01', DATE '2022-01-01', DATE '2022-01-01', now(), now())",
                id=cid, acc=f"{cid:09d}", office=office, first=first, display=f"{first} Client", mobile=mobile,
            )  # fmt: skip
        else:
            core.put(
                "m_client", id=cid, account_no=f"{cid:09d}", status_enum=300, office_id=office, firstname=first,
                lastname="Client", display_name=f"{first} Client", mobile_no=mobile, activation_date="2022-01-01",
                created_on_utc=STAMP, last_modified_on_utc=STAMP,
            )  # fmt: skip
    return ids


def _codes(core: Core, code_id: int, name: str) -> dict[str, int]:
    """A Fineract code with the words of WORDS as its values: value -> m_code_value.id."""
    core.put("m_code", id=code_id, code_name=name)
    ids = {}
    for n, word in enumerate(WORDS, start=1):
        core.put("m_code_value", id=code_id * 100 + n, code_id=code_id, code_value=word, order_position=n)
        ids[word] = code_id * 100 + n
    return ids


def _data_table(core: Core) -> None:
    """`client_language` as Fineract's POST /datatables makes it for m_client (one row per client): its
    `client_id` key referencing m_client, a dropdown column `Language_cd_lang` on code `lang`, a text column."""
    if core.mysql:  # as Fineract makes it on MySQL/MariaDB: backquoted names, InnoDB foreign keys
        core.execute(
            "CREATE TABLE `client_language` (`client_id` BIGINT NOT NULL, `Language_cd_lang` INT NULL,"
            " `Spoken` VARCHAR(50) NULL, `created_at` DATETIME NULL, `updated_at` DATETIME NULL,"
            " PRIMARY KEY (`client_id`),"
            " CONSTRAINT `fk_client_language_client_id` FOREIGN KEY (`client_id`) REFERENCES `m_client` (`id`),"
            " CONSTRAINT `fk_Language_cd_lang` FOREIGN KEY (`Language_cd_lang`) REFERENCES `m_code_value` (`id`))"
        )
    elif core.real_schema:
        core.execute(
            'CREATE TABLE "client_language" ("client_id" BIGINT NOT NULL, "Language_cd_lang" INTEGER NULL,'
            ' "Spoken" VARCHAR(50) NULL, "created_at" TIMESTAMP NULL, "updated_at" TIMESTAMP NULL,'
            ' PRIMARY KEY ("client_id"),'
            ' CONSTRAINT "fk_client_language_client_id" FOREIGN KEY ("client_id") REFERENCES "m_client" ("id"),'
            ' CONSTRAINT "fk_Language_cd_lang" FOREIGN KEY ("Language_cd_lang") REFERENCES "m_code_value" ("id"))'
        )
    else:
        core.execute(
            'CREATE TABLE "client_language" ("client_id" BIGINT NOT NULL PRIMARY KEY REFERENCES m_client (id),'
            ' "Language_cd_lang" INTEGER NULL REFERENCES m_code_value (id), "Spoken" VARCHAR(50) NULL)'
        )


def _fineract_says(core: Core, source: str, ids: dict[str, int]) -> tuple[str, dict[str, str] | None]:
    """Write each client's language where `source` keeps it; the setting's column and value map."""
    said = {first: word for first, _, word, _ in CLIENTS if word}
    if source == "classification":
        values = _codes(core, 17, "ClientClassification")
        for first, word in said.items():
            core.execute("UPDATE m_client SET client_classification_cv_id = :v WHERE id = :id",
                         v=values[word], id=ids[first])  # fmt: skip
        return "m_client.client_classification_cv_id", WORDS
    _data_table(core)
    if source == "datatable_code":
        values = _codes(core, 50, "lang")
        for first, word in said.items():
            core.put("client_language", client_id=ids[first], Language_cd_lang=values[word])
        core.put("client_language", client_id=ids["Dora"], Language_cd_lang=None)  # a row with nothing chosen
        return "client_language.Language_cd_lang", WORDS
    for first, word in said.items():  # text: a code as it is, or a word the map knows
        core.put("client_language", client_id=ids[first], Spoken="sw" if word == "Kiswahili" else word)
    return "client_language.Spoken", {k: v for k, v in WORDS.items() if k != "Kiswahili"}


@pytest.mark.parametrize("source", ["classification", "datatable_code", "datatable_text"])
def test_each_client_receives_the_template_of_their_own_language_then_their_offices_then_the_first(
    core: Core, source: str, tmp_path: Path
) -> None:
    ids = _clients(core)
    column, words = _fineract_says(core, source, ids)

    async def main() -> None:
        async with FakeTwilio(auth_token=TOKEN) as twilio:
            provider = {
                "kind": "twilio", "name": "twilio", "account_sid": ACCOUNT_SID, "auth_token": TOKEN,
                "from_number": "+15005550006", "base_url": twilio.url, "timeout": 2,
            }  # fmt: skip
            settings = Settings(
                home=tmp_path,
                database_url=core.store_url,
                corebank_url=core.url,
                providers=json.dumps([provider]),
                client_language=column,
                client_language_values=json.dumps(words),
            )
            herald = Herald.build(settings, ManualClock(START))
            try:
                parts = {"store": herald.store, "corebanks": herald.corebanks, "offices": herald.offices}
                offices.set_profile(2, "KE", "Africa/Nairobi", "Nairobi", language="sw", **parts)
                offices.set_profile(3, "RW", "Africa/Kigali", "Kigali", language="rw", **parts)
                request = {
                    "campaignName": "Due", "triggerType": "direct", "runReportId": 166, "paramValue": {"officeId": 1},
                    "message": TEMPLATES["en"], "language": "en", "providerId": "twilio",
                    "translations": [{"language": code, "message": TEMPLATES[code]} for code in ("sw", "rw")],
                }  # fmt: skip
                made = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
                seen = preview(made, **previewing(herald))
                split = {s.language: (s.recipients, s.sendable, s.segments) for s in seen.by_language}
                assert split == {"en": (2, 2, 2), "sw": (1, 1, 1), "rw": (3, 3, 3)}
                assert seen.fallbacks == {"lg": 1}
                assert {s.language for s in seen.samples} == {"en", "sw", "rw"}
                campaigns.activate(made.id, **activating(herald))
                outbound_for(herald).run_due()
                await sender_for(herald).run()
                with herald.store.connect() as conn:
                    stored = dict(conn.execute(sa.select(messages.c.client_id, messages.c.language)).all())
                stats = statistics(
                    store=herald.store, clock=herald.clock, timezone=settings.timezone,
                    pricing=Pricing.of(settings), campaign_id=made.id,
                )  # fmt: skip
            finally:
                await herald.close_providers()
                herald.close()
        received = {m["to"]: m["body"] for m in twilio.messages.values()}
        expected = {
            f"+2547120003{n:02d}": TEMPLATES[language].replace("{{firstName}}", first)
            for n, (first, _, _, language) in enumerate(CLIENTS, start=1)
        }
        assert received == expected
        assert stored == {ids[first]: language for first, _, _, language in CLIENTS}
        assert {code: c.total for code, c in stats.per_language.items()} == {"en": 2, "rw": 3, "sw": 1}
        assert stats.language_segments == {"en": 2, "rw": 3, "sw": 1}  # each accepted by the fake: billed

    asyncio.run(main())


def test_a_triggered_campaign_greets_each_activated_client_in_their_language(tmp_path: Path) -> None:
    """Fineract's hooks for two client activations, in one batch each: the client's classification says
    Kinyarwanda for one; the other has none and their office's default is Swahili."""
    fineract = FineractBuilder(f"sqlite:///{tmp_path / 'fineract.sqlite'}")
    nairobi = fineract.office("Nairobi")
    with fineract.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO m_code (id, code_name) VALUES (17, 'ClientClassification')"))
        conn.execute(sa.text("INSERT INTO m_code_value (id, code_id, code_value) VALUES (1701, 17, 'Kinyarwanda')"))
    eric = fineract.client("Eric", "+254712000401", office_id=nairobi, client_classification_cv_id=1701)
    amina = fineract.client("Amina", "+254712000402", office_id=nairobi)
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        fineract_hook_secret=HOOK_SECRET,
        simulator_failure_ratio=0.0,
        client_language="m_client.client_classification_cv_id",
        client_language_values=json.dumps(WORDS),
    )
    herald = Herald.build(settings, ManualClock(START))
    parts = {"store": herald.store, "corebanks": herald.corebanks, "offices": herald.offices}
    offices.set_profile(nairobi, "KE", "Africa/Nairobi", "Nairobi", language="sw", **parts)
    request = {
        "campaignName": "Welcome", "triggerType": "triggered", "runReportId": 183,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
        "message": "Welcome {{firstName}}", "language": "en",
        "translations": [{"language": "sw", "message": "Karibu {{firstName}}"},
                         {"language": "rw", "message": "Murakaza neza {{firstName}}"}],
    }  # fmt: skip
    made = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    campaigns.activate(made.id, **activating(herald))
    try:
        with TestClient(create_app(herald)) as client:
            for who in (eric, amina):
                body = {
                    "entityName": "CLIENT", "actionName": "ACTIVATE", "officeId": nairobi, "clientId": who,
                    "response": {"clientId": who, "resourceId": who}, "timestamp": "2026-11-20T04:00:00.000Z",
                }  # fmt: skip
                headers = {"X-Fineract-Entity": "CLIENT", "X-Fineract-Action": "ACTIVATE",
                           "Fineract-Platform-TenantId": "default"}  # fmt: skip
                answer = client.post(f"/fineract/hooks/{HOOK_SECRET}/", json=body, headers=headers)
                assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
        with herald.store.connect() as conn:
            made_rows = conn.execute(sa.select(messages.c.client_id, messages.c.body, messages.c.language)).all()
    finally:
        herald.close()
    assert sorted(made_rows) == sorted([(eric, "Murakaza neza Eric", "rw"), (amina, "Karibu Amina", "sw")])


BASE: dict[str, Any] = {
    "campaignName": "Due", "triggerType": "direct", "runReportId": 166, "paramValue": {"officeId": "1"},
    "message": "Dear {{firstName}}", "language": "en",
    "translations": [{"language": "sw", "message": "Mpendwa {{firstName}}"}],
}  # fmt: skip


def _stored(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(campaign_table).order_by(campaign_table.c.id))]


@pytest.mark.parametrize(
    ("changes", "error", "text"),
    [
        ({"translations": [{"language": "sw", "message": "Mpendwa {{lastName}}"}]}, TemplateError,
         r"Swahili \(sw\) template lacks {{firstName}} and adds {{lastName}}"),
        ({"translations": [{"language": "kiswahili", "message": "Mpendwa {{firstName}}"}]}, ValidationError,
         "'kiswahili' is not a language code"),
        ({"language": "english"}, ValidationError, "'english' is not a language code"),
        ({"language": None}, ValidationError, "names its language"),
        ({"translations": [{"language": "EN", "message": "Hi {{firstName}}"}]}, ValidationError,
         "two templates in English"),
    ],
)  # fmt: skip
def test_templates_that_differ_between_languages_or_name_no_language_are_refused_and_nothing_changes(
    herald: Herald, fineract: FineractBuilder, changes: dict[str, Any], error: type[Exception], text: str
) -> None:
    kept = campaigns.create(CampaignRequest.model_validate(BASE), **validating(herald))
    before = _stored(herald)
    with pytest.raises(error, match=text):
        other = CampaignRequest.model_validate({**BASE, "campaignName": "Other", **changes})
        campaigns.create(other, **validating(herald))
    with pytest.raises(error, match=text):
        campaigns.edit(kept.id, CampaignRequest.model_validate({**BASE, **changes}), **validating(herald))
    assert _stored(herald) == before


def test_an_edit_starts_from_every_language_and_a_campaign_of_one_template_reads_no_language(
    herald: Herald, fineract: FineractBuilder
) -> None:
    made = campaigns.create(CampaignRequest.model_validate(BASE), **validating(herald))
    again = CampaignRequest.of(campaigns.get(made.id, store=herald.store)).model_dump(by_alias=True)
    assert (again["message"], again["language"], again["translations"]) == (
        "Dear {{firstName}}", "en", [{"language": "sw", "message": "Mpendwa {{firstName}}"}],
    )
    single = {k: v for k, v in BASE.items() if k not in ("language", "translations")} | {"campaignName": "Old"}
    old = campaigns.create(CampaignRequest.model_validate(single), **validating(herald))
    assert (old.template_language, old.translations) == (None, ())


def test_an_offices_default_language_must_be_a_language_code_and_a_refusal_stores_nothing(
    herald: Herald, fineract: FineractBuilder
) -> None:
    parts = {"store": herald.store, "corebanks": herald.corebanks, "offices": herald.offices}
    offices.set_profile(1, "KE", "Africa/Nairobi", "Head Office", language="SW", **parts)
    with pytest.raises(ValidationError, match="'Swahili' is not a language code"):
        offices.set_profile(1, "KE", "Africa/Nairobi", "Head Office", language="Swahili", **parts)
    assert herald.offices.languages(None) == {1: "sw"}
    offices.set_profile(1, "KE", "Africa/Nairobi", "Head Office", language="", **parts)  # none any more
    herald.offices.forget()
    assert herald.offices.languages(None) == {}


@pytest.mark.parametrize(
    ("env", "text"),
    [
        ({"client_language": "client_language"}, "HERALD_CLIENT_LANGUAGE: 'client_language' does not name a column"),
        ({"client_language": "m_client.x", "client_language_values": "[1]"}, "must be a JSON object"),
        ({"client_language": "m_client.client_type_cv_id", "client_language_values": '{"Kiswahili": "kiswahili"}'},
         "is not a language code"),
        ({"client_languages": '{"default": {"values": {}}}'}, 'needs {"column": "table.column"}'),
    ],
)  # fmt: skip
def test_a_client_language_setting_that_names_no_column_or_language_stops_herald_at_start(
    settings: Settings, env: dict[str, str], text: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(text) if "{" in text else text):
        Herald.build(settings.model_copy(update=env))
