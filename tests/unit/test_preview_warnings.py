"""The preview's warnings: what clients would see (empty variables, UCS-2 look-alikes, a currency twice)."""

from __future__ import annotations

from herald.domain.preview_warnings import Findings, to_gsm7, warnings_of
from herald.domain.segments import Alphabet, count_segments
from herald.domain.templates import Template


def _findings(text: str, rows: list[tuple[int, dict[str, str]]], alphabet: Alphabet = Alphabet.GSM7) -> Findings:
    template = Template.parse(text)
    findings = Findings(template, alphabet)
    fixed = findings.gsm7_template
    for client_id, variables in rows:
        body = template.render(variables)
        info = count_segments(body, alphabet)
        in_gsm7 = None if fixed is None else count_segments(fixed.render(variables), alphabet).segments
        findings.add(client_id, variables, body, info.encoding.value, info.segments, in_gsm7)
    return findings


def test_an_empty_variable_is_named_with_how_many_and_an_example_client() -> None:
    found = _findings(
        "Dear {{firstName}}, your loan {{loanAccountId}} is due.",
        [
            (7, {"firstName": "Amina", "loanAccountId": "L1"}),
            (8, {"firstName": "", "loanAccountId": "L2"}),
            (9, {"firstName": " ", "loanAccountId": "L3"}),
        ],
    ).warnings()
    assert [w.kind for w in found] == ["empty_variable"]
    (warning,) = found
    assert (warning.recipients, warning.example_client_id) == (2, 8)
    assert "{{firstName}} is empty for 2 recipients of 3 (e.g. client 8)" in warning.text
    assert 'they would read "Dear , your loan L2 is du..."' in warning.text
    assert "{{#firstName}}...{{/firstName}}" in warning.text


def test_a_variable_inside_its_own_section_may_be_empty() -> None:
    found = _findings("Hello{{#groupName}} of {{groupName}}{{/groupName}}.", [(1, {"groupName": ""})])
    assert found.warnings() == ()


def test_curly_quotes_and_dashes_are_named_with_their_gsm7_form_and_the_cost() -> None:
    text = "Dear {{firstName}}, it\u2019s due \u2013 pay by Friday\u2026 " + "x" * 80
    found = _findings(text, [(1, {"firstName": "Amina"}), (2, {"firstName": "Juma"})])
    (warning,) = found.warnings()
    assert warning.kind == "ucs2_template"
    assert [(r.character, r.replacement) for r in warning.replacements] == [
        ("\u2019", "'"),
        ("\u2013", "-"),
        ("\u2026", "..."),
    ]
    assert '\u2019 (curly quote, use "\'")' in warning.text and '\u2013 (dash, use "-")' in warning.text
    assert "4 segments, 2 with GSM-7 characters (2.0 times the cost)" in warning.text
    assert found.gsm7_template is not None
    assert found.gsm7_template.text == "Dear {{firstName}}, it's due - pay by Friday... " + "x" * 80


def test_to_gsm7_rewrites_quotes_dashes_ellipsis_and_non_breaking_spaces_only() -> None:
    assert (
        to_gsm7("\u201cHi\u201d \u2018you\u2019 \u2014 now\u2026\u00a0ok \u00e9 \u20ac")
        == "\"Hi\" 'you' - now... ok \u00e9 \u20ac"
    )
    assert count_segments(to_gsm7("it\u2019s \u2013 ok")).encoding.value == "GSM-7"


def test_characters_from_fineract_values_are_named_apart_from_the_template() -> None:
    found = _findings("Dear {{firstName}}, thank you.", [(1, {"firstName": "Amina"}), (5, {"firstName": "\u0141ucja"})])
    (warning,) = found.warnings()
    assert warning.kind == "ucs2_values" and warning.example_client_id == 5
    assert "\u0141 (1 recipient)" in warning.text and found.gsm7_template is None


def test_a_currency_written_before_an_amount_that_carries_it() -> None:
    found = _findings("You owe KES {{totalDue}}.", [(3, {"totalDue": "KES 4,000.00"}), (4, {"totalDue": "UGX 4,000"})])
    (warning,) = found.warnings()
    assert warning.kind == "currency_twice" and warning.example_client_id == 3
    assert 'would read "KES KES"' in warning.text


def test_a_clean_template_has_no_warning() -> None:
    assert _findings("Dear {{firstName}}, thank you.", [(1, {"firstName": "Amina"})]).warnings() == ()


def test_no_rewrite_is_offered_when_it_would_make_the_template_too_long() -> None:
    text = "Hi {{firstName}}" + "\u2026" * 530  # 546 characters; as "..." it would pass the 1,600 limit
    found = _findings(text, [(1, {"firstName": "Amina"})])
    assert found.gsm7_template is None
    (warning,) = found.warnings()
    assert warning.kind == "ucs2_template" and "\u2026 (ellipsis" in warning.text


def test_several_templates_each_name_their_language_and_a_values_character_is_warned_about_once() -> None:
    english = _findings("Dear {{firstName}}, pay \u2013 today.", [(1, {"firstName": "Zo\u00eb"})])
    swahili = _findings("Habari {{firstName}}, lipa leo.", [(2, {"firstName": "\u0130lker"}), (3, {"firstName": "J"})])
    found = warnings_of({"en": english, "sw": swahili})
    assert [(w.kind, w.language) for w in found] == [("ucs2_template", "en"), ("ucs2_values", None)]
    assert found[0].text.startswith("English (en) template: The template has characters outside GSM-7: \u2013")
    # Names are the clients' whichever template they get: one values warning over both templates' recipients.
    assert "outside GSM-7: \u00eb (1 recipient), \u0130 (1 recipient), e.g. client 1." in found[1].text
    alone = warnings_of({None: _findings("Dear {{firstName}}, pay \u2013 today.", [(1, {"firstName": "A"})])})
    assert alone[0].text.startswith("The template has characters")  # one template: no language to name
