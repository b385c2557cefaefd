"""REST: a campaign's templates per language in and out, the preview's split per language, statistics per language."""

from __future__ import annotations

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.services import offices
from tests.api.conftest import Corebank, assert_error, campaign_body, create_campaign

SWAHILI = "Habari {{firstName}}, tafadhali lipa leo – asante"  # the en dash forces UCS-2
TRANSLATIONS = [{"language": "sw", "message": SWAHILI}]


def test_a_campaign_is_created_shown_and_edited_with_a_template_per_language(
    client: TestClient, manager: dict[str, str]
) -> None:
    created = create_campaign(client, manager, language="en", translations=TRANSLATIONS)
    assert (created["message"], created["language"], created["translations"]) == (
        "Hello {{firstName}}", "en", TRANSLATIONS,
    )
    url = f"/api/v1/campaigns/{created['id']}"
    assert client.get(url, headers=manager).json() == created
    more = [*TRANSLATIONS, {"language": "rw", "message": "Muraho {{firstName}}"}]
    edited = client.put(url, json=campaign_body(language="en", translations=more), headers=manager)
    assert edited.status_code == 200, edited.text
    assert [t["language"] for t in edited.json()["translations"]] == ["sw", "rw"]
    single = create_campaign(client, manager, campaignName="Old style")
    assert (single["language"], single["translations"]) == (None, [])


def test_templates_differing_between_languages_or_an_unknown_code_are_422_and_nothing_is_stored(
    client: TestClient, manager: dict[str, str]
) -> None:
    bad = [{"language": "sw", "message": "Habari {{lastName}}"}]
    error = assert_error(
        client.post("/api/v1/campaigns", json=campaign_body(language="en", translations=bad), headers=manager),
        422, "validation_error", "templates",
    )  # fmt: skip
    assert "lacks {{firstName}} and adds {{lastName}}" in error["message"]
    unknown = [{"language": "Kiswahili", "message": SWAHILI}]
    error = assert_error(
        client.post("/api/v1/campaigns", json=campaign_body(language="en", translations=unknown), headers=manager),
        422, "validation_error", "templates[1].language",
    )  # fmt: skip
    assert "is not a language code" in error["message"]
    assert client.get("/api/v1/campaigns", headers=manager).json() == []


def test_the_preview_splits_the_audience_per_language_and_statistics_count_per_language(
    client: TestClient, manager: dict[str, str], herald: Herald, corebank: Corebank
) -> None:
    offices.set_profile(
        corebank.nairobi, "KE", "Africa/Nairobi", "Nairobi", language="sw",
        store=herald.store, corebanks=herald.corebanks, offices=herald.offices,
    )  # fmt: skip
    created = create_campaign(client, manager, language="en", translations=TRANSLATIONS)
    preview = client.post(f"/api/v1/campaigns/{created['id']}/preview", headers=manager)
    assert preview.status_code == 200, preview.text
    split = {s["language"]: s for s in preview.json()["byLanguage"]}
    # Amina's office (Nairobi) defaults to Swahili; Baraka and Chebet (no number) in Westlands get the first.
    assert {k: (s["recipients"], s["sendable"], s["segments"]) for k, s in split.items()} == {
        "en": (2, 1, 1), "sw": (1, 1, 1),
    }
    assert (split["en"]["templateEncoding"], split["en"]["forcingUcs2"]) == ("GSM-7", [])
    assert (split["sw"]["templateEncoding"], split["sw"]["forcingUcs2"]) == ("UCS-2", ["–"])
    assert split["sw"]["cost"] == 0.8 and preview.json()["fallbacks"] == {}
    # Each language's own text for one recipient, whichever language that client gets.
    assert split["sw"]["example"].startswith("Habari ") and split["en"]["example"].startswith("Hello ")
    assert (split["sw"]["exampleEncoding"], split["en"]["exampleEncoding"]) == ("UCS-2", "GSM-7")
    assert {s["language"] for s in preview.json()["samples"]} == {"en", "sw"}
    assert client.post(f"/api/v1/campaigns/{created['id']}/activate", headers=manager).status_code == 200
    assert client.post("/api/v1/jobs/update-outbound/run", headers=manager).status_code == 200
    stats = client.get("/api/v1/stats", params={"campaignId": created["id"]}, headers=manager).json()
    per_language = {s["language"]: (s["counts"]["pending"], s["counts"]["invalid"]) for s in stats["perLanguage"]}
    assert per_language == {"en": (1, 1), "sw": (1, 0)}


def test_the_preview_warns_about_every_languages_template_not_only_the_first(
    client: TestClient, manager: dict[str, str], herald: Herald, corebank: Corebank
) -> None:
    offices.set_profile(
        corebank.nairobi, "KE", "Africa/Nairobi", "Nairobi", language="sw",
        store=herald.store, corebanks=herald.corebanks, offices=herald.offices,
    )  # fmt: skip
    # Only the Swahili template has problems: {{middleName}} (empty for everyone) outside its section, an en dash
    # forcing UCS-2 and the currency written before an amount that carries its own. The English one guards it all.
    english = "Hello {{firstName}}{{#middleName}} {{middleName}}{{/middleName}}, please pay KES 500 today"
    swahili = [{"language": "sw", "message": "Habari {{firstName}} {{middleName}} – lipa KES KES 500 leo"}]
    created = create_campaign(client, manager, message=english, language="en", translations=swahili)
    preview = client.post(f"/api/v1/campaigns/{created['id']}/preview", headers=manager).json()
    warnings = {w["kind"]: w for w in preview["warnings"]}
    assert sorted(warnings) == ["currency_twice", "empty_variable", "ucs2_template"], preview["warnings"]
    assert {w["language"] for w in preview["warnings"]} == {"sw"}
    amina = corebank.clients[0]  # Nairobi: Swahili; Baraka in Westlands gets English and nothing to warn about
    empty = warnings["empty_variable"]
    assert empty["text"].startswith("Swahili (sw) template: {{middleName}} is empty for 1 recipient of 1")
    assert (empty["recipients"], empty["exampleClientId"]) == (1, amina)
    assert 'they would read "Habari Amina  – lipa KES KES 500 ..."' in empty["text"]  # Swahili, as she reads it
    ucs2 = warnings["ucs2_template"]
    assert ucs2["text"].startswith(
        'Swahili (sw) template: The template has characters outside GSM-7: – (dash, use "-")'
    )
    assert ucs2["recipients"] == 1
    currency = warnings["currency_twice"]["text"]
    assert currency.startswith('Swahili (sw) template: 1 recipient of 1 would read "KES KES"')
    # "Use GSM-7 characters" rewrites the first message only: the English one has nothing to rewrite.
    assert preview["gsm7Message"] is None
