"""`herald campaigns preview` warns as the UI does; `campaigns edit --gsm7` applies the fix it offers."""

from __future__ import annotations

from tests.e2e.test_cli import env, herald  # noqa: F401 - the fixture and the runner of the CLI's own tests

CURLY = "Dear {{firstName}} {{middleName}}, it\u2019s time \u2013 come by\u2026"


def test_the_cli_preview_names_empty_variables_and_look_alikes_and_edit_gsm7_fixes_them(
    env: dict[str, str],  # noqa: F811
) -> None:
    herald(env, "demo", "init", "--clients", "300", "--seed", "3")
    herald(
        env,
        "campaigns",
        "create",
        "--name",
        "Curly",
        "--rule",
        "Active Clients",
        "-p",
        "officeId=1",
        "--message",
        CURLY,
    )
    preview = herald(env, "campaigns", "preview", "Curly").stdout
    assert "Warning: {{middleName}} is empty for" in preview and "(e.g. client " in preview
    assert 'Warning: The template has characters outside GSM-7: \u2019 (curly quote, use "\'")' in preview
    assert '\u2013 (dash, use "-")' in preview and '\u2026 (ellipsis, use "...")' in preview
    assert "`herald campaigns edit 1 --gsm7` makes the message:" in preview
    assert "Dear {{firstName}} {{middleName}}, it's time - come by..." in preview
    herald(env, "campaigns", "edit", "Curly", "--gsm7")
    shown = herald(env, "campaigns", "show", "Curly").stdout
    assert "it's time - come by..." in shown
    again = herald(env, "campaigns", "preview", "Curly").stdout
    assert "outside GSM-7" not in again and "{{middleName}} is empty" in again
