"""Mustache message templates: parsing, checking against a rule's variables, rendering unescaped."""

from __future__ import annotations

import random
from decimal import Decimal

import chevron
import pytest

from herald.domain.templates import Template
from herald.errors import TemplateError, ValidationError

LOAN = "Dear {{firstName}}, your loan {{loanAccountId}} has {{loanOutstanding}} outstanding"
RULE_VARIABLES = ["firstName", "lastName", "loanAccountId", "loanOutstanding", "officeName"]


def test_parse_collects_the_variables_a_template_reads() -> None:
    assert Template.parse(LOAN).variables == {"firstName", "loanAccountId", "loanOutstanding"}


def test_variables_inside_and_naming_sections_count_as_used() -> None:
    template = Template.parse(
        "Hi{{#overdue}} {{firstName}}, {{days}} days late{{/overdue}}{{^overdue}}!{{/overdue}}"
    )
    assert template.variables == {"overdue", "firstName", "days"}


def test_triple_mustache_ampersand_and_spaced_tags_are_variables_too() -> None:
    assert Template.parse("{{{a}}} {{&b}} {{ c }} {{! a comment }}").variables == {"a", "b", "c"}


def test_templates_with_the_same_text_are_equal() -> None:
    assert Template.parse(LOAN) == Template.parse(LOAN)
    assert Template.parse(LOAN) != Template.parse(LOAN + ".")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Dear {{firstName, hello", "unclosed tag"),
        ("Hi {{#overdue}} you are late", 'the tag "overdue" was never closed'),
        ("Hi {{#overdue}} late {{/due}}", 'Trying to close tag "due"'),
        ("Hi {{}}", "empty tag"),
        ("Hi {{> footer}}", "partial"),
    ],
)
def test_malformed_templates_raise_template_error_on_the_message_field(text: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as caught:
        Template.parse(text)
    assert caught.value.field == "message"
    assert fragment in str(caught.value)
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_template_is_refused(text: str) -> None:
    with pytest.raises(TemplateError, match="empty") as caught:
        Template.parse(text)
    assert caught.value.field == "message"


def test_template_error_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Template.parse("")


def test_known_variables_pass_the_check() -> None:
    Template.parse(LOAN).check_variables(RULE_VARIABLES, rule="Active Clients")


def test_unknown_variable_is_named_with_a_suggestion_and_the_available_list() -> None:
    template = Template.parse("Dear {{firstname}}, pay {{loanOutstandng}}")
    with pytest.raises(TemplateError) as caught:
        template.check_variables(RULE_VARIABLES, rule="Active Clients")
    text = str(caught.value)
    assert 'Template variable {{firstname}} is not provided by rule "Active Clients"' in text
    assert "did you mean {{firstName}}?" in text
    assert "Template variable {{loanOutstandng}}" in text
    assert "did you mean {{loanOutstanding}}?" in text
    assert (
        "Available: {{firstName}}, {{lastName}}, {{loanAccountId}}, {{loanOutstanding}}, {{officeName}}."
        in text
    )
    assert caught.value.field == "message"


def test_unknown_variable_without_a_close_name_gets_no_suggestion() -> None:
    with pytest.raises(TemplateError) as caught:
        Template.parse("{{zzz}}").check_variables(RULE_VARIABLES)
    assert "did you mean" not in str(caught.value)
    assert "is not provided by the rule." in str(caught.value)


def test_unknown_section_name_is_reported() -> None:
    with pytest.raises(TemplateError, match=r"\{\{overdue\}\}"):
        Template.parse("{{#overdue}}late{{/overdue}}").check_variables(RULE_VARIABLES)


def test_dotted_variable_needs_only_its_first_part() -> None:
    Template.parse("{{firstName.length}}").check_variables(RULE_VARIABLES)


def test_render_substitutes_values() -> None:
    values = {"firstName": "Amina", "loanAccountId": "000123", "loanOutstanding": "KES 1,200.00"}
    assert Template.parse(LOAN).render(values) == "Dear Amina, your loan 000123 has KES 1,200.00 outstanding"


@pytest.mark.parametrize("text", ["{{x}}", "{{{x}}}", "{{&x}}", "{{#s}}{{x}}{{/s}}", "{{#s}}{{{x}}}{{/s}}"])
def test_render_never_html_escapes(text: str) -> None:
    values = {"x": "Smith & Sons <\"Ltd\"> 'ok'", "s": True}
    assert Template.parse(text).render(values) == "Smith & Sons <\"Ltd\"> 'ok'"


@pytest.mark.parametrize("text", ["[{{x}}]", "[{{#s}}{{x}}{{/s}}]"])
def test_none_and_missing_values_render_as_nothing(text: str) -> None:
    assert Template.parse(text).render({"x": None, "s": True}) == "[]"
    assert Template.parse(text).render({"s": True}) == "[]"


def test_non_string_values_render_as_text() -> None:
    template = Template.parse("{{a}}|{{b}}|{{c}}|{{d}}")
    assert template.render({"a": 0, "b": Decimal("1200.50"), "c": 12, "d": 1.5}) == "0|1200.50|12|1.5"


def test_sections_and_inverted_sections_render() -> None:
    template = Template.parse(
        "Hi {{name}}.{{#overdue}} {{days}} days late.{{/overdue}}{{^overdue}} Thanks!{{/overdue}}"
    )
    assert template.render({"name": "Ali", "overdue": True, "days": 3}) == "Hi Ali. 3 days late."
    assert template.render({"name": "Ali", "overdue": False}) == "Hi Ali. Thanks!"
    assert template.render({"name": "Ali", "overdue": None}) == "Hi Ali. Thanks!"


def test_render_is_repeatable_for_section_templates() -> None:
    template = Template.parse("{{#s}}{{x}}{{/s}}")
    assert [template.render({"s": True, "x": i}) for i in range(3)] == ["0", "1", "2"]


def test_set_delimiter_is_honoured() -> None:
    assert Template.parse("{{=<% %>=}}Hi <% name %> {{x}}").render({"name": "Ali"}) == "Hi Ali {{x}}"


def test_literal_braces_that_are_not_tags_survive() -> None:
    assert Template.parse("a }} b { c").render({}) == "a }} b { c"


def test_fast_path_renders_what_unescaped_chevron_renders() -> None:
    rng = random.Random(42)
    names = ["firstName", "lastName", "loanAccountId", "amount", "officeName"]
    pieces = ["Dear ", ", ", " & ", "<b>", "\n", "€ 10", "'q'", ""]
    sample_values: list[object] = ["Ann", "O'Neil & Co", None, 0, 12, Decimal("3.50"), "", "<x>", False, []]
    for _ in range(300):
        text = "".join(
            rng.choice(pieces) + "{{{" + rng.choice(names) + "}}}" for _ in range(rng.randint(1, 6))
        )
        text += rng.choice(pieces) or "."
        values = {name: rng.choice(sample_values) for name in names if rng.random() < 0.8}
        assert Template.parse(text).render(values) == chevron.render(text, values), text
