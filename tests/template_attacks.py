"""Message templates an attacker would try, each with the tag herald's refusal must name.

Shared by the unit, API, UI and send tests so every door is tried with the same list.
"""

from __future__ import annotations

import json

# The attack of issue 8: chevron looked up `firstName.__class__.format` with getattr and called it.
ENVIRONMENT = (
    "{{#firstName.__class__.format}}{0.__globals__[sys].modules[os].environ[HERALD_PROVIDERS]}"
    "{{/firstName.__class__.format}}"
)

ATTACKS: list[tuple[str, str]] = [
    (ENVIRONMENT, "{{#firstName.__class__.format}}"),
    ("Hi {{firstName.__class__}}", "{{firstName.__class__}}"),
    ("Hi {{firstName.upper}}", "{{firstName.upper}}"),
    ("Hi {{ firstName.__class__.__mro__ }}", "{{ firstName.__class__.__mro__ }}"),
    ("{{__class__}}", "{{__class__}}"),
    ("{{_firstName}}", "{{_firstName}}"),
    ("{{#firstName}}{{.}}{{/firstName}}", "{{.}}"),
    ("{{#firstName.format}}{0.__class__}{{/firstName.format}}", "{{#firstName.format}}"),
    ("{{^firstName.__len__}}x{{/firstName.__len__}}", "{{^firstName.__len__}}"),
    ("{{#firstName}}{{#firstName.__class__}}x{{/firstName.__class__}}{{/firstName}}", "{{#firstName.__class__}}"),
    ("{{> /etc/passwd}}", "{{> /etc/passwd}}"),
    ("Hi {{>footer}}", "{{>footer}}"),
    ("{{<parent}}{{/parent}}", "{{<parent}}"),
    ("{{=<% %>=}}<% firstName.__class__ %>", "{{=<% %>=}}"),
    ("{{{firstName}}}", "{{{firstName}}}"),
    ("{{{firstName.__class__.__mro__}}}", "{{{firstName.__class__.__mro__}}}"),
    ("{{&firstName}}", "{{&firstName}}"),
    ("{{& firstName.__class__ }}", "{{& firstName.__class__ }}"),
    ("{{! {{firstName.__class__}} }}", "{{! {{firstName.__class__}}"),
    ("{{$firstName}}x{{/firstName}}", "{{$firstName}}"),
    ("{{firstName|upper}}", "{{firstName|upper}}"),
    ("{{firstName[0]}}", "{{firstName[0]}}"),
    ("{{firstName()}}", "{{firstName()}}"),
    ("{{first Name}}", "{{first Name}}"),
    ("{{firstNａme}}", "{{firstNａme}}"),  # a fullwidth letter
    ("{{firstName\u200b}}", "{{firstName\u200b}}"),  # a zero-width space
    ("Hi {{firstName", '"{{" that is never closed'),
    ("Hi {{}}", "empty tag"),
    ("{{#firstName}}late", "{{#firstName}} but never closes it"),
    ("{{#firstName}}late{{/lastName}}", "closes {{/lastName}} while {{#firstName}} is still open"),
    ("late{{/firstName}}", "closes {{/firstName}} but no section"),
    ("x" * 1_601, "1,601 characters"),
]

ENV_SECRET = "env-provider-secret-5f3a9c"
"""The auth token in HERALD_PROVIDERS that the attacks try to print."""

ENV_PROVIDERS = json.dumps(
    [
        {
            "kind": "twilio",
            "name": "twilio-env",
            "account_sid": "AC" + "1" * 32,
            "auth_token": ENV_SECRET,
            "from_number": "+254700000001",
            "base_url": "http://127.0.0.1:9",
            "timeout": 1,
        }
    ]
)
"""A valid HERALD_PROVIDERS, so a herald built from the environment starts with the secret in it."""
