"""X-Twilio-Signature: Twilio's published test vectors, the port variants, and webhook refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from herald.domain.message import MessageStatus
from herald.errors import ProviderOutcome, WebhookError
from herald.providers.base import WebhookRequest
from herald.providers.config import TwilioSettings
from herald.providers.twilio import TwilioProvider, is_signed, signature, url_variants
from herald.providers.twilio_codes import ERRORS, STATUSES

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
BASIC = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
DUPLICATES = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]


def test_published_vector_basic() -> None:
    assert signature("12345", URL, BASIC) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_published_vector_duplicate_values_are_sorted_and_counted_once() -> None:
    assert signature("12345", URL, DUPLICATES) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_published_vector_explicit_port() -> None:
    assert (
        signature("12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", BASIC) == "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    )


def test_parameter_order_does_not_change_the_signature() -> None:
    assert signature("12345", URL, list(reversed(BASIC))) == signature("12345", URL, BASIC)


def test_the_signed_string_is_the_url_then_each_name_and_value_without_separators() -> None:
    signed = URL + "CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212"
    assert signature("12345", signed, []) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_names_sort_by_code_point_so_upper_case_comes_first() -> None:
    # "B" (0x42) sorts before "a" (0x61): the signed string is URL + "B2a1", not URL + "a1B2".
    assert signature("t", "https://x.org/", [("a", "1"), ("B", "2")]) == signature("t", "https://x.org/B2a1", [])


def test_a_signature_made_with_or_without_the_default_port_is_accepted() -> None:
    with_port = signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", BASIC)
    assert is_signed("12345", URL, BASIC, with_port)
    assert is_signed("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", BASIC, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_a_non_default_port_has_no_variant() -> None:
    assert url_variants("http://mycompany.com:1234/x") == ["http://mycompany.com:1234/x"]
    assert url_variants("http://mycompany.com/x") == ["http://mycompany.com/x", "http://mycompany.com:80/x"]


def test_a_wrong_token_url_or_value_breaks_the_signature() -> None:
    good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert not is_signed("54321", URL, BASIC, good)
    assert not is_signed("12345", URL.replace("foo=1", "foo=2"), BASIC, good)
    assert not is_signed("12345", URL, [*BASIC[:-1], ("To", "+18005551213")], good)
    assert not is_signed("12345", URL, [*BASIC, ("Extra", "")], good)


def _provider() -> TwilioProvider:
    settings = TwilioSettings(
        name="tw", account_sid="AC" + "1" * 32, auth_token=SecretStr("secret-token"), from_number="+12025550143"
    )
    return TwilioProvider(settings, now=lambda: datetime(2026, 11, 25, tzinfo=UTC), public_url="https://h.example")


def _request(
    params: list[tuple[str, str]], sign: str | None, content_type: str = "application/x-www-form-urlencoded"
) -> WebhookRequest:
    headers = {"content-type": content_type}
    if sign is not None:
        headers["x-twilio-signature"] = sign
    return WebhookRequest("https://h.example/webhooks/tw", "POST", headers, urlencode(params).encode())


CALLBACK = [("MessageSid", "SM" + "a" * 32), ("MessageStatus", "undelivered"), ("ErrorCode", "21610"), ("From", "x")]


def test_a_signed_callback_becomes_a_report_and_21610_marks_the_opt_out() -> None:
    sign = signature("secret-token", "https://h.example/webhooks/tw", CALLBACK)
    [report] = _provider().parse_webhook(_request(CALLBACK, sign)).reports
    assert (report.status, report.error_code, report.opted_out) == (MessageStatus.FAILED, "21610", True)
    assert report.error_text  # Twilio's ErrorMessage is unreliable: the table's title fills in


@pytest.mark.parametrize("sign", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_missing_or_forged_signatures_are_refused_with_403(sign: str | None) -> None:
    with pytest.raises(WebhookError) as refused:
        _provider().parse_webhook(_request(CALLBACK, sign))
    assert refused.value.status == 403


def test_a_json_body_is_refused_with_400() -> None:
    with pytest.raises(WebhookError) as refused:
        _provider().parse_webhook(_request([], "x", content_type="application/json"))
    assert refused.value.status == 400


def test_a_signed_callback_without_message_status_or_body_is_refused_with_400() -> None:
    params = [("MessageSid", "SM" + "a" * 32)]
    with pytest.raises(WebhookError) as refused:
        _provider().parse_webhook(_request(params, signature("secret-token", "https://h.example/webhooks/tw", params)))
    assert refused.value.status == 400


def test_a_queued_callback_is_no_news() -> None:
    params = [("MessageSid", "SM" + "a" * 32), ("MessageStatus", "queued")]
    batch = _provider().parse_webhook(
        _request(params, signature("secret-token", "https://h.example/webhooks/tw", params))
    )
    assert batch.reports == [] and batch.inbound == []


def test_every_twilio_status_of_the_reference_is_mapped() -> None:
    reference = "queued sending sent failed delivered undelivered receiving received accepted scheduled read"
    assert set(STATUSES) >= {*reference.split(), "partially_delivered", "canceled"}


def test_only_21610_is_an_opt_out() -> None:
    assert [code for code, rule in ERRORS.items() if rule.outcome is ProviderOutcome.OPTED_OUT] == ["21610"]
