"""`herald` with languages, as a user types it: an office's default language, a campaign's templates per language,
the preview's split, and refusals as one readable line."""

from __future__ import annotations

import re

from tests.e2e.test_cli import env, herald

__all__ = ["env"]  # the fixture, used by name

NEW = ["campaigns", "create", "--rule", "Active Clients", "-p", "officeId=1",
       "--message", "Dear {{firstName}}, welcome.", "--language", "en"]  # fmt: skip


def test_an_officer_writes_a_campaign_in_english_and_swahili_and_previews_who_gets_which(env: dict[str, str]) -> None:
    herald(env, "demo", "init", "--clients", "300", "--seed", "3")
    said = herald(env, "offices", "set", "2", "--region", "KE", "--timezone", "Africa/Nairobi", "--language", "SW")
    assert "default language Swahili (sw)" in said.stdout
    herald(env, "offices", "set", "2", "--region", "KE", "--timezone", "Africa/Nairobi")  # the language is kept
    assert re.search(r"│ 2 +│ Nairobi +│ KE +│ Africa/Nairobi +│ Swahili \(sw\)", herald(env, "offices", "list").stdout)
    refused = herald(env, "offices", "set", "2", "--region", "KE", "--timezone", "Africa/Nairobi",
                     "--language", "Kiswahili", ok=False)  # fmt: skip
    assert "'Kiswahili' is not a language code" in refused.stderr
    herald(env, *NEW, "--name", "Hello", "-t", "sw=Karibu {{firstName}}, asante – sana.")
    shown = herald(env, "campaigns", "show", "Hello").stdout
    assert "message (English (en))" in shown and "message (Swahili (sw))" in shown and "asante – sana" in shown
    preview = herald(env, "campaigns", "preview", "Hello", "--samples", "0").stdout
    english = re.search(r"English \(en\) +│ +(\d+) │ +(\d+) │.*│ GSM-7, 1 segment$", preview, re.M)
    swahili = re.search(r"Swahili \(sw\) +│ +(\d+) │ +(\d+) │.*│ UCS-2, 1 segment$", preview, re.M)
    assert english and swahili, preview
    assert 'Warning: Swahili (sw) template: The template has characters outside GSM-7: – (dash, use "-")' in preview
    total = re.search(r"Audience: ([\d,]+) clients", preview)
    assert total and int(english[1]) + int(swahili[1]) == int(total[1].replace(",", "")) and int(swahili[1]) > 0
    assert "Values from Fineract" not in preview  # the dash is the Swahili template's, not a client's name
    herald(env, "campaigns", "edit", "Hello", "--drop-translation", "sw", "-t", "rw=Murakaza neza {{firstName}}.")
    shown = herald(env, "campaigns", "show", "Hello").stdout
    assert "Swahili" not in shown and "message (Kinyarwanda (rw))" in shown


def test_templates_that_differ_between_languages_are_refused_in_one_line(env: dict[str, str]) -> None:
    herald(env, "demo", "init", "--clients", "50", "--seed", "3")
    refused = herald(env, *NEW, "--name", "Bad", "-t", "sw=Karibu {{lastName}}", ok=False)
    assert "The Swahili (sw) template lacks {{firstName}} and adds {{lastName}}" in refused.stderr
    refused = herald(env, *NEW, "--name", "Bad", "-t", "Karibu", ok=False)
    assert "--translation takes LANG=TEXT" in refused.stderr
    assert "Bad" not in herald(env, "campaigns", "list").stdout


def test_the_per_language_table_fits_an_80_column_terminal_one_line_per_language(env: dict[str, str]) -> None:
    narrow = env | {"COLUMNS": "80"}
    herald(narrow, "demo", "init", "--clients", "300", "--seed", "3")
    herald(narrow, "offices", "set", "2", "--region", "KE", "--timezone", "Africa/Nairobi", "--language", "sw")
    herald(narrow, *NEW, "--name", "Hello", "-t", "sw=Karibu {{firstName}}, asante – sana.",
           "-t", "rw=Murakaza neza {{firstName}}.")  # fmt: skip
    preview = herald(narrow, "campaigns", "preview", "Hello", "--samples", "0").stdout
    lines = preview.splitlines()
    start = next(i for i, line in enumerate(lines) if "Per language (cost in KES)" in line)
    table = lines[start : start + 6]  # title, header, rule, one row per language
    assert all(len(line) <= 80 for line in table), "\n".join(table)
    rows = [re.fullmatch(r"(\w+ \(\w+\)) +│ +([\d,]+) │ +([\d,]+) │ +([\d,]+) │ +([\d.,]+) │ (GSM-7|UCS-2), 1 segment",
                         line) for line in table[3:]]  # fmt: skip
    assert all(rows), "\n".join(table)
    found = {m[1]: (int(m[2]), m[6]) for m in rows if m}
    assert set(found) == {"English (en)", "Swahili (sw)", "Kinyarwanda (rw)"}
    assert found["Swahili (sw)"][1] == "UCS-2" and found["Kinyarwanda (rw)"] == (0, "GSM-7")
    total = re.search(r"Audience: ([\d,]+) clients", preview)
    assert total and sum(n for n, _ in found.values()) == int(total[1].replace(",", ""))
