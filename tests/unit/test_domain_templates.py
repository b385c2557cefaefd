"""Message templates: parsing herald's Mustache subset, refusing anything else, checking variables, rendering."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.templates import MAX_LENGTH, Template
from herald.errors import TemplateError, ValidationError
from tests.template_attacks import ATTACKS, ENVIRONMENT

LOAN = "Dear {{firstName}}, your loan {{loanAccountId}} has {{loanOutstanding}} outstanding"
RULE_VARIABLES = ["firstName", "lastName", "loanAccountId", "loanOutstanding", "officeName"]


def test_parse_collects_the_variables_a_template_reads() -> None:
    assert Template.parse(LOAN).variables == {"firstName", "loanAccountId", "loanOutstanding"}


def test_variables_inside_and_naming_sections_count_as_used() -> None:
    template = Template.parse(
        "Hi{{#overdue}} {{firstName}}, {{days}} days late{{/overdue}}{{^overdue}}!{{/overdue}}"
    )
    assert template.variables == {"overdue", "firstName", "days"}


def test_spaced_tags_are_variables_too() -> None:
    assert Template.parse("{{ a }} {{# b }}x{{/ b }}").variables == {"a", "b"}


def test_templates_with_the_same_text_are_equal() -> None:
    assert Template.parse(LOAN) == Template.parse(LOAN)
    assert Template.parse(LOAN) != Template.parse(LOAN + ".")


@pytest.mark.parametrize(("text", "tag"), ATTACKS)
def test_every_attack_is_refused_with_a_sentence_naming_the_offending_tag(text: str, tag: str) -> None:
    with pytest.raises(TemplateError) as caught:
        Template.parse(text)
    assert caught.value.field == "message"
    assert tag in str(caught.value)
    assert "\n" not in caught.value.message


def test_the_longest_template_allowed_is_1600_characters() -> None:
    Template.parse("x" * MAX_LENGTH)
    with pytest.raises(TemplateError, match="1,600"):
        Template.parse("x" * (MAX_LENGTH + 1))


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


def test_a_variable_must_be_one_of_the_rule_s_exact_names() -> None:
    with pytest.raises(TemplateError, match=r"did you mean \{\{firstName\}\}"):
        Template.parse("{{FirstName}}").check_variables(RULE_VARIABLES)


def test_render_substitutes_values() -> None:
    values = {"firstName": "Amina", "loanAccountId": "000123", "loanOutstanding": "KES 1,200.00"}
    assert Template.parse(LOAN).render(values) == "Dear Amina, your loan 000123 has KES 1,200.00 outstanding"


@pytest.mark.parametrize("text", ["{{x}}", "{{#s}}{{x}}{{/s}}"])
def test_render_never_html_escapes(text: str) -> None:
    values = {"x": "Smith & Sons <\"Ltd\"> 'ok'", "s": "yes"}
    assert Template.parse(text).render(values) == "Smith & Sons <\"Ltd\"> 'ok'"


@pytest.mark.parametrize("text", ["[{{x}}]", "[{{#s}}{{x}}{{/s}}]"])
def test_none_and_missing_values_render_as_nothing(text: str) -> None:
    assert Template.parse(text).render({"x": None, "s": True}) == "[]"
    assert Template.parse(text).render({"s": True}) == "[]"


def test_only_text_values_render_and_nothing_is_called_on_other_values() -> None:
    template = Template.parse("[{{a}}|{{b}}|{{c}}]{{#c}}!{{/c}}")
    assert template.render({"a": 0, "b": Decimal("1.5"), "c": Tripwire()}) == "[||]"  # type: ignore[dict-item]
    assert Tripwire.touched == []


def test_sections_show_their_text_only_when_the_variable_is_not_empty() -> None:
    template = Template.parse(
        "Hi {{name}}.{{#overdue}} {{days}} days late.{{/overdue}}{{^overdue}} Thanks!{{/overdue}}"
    )
    assert template.render({"name": "Ali", "overdue": "yes", "days": "3"}) == "Hi Ali. 3 days late."
    assert template.render({"name": "Ali", "overdue": ""}) == "Hi Ali. Thanks!"
    assert template.render({"name": "Ali"}) == "Hi Ali. Thanks!"


def test_nested_sections_render() -> None:
    template = Template.parse("{{#a}}[{{#b}}B{{/b}}{{^b}}no b{{/b}}]{{/a}}{{^a}}no a{{/a}}.")
    assert template.render({"a": "1", "b": "1"}) == "[B]."
    assert template.render({"a": "1"}) == "[no b]."
    assert template.render({"b": "1"}) == "no a."


def test_a_value_that_looks_like_a_template_is_printed_not_rendered() -> None:
    value = "{{#firstName.__class__.format}}{0.__globals__}{{/firstName.__class__.format}}"
    assert Template.parse("Dear {{firstName}}").render({"firstName": value}) == "Dear " + value


def test_literal_braces_that_are_not_tags_survive() -> None:
    assert Template.parse("a }} b { c").render({}) == "a }} b { c"


class Tripwire:
    """A value that records any attribute looked up on it, any call and any conversion."""

    touched: list[str] = []  # noqa: RUF012 - shared on purpose: every instance reports to one list

    def __getattribute__(self, name: str) -> Any:
        Tripwire.touched.append(name)
        return object.__getattribute__(self, name)

    def __call__(self, *args: object) -> str:
        Tripwire.touched.append("__call__")
        return os.environ.get("HERALD_PROVIDERS", "")

    def __str__(self) -> str:
        Tripwire.touched.append("__str__")
        return os.environ.get("HERALD_PROVIDERS", "")

    def __bool__(self) -> bool:
        Tripwire.touched.append("__bool__")
        return True

    def __eq__(self, other: object) -> bool:
        Tripwire.touched.append("__eq__")
        return False

    __hash__ = object.__hash__


SECRET = "fake-provider-secret-0xC0FFEE"
NAMES = ["firstName", "loanAmount", "officeName"]
FRAGMENTS = [
    "{{", "}}", "{", "}", "#", "^", "/", ".", "&", ">", "<", "=", "!", "$", " ", "_", "__class__", "__globals__",
    "format", "(", ")", "[", "]", "0", "Dear ", ", ", "\n", *NAMES,
]
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join), st.data())
def test_a_random_template_is_refused_or_renders_without_touching_any_value(text: str, data: st.DataObject) -> None:
    try:
        template = Template.parse(text)
    except TemplateError as error:
        assert error.field == "message" and error.message
        return
    assert all(_NAME.fullmatch(name) for name in template.variables)
    Tripwire.touched.clear()
    trapped = {name: Tripwire() for name in template.variables}
    with mock.patch.dict(os.environ, {"HERALD_PROVIDERS": SECRET}):  # what the issue's attack printed
        template.render(trapped)  # type: ignore[arg-type]
        values = {name: data.draw(st.sampled_from(["", "Ann", "{{firstName.__class__}}"])) for name in NAMES}
        rendered = template.render(values)
    assert Tripwire.touched == []
    assert SECRET not in rendered


def test_the_issue_s_attack_never_renders_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_PROVIDERS", SECRET)
    with pytest.raises(TemplateError, match=re.escape("{{#firstName.__class__.format}}")):
        Template.parse(ENVIRONMENT)
