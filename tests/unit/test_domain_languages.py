"""Languages: codes checked, every template saying the same things, and the order that picks a client's language."""

from __future__ import annotations

import pytest

from herald.domain.languages import ClientLanguageSource, Translations, choose, parse_language
from herald.errors import TemplateError, ValidationError

EN = "Dear {{firstName}}, {{dueAmount}} is due."
SW = "Mpendwa {{firstName}}, {{dueAmount}} inadaiwa."


@pytest.mark.parametrize(("given", "code"), [("en", "en"), (" SW ", "sw"), ("lg", "lg"), ("rw", "rw"), ("nyn", "nyn")])
def test_iso_639_codes_of_two_or_three_letters_are_accepted_in_lower_case(given: str, code: str) -> None:
    assert parse_language(given) == code


@pytest.mark.parametrize("given", ["", "e", "english", "sw-KE", "s1", "çw", "abcd"])
def test_anything_else_is_not_a_language_code(given: str) -> None:
    with pytest.raises(ValidationError, match="is not a language code"):
        parse_language(given)


def test_templates_keep_their_order_and_the_first_is_the_default() -> None:
    t = Translations.check([("en", EN), ("sw", SW)], ["firstName", "dueAmount"])
    assert t.items == (("en", EN), ("sw", SW))
    assert t.first == ("en", EN) and t.languages == ("en", "sw")


def test_one_template_may_leave_its_language_unnamed_as_every_older_campaign_does() -> None:
    assert Translations.check([(None, EN)]).items == ((None, EN),)


@pytest.mark.parametrize(
    ("items", "text"),
    [
        ([("en", EN), ("sw", "Mpendwa {{firstName}}.")], r"Swahili \(sw\) template lacks {{dueAmount}}"),
        ([("en", EN), ("sw", SW + " {{loanId}}")], r"adds {{loanId}}"),
        ([(None, EN), ("sw", SW)], "names its language"),
        ([("en", EN), ("EN", SW)], "two templates in English"),
        ([("en", EN), ("swahili", SW)], "is not a language code"),
        ([("en", EN), ("sw", "Mpendwa {{firstName")], r"Swahili \(sw\) template: .*never closed"),
    ],
)
def test_templates_that_do_not_say_the_same_things_in_each_language_are_refused(
    items: list[tuple[str | None, str]], text: str
) -> None:
    with pytest.raises(ValidationError, match=text):
        Translations.check(items, ["firstName", "dueAmount", "loanId"])


def test_a_translation_using_a_variable_the_rule_lacks_is_refused_naming_its_language() -> None:
    with pytest.raises(TemplateError, match=r"Swahili \(sw\) template: Template variable {{jina}}"):
        Translations.check([("en", "Hi {{firstName}}"), ("sw", "Habari {{jina}}")], ["firstName"])


TEMPLATES = Translations((("en", EN), ("sw", SW), ("rw", "Muraho {{firstName}} {{dueAmount}}")))


@pytest.mark.parametrize(
    ("client", "office", "language", "wanted"),
    [
        ("sw", "rw", "sw", None),  # the client's own first
        (None, "rw", "rw", None),  # then the office's default
        (None, None, "en", None),  # then the first template
        ("lg", "rw", "rw", "lg"),  # no Luganda template: the office's, counted as a fallback for lg
        ("lg", None, "en", "lg"),
        (None, "fr", "en", "fr"),
        ("lg", "fr", "en", "lg"),  # the first language asked is the one counted
        ("en", "sw", "en", None),
    ],
)
def test_a_clients_language_is_theirs_then_their_offices_then_the_first_templates(
    client: str | None, office: str | None, language: str, wanted: str | None
) -> None:
    choice = choose(client, office, TEMPLATES)
    assert (choice.language, choice.wanted) == (language, wanted)


def test_a_source_reads_code_values_of_m_client_and_a_data_tables_dropdown_and_maps_words() -> None:
    classification = ClientLanguageSource.parse("m_client.client_classification_cv_id", {"Kiswahili": "SW"})
    assert classification.code_value and classification.values == {"kiswahili": "sw"}
    assert ClientLanguageSource.parse("client_language.Language_cd_lang").code_value
    text = ClientLanguageSource.parse("client_language.spoken", {"Luganda": "lg"})
    assert not text.code_value
    assert [text.language_of(v) for v in ("luganda", " LUGANDA ", "rw", "Kifaransa", "", None, 7)] == [
        "lg", "lg", "rw", None, None, None, None,
    ]


@pytest.mark.parametrize(
    ("spec", "values", "text"),
    [
        ("client_language", None, "does not name a column"),
        ("client_language.lang; DROP TABLE m_client", None, "does not name a column"),
        ('x."y"', None, "does not name a column"),
        ("m_client.mobile_no", None, "not a code-value column"),
        ("client_language.lang", {"Kiswahili": "swahili"}, "is not a language code"),
    ],
)
def test_a_source_naming_no_column_or_mapping_to_no_language_is_refused(
    spec: str, values: dict[str, str] | None, text: str
) -> None:
    with pytest.raises(ValidationError, match=text):
        ClientLanguageSource.parse(spec, values)
