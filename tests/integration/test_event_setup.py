"""Enabling Fineract's external events: the service against the fake of Fineract's API, over real HTTP.

The fake answers as Fineract does (basic auth, tenant header, permissions, 404 for a type it does not
have); what Fineract ends up with is read from the fake's own table.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from herald.errors import HeraldError
from herald.events.address import parse_broker_url
from herald.events.kinds import KINDS
from herald.fakes.fineract_api import OTHER_TYPES, FakeFineractApi
from herald.services.event_setup import (
    FineractApi,
    configuration_body,
    enable_events,
    events_to_enable,
    fineract_settings,
    read_configuration,
)
from herald.services.fineract_api import FineractRefused, call_fineract
from herald.services.hook_registration import HOOK_EVENTS, hook_request, payload_url, register, registered_events


@pytest.fixture
def fineract() -> Iterator[FakeFineractApi]:
    with FakeFineractApi() as api:
        yield api


def _api(fineract: FakeFineractApi, **changes: object) -> FineractApi:
    parts: dict[str, object] = {"url": fineract.url, "tenant": "default", "username": "mifos", "password": "password"}
    return FineractApi(**(parts | changes))  # type: ignore[arg-type]


def test_the_fakes_get_has_fineracts_shape(fineract: FakeFineractApi) -> None:
    answer = call_fineract(fineract.url, "externalevents/configuration", tenant="default", username="mifos",
                           password="password")  # fmt: skip
    assert set(answer) == {"externalEventConfiguration"}
    assert {"type": "LoanApprovedBusinessEvent", "enabled": False} in answer["externalEventConfiguration"]
    assert read_configuration(_api(fineract)) == dict.fromkeys([*KINDS, *OTHER_TYPES], False)


def test_a_put_naming_an_unknown_type_is_refused_whole_with_fineracts_404(fineract: FakeFineractApi) -> None:
    body = configuration_body(["LoanApprovedBusinessEvent", "NoSuchBusinessEvent"])
    with pytest.raises(HeraldError) as caught:
        _api(fineract).call("PUT", body)
    line = str(caught.value)
    assert "(404)" in line and "NoSuchBusinessEvent" in line and "\n" not in line
    assert not any(fineract.events.values())  # not even the known one


def test_fineract_checks_the_tenant_header_and_the_password(fineract: FakeFineractApi) -> None:
    with pytest.raises(FineractRefused) as no_tenant:
        call_fineract(fineract.url, "externalevents/configuration", tenant="", username="mifos", password="password")
    assert no_tenant.value.status == 400 and "Fineract-Platform-TenantId" in no_tenant.value.detail
    with pytest.raises(HeraldError, match=r"\(400\).*kampala is invalid"):
        read_configuration(_api(fineract, tenant="kampala"))
    with pytest.raises(HeraldError, match=r"\(401\)") as wrong:
        read_configuration(_api(fineract, password="guess"))
    assert "guess" not in str(wrong.value)
    assert [r.tenant for r in fineract.received] == ["", "kampala", "default"]


def test_enabling_twice_puts_once_and_never_disables(fineract: FakeFineractApi) -> None:
    fineract.events["SavingsDepositBusinessEvent"] = True
    fineract.events[OTHER_TYPES[1]] = True
    first = enable_events(_api(fineract), list(KINDS))
    assert first.already == ("SavingsDepositBusinessEvent",)
    assert set(first.enabled) == set(KINDS) - {"SavingsDepositBusinessEvent"}
    assert first.now == dict.fromkeys(KINDS, True) and first.unknown == ()
    second = enable_events(_api(fineract), list(KINDS))
    assert second.enabled == () and len(fineract.puts()) == 1
    assert fineract.events[OTHER_TYPES[1]] is True and fineract.events[OTHER_TYPES[0]] is False
    for put in fineract.puts():
        assert all(v is True for v in put.body["externalEventConfigurations"].values())


def test_https_to_a_plain_http_port_is_a_tls_line(fineract: FakeFineractApi) -> None:
    with pytest.raises(HeraldError, match="TLS handshake failed") as caught:
        read_configuration(_api(fineract, url=fineract.url.replace("http://", "https://")))
    assert "\n" not in str(caught.value)


def test_an_answer_that_is_not_fineracts_list_is_named(fineract: FakeFineractApi) -> None:
    with pytest.raises(HeraldError, match=r"no external events API.*1\.7"):
        read_configuration(_api(fineract, url=fineract.url + "/nowhere"))


def test_the_api_repr_never_shows_the_password(fineract: FakeFineractApi) -> None:
    assert "Zq-9-pw" not in repr(_api(fineract, password="Zq-9-pw"))


def test_fineracts_settings_follow_herald_events_url() -> None:
    topic = {s.variable: s for s in fineract_settings(parse_broker_url("stomp+ssl://u:p@[2001:db8::5]:61614/topic/t1"))}
    assert topic["FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_BROKER_URL"].value == "tcp://[2001:db8::5]:61616"
    assert topic["FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_TOPIC_NAME"].value == "t1"
    assert "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_QUEUE_NAME" not in topic
    queue = {s.variable: s.property for s in fineract_settings(parse_broker_url("stomp://mq/queue/q"))}
    assert queue["FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_QUEUE_NAME"].endswith("jms.event-queue-name")


def test_every_kind_is_listed_with_its_rules_and_listeners_unknown_without_campaigns() -> None:
    listed = events_to_enable(None)
    assert [k.type for k in listed] == list(KINDS)
    repayment = next(k for k in listed if k.type == "LoanTransactionMakeRepaymentPostBusinessEvent")
    assert repayment.rules == ("179 Loan Repayment",) and repayment.campaigns is None
    assert all(k.campaigns == () for k in events_to_enable([]))


def test_the_hook_calls_share_the_helper_and_the_fake_answers_them_as_fineract(fineract: FakeFineractApi) -> None:
    url = payload_url("https://herald.mfi.example", "s3cret")
    assert register(fineract.url, "default", "mifos", "password", hook_request(url)) == {"resourceId": 1}
    events = registered_events(fineract.url, "default", "mifos", "password", url)
    assert events == set(HOOK_EVENTS)
    with pytest.raises(HeraldError, match=r"refused to list its hooks \(401\)"):
        registered_events(fineract.url, "default", "mifos", "wrong", url)
    with pytest.raises(HeraldError, match=r"refused the hook \(401\): Unauthenticated"):
        register(fineract.url, "default", "mifos", "wrong", hook_request(url))
    assert len(fineract.hooks) == 1
