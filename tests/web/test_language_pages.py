"""The campaign form and page with a message per language, and an office's default language, through the real app.

The form shows a section per language with the live preview's split (who gets which, segments,
cost, the characters forcing UCS-2); errors point at the language they are about; the campaign
page shows each message and the counts per language; the offices page sets a default language.
"""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.services import campaigns
from herald.services.auth import Role
from herald.worker import outbound_for
from tests.campaign_parts import activating
from tests.web.conftest import csrf_of, log_in

NAIROBI = 2  # the demo's Nairobi branch
FORM = {
    "campaignName": "Reminder",
    "triggerType": "direct",
    "runReportId": "166",
    "param.officeId": "1",
    "param.loanOfficerId": "-1",
    "message": "Dear {{firstName}}, thank you.",
    "language": "en",
    "translation.1.language": "sw",
    "translation.1.message": "Asante {{firstName}} – karibu tena.",  # the dash forces UCS-2
    "translation.2.language": "",  # the "add a language" row, left empty
    "translation.2.message": "",
    "providerId": "simulator",
}


def _set_office_language(client: TestClient, language: str) -> int:
    data = {"csrf_token": csrf_of(client, "/offices"), "region": "KE", "timezone": "Africa/Nairobi"}
    data["language"] = language
    return client.post(f"/offices/{NAIROBI}", data=data).status_code


def test_an_admin_gives_an_office_a_default_language_and_a_word_is_refused(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    assert 'name="language"' in client.get(f"/offices/{NAIROBI}/edit").text
    assert _set_office_language(client, "sw") == 303
    row = client.get("/offices").text
    row = row[row.index(f'id="office-{NAIROBI}"') :]
    assert "Swahili (sw)" in row[: row.index("</tr>")]
    assert herald.offices.languages(None) == {NAIROBI: "sw"}
    assert _set_office_language(client, "Kiswahili") == 422
    assert herald.offices.languages(None) == {NAIROBI: "sw"}  # nothing changed


def test_the_forms_live_preview_splits_the_audience_per_language(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    _set_office_language(client, "sw")
    log_in(client, Role.CAMPAIGN_MANAGER)
    new = client.get("/campaigns/new").text
    assert 'name="language"' in new and "Add the message in another language" in new
    fragment = client.post("/campaigns/form-preview", data={**FORM, "csrf_token": csrf_of(client)}).text
    table = re.search(r'<table class="languages" data-testid="per-language">.*?</table>', fragment, re.S)
    assert table, fragment
    rows = {
        m[1]: (int(m[2].replace(",", "")), int(m[3].replace(",", "")))
        for m in re.finditer(r"<td>(\w+ \(\w+\))</td>\s*<td class=\"num\">([\d,]+)</td><td class=\"num\">([\d,]+)</td>",
                             table[0])
    }  # fmt: skip
    audience = re.search(r'data-testid="audience">([\d,]+)<', fragment)
    assert audience and set(rows) == {"English (en)", "Swahili (sw)"}
    assert sum(r[0] for r in rows.values()) == int(audience[1].replace(",", "")) and rows["Swahili (sw)"][0] > 0
    assert "UCS-2 because of <code>–</code>" in table[0]
    for code, start in (("en", "Dear "), ("sw", "Asante ")):  # each language's own text, live
        example = re.search(rf'data-testid="example-{code}">([^<]*)<', table[0])
        assert example and example[1].startswith(start), table[0]
    assert "<th>Language</th>" in fragment and "<td>sw</td>" in fragment  # samples say their language
    assert "Values from Fineract" not in fragment


def test_a_campaign_saved_in_two_languages_shows_each_and_counts_per_language(
    client: TestClient, herald: Herald
) -> None:
    log_in(client, Role.ADMIN)
    _set_office_language(client, "sw")
    log_in(client, Role.CAMPAIGN_MANAGER)
    saved = client.post("/campaigns/new", data={**FORM, "csrf_token": csrf_of(client), "action": "save"})
    assert saved.status_code == 303, saved.text
    page_url = saved.headers["location"].split("?")[0]
    page = html.unescape(client.get(page_url).text)
    assert "Message in English (en)" in page and "Message in Swahili (sw)" in page and "karibu tena" in page
    edit = html.unescape(client.get(f"{page_url}/edit").text)
    assert 'name="translation.1.language" value="sw"' in edit
    assert "Asante {{firstName}} – karibu tena.</textarea>" in edit
    campaigns.activate(int(page_url.rsplit("/", 1)[1]), **activating(herald))  # its confirm page: tests of its own
    outbound_for(herald).run_due()
    page = client.get(page_url).text
    table = re.search(r'data-testid="stats-per-language">.*?</table>', page, re.S)
    assert table and "English (en)" in table[0] and "Swahili (sw)" in table[0], page


def test_errors_point_at_the_language_they_are_about(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    bad_code = client.post("/campaigns/new", data={**FORM, "translation.1.language": "Kiswahili", "csrf_token": token,
                                                  "action": "save"})  # fmt: skip
    assert bad_code.status_code == 422
    label = re.search(r'name="translation.1.language".*?</label>', bad_code.text, re.S)
    assert label and "is not a language code" in label[0]
    differing = client.post("/campaigns/new", data={**FORM, "translation.1.message": "Asante {{lastName}}",
                                                   "csrf_token": token, "action": "save"})  # fmt: skip
    assert differing.status_code == 422
    assert "lacks {{firstName}} and adds {{lastName}}" in html.unescape(differing.text)
    assert "Reminder" not in client.get("/campaigns").text


def test_each_languages_look_alikes_are_warned_about_and_the_gsm7_button_goes_with_the_first_message(
    client: TestClient,
) -> None:
    log_in(client, Role.ADMIN)
    _set_office_language(client, "sw")  # Nairobi's clients get the Swahili message
    log_in(client, Role.CAMPAIGN_MANAGER)
    form = {**FORM, "message": "Dear {{firstName}}, it\u2019s due.", "csrf_token": csrf_of(client)}
    fragment = client.post("/campaigns/form-preview", data=form).text
    items = re.findall(r'<li class="warning warning-ucs2_template".*?</li>', fragment, re.S)
    assert [html.unescape(i).split("template:")[0].split(">")[-1] for i in items] == ["English (en) ", "Swahili (sw) "]
    assert "\u2019 (curly quote" in html.unescape(items[0]) and "\u2013 (dash" in html.unescape(items[1])
    # The button rewrites the first message only, so it stands beside the English warning and nowhere else.
    assert fragment.count("Use GSM-7 characters") == 1 and "Use GSM-7 characters" in items[0]
    assert "data-gsm7=\"Dear {{firstName}}, it&#39;s due.\"" in items[0]
