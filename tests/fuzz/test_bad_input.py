"""Each attack input fuzzing found, on SQLite and PostgreSQL: a clear 4xx, and nothing stored changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update

from herald.domain.message import MessageStatus
from herald.services.auth import Role
from herald.store.tables import messages, parked_reports
from tests.api.conftest import campaign_body
from tests.fuzz.conftest import GATEWAY_HEADERS, HOOK_URL, INFOBIP_URL, Edge, dump

NUL = "a\x00b"
SURROGATE = "\ud800"  # json.dumps writes it as the escape "\\ud800", which json.loads turns back into a lone surrogate
LONG_ID = "x" * 500


def refused(edge: Edge, method: str, url: str, status: int | tuple[int, ...] = 400, **kwargs: Any) -> dict[str, Any]:
    """Send a request that must be refused: the status (a 4xx), herald's error shape, every table unchanged."""
    before = dump(edge.herald)
    response = edge.client.request(method, url, **kwargs)
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    assert dump(edge.herald) == before
    return dict(body["error"])


def _gateway(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "internalId": 7,
        "mobileNumber": "+254712345678",
        "message": "Your instalment is due.",
        "providerId": 1,
    } | item


def _hook(response: dict[str, Any], entity: str = "LOAN", action: str = "REPAYMENT") -> dict[str, Any]:
    return {"entityName": entity, "actionName": action, "response": response, "timestamp": "2026-11-20T07:02:51Z"}


def _infobip_report(message_id: Any, status: str = "DELIVERED_TO_HANDSET") -> dict[str, Any]:
    return {
        "messageId": message_id,
        "doneAt": "2026-11-20T07:03:00.000+0000",
        "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": status, "description": "delivered"},
        "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "permanent": False},
    }


# --- the drop-in gateway ---------------------------------------------------------------------------------------


def test_a_gateway_mobile_number_sent_as_a_json_number_is_refused(edge: Edge) -> None:
    error = refused(
        edge, "POST", "/fineract/gateway/sms", json=[_gateway({"mobileNumber": 254712345678})], headers=GATEWAY_HEADERS
    )
    assert "mobileNumber" in error["message"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_gateway_text_with_nul_or_a_lone_surrogate_is_refused(edge: Edge, bad: str) -> None:
    for item in (_gateway({"message": f"Hello {bad}"}), _gateway({"mobileNumber": f"+2547{bad}"})):
        refused(edge, "POST", "/fineract/gateway/sms", content=json.dumps([item]), headers=GATEWAY_HEADERS)


@pytest.mark.parametrize("internal", [10**30, -1, 0], ids=["huge", "negative", "zero"])
def test_a_gateway_internal_id_that_is_no_bigint_id_is_refused(edge: Edge, internal: int) -> None:
    error = refused(
        edge, "POST", "/fineract/gateway/sms", json=[_gateway({"internalId": internal})], headers=GATEWAY_HEADERS
    )
    assert "internalId" in error["message"]
    refused(edge, "POST", "/fineract/gateway/sms/report", json=[internal], headers=GATEWAY_HEADERS)


def test_a_gateway_message_longer_than_herald_keeps_is_refused(edge: Edge) -> None:
    refused(
        edge,
        "POST",
        "/fineract/gateway/sms",
        json=[_gateway({"mobileNumber": "+2547" + "1" * 100})],
        headers=GATEWAY_HEADERS,
    )


# --- JSON nested 100,000 deep, on every JSON edge ----------------------------------------------------------------


def test_json_nested_100000_deep_is_refused_everywhere(edge: Edge) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    refused(edge, "POST", "/fineract/gateway/sms", content=deep, headers=GATEWAY_HEADERS)
    refused(edge, "POST", "/fineract/gateway/sms/report", content=deep, headers=GATEWAY_HEADERS)
    refused(edge, "POST", HOOK_URL, content=deep, headers={"Content-Type": "application/json"})
    refused(edge, "POST", INFOBIP_URL, content=deep, headers={"Content-Type": "application/json"})
    refused(
        edge,
        "POST",
        "/api/v1/campaigns",
        content=deep,
        status=(400, 422),
        headers={"Content-Type": "application/json"} | edge.auth(),
    )


# --- the Fineract hook ---------------------------------------------------------------------------------------------


def test_a_hook_resource_id_of_ten_to_the_thirty_is_refused(edge: Edge) -> None:
    error = refused(edge, "POST", HOOK_URL, json=_hook({"resourceId": 10**30, "loanId": 5, "clientId": 3}))
    assert "resourceId" in error["message"]


def test_a_hook_loan_id_of_minus_one_is_refused_not_answered_503(edge: Edge) -> None:
    _triggered_campaign(edge)
    error = refused(edge, "POST", HOOK_URL, json=_hook({"resourceId": 11, "loanId": -1, "clientId": 3}))
    assert "loanId" in error["message"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_hook_names_with_nul_or_a_lone_surrogate_are_refused(edge: Edge, bad: str) -> None:
    refused(
        edge,
        "POST",
        HOOK_URL,
        content=json.dumps(_hook({"resourceId": 1}, entity=f"LOAN{bad}")),
        headers={"Content-Type": "application/json"},
    )
    refused(
        edge,
        "POST",
        HOOK_URL,
        content=json.dumps(_hook({"resourceId": 1}, action=f"REPAY{bad}")),
        headers={"Content-Type": "application/json"},
    )
    if bad == NUL:  # a header cannot carry a surrogate at all
        refused(
            edge,
            "POST",
            HOOK_URL,
            content=json.dumps(_hook({"resourceId": 1})),
            headers={"Content-Type": "application/json", "Fineract-Platform-TenantId": f"default{bad}"},
        )


# --- provider webhooks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [NUL, SURROGATE, LONG_ID], ids=["nul", "lone-surrogate", "over-long"])
def test_an_infobip_message_id_herald_cannot_keep_is_refused(edge: Edge, bad: str) -> None:
    body = json.dumps({"results": [_infobip_report(bad)]})
    refused(edge, "POST", INFOBIP_URL, content=body, headers={"Content-Type": "application/json"})


def test_one_bad_report_in_an_infobip_batch_does_not_refuse_the_good_ones(edge: Edge) -> None:
    _sent_message(edge, "infobip-ug", "ib-known-1")
    batch = {"results": [_infobip_report("ib-known-1"), _infobip_report(NUL), _infobip_report("ib-not-yet-2")]}
    response = edge.client.post(INFOBIP_URL, content=json.dumps(batch), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["reports"] == 2 and response.json()["skipped"] == 1
    with edge.herald.store.connect() as conn:
        assert conn.execute(select(messages.c.status).where(messages.c.external_id == "ib-known-1")).scalar_one() == (
            MessageStatus.DELIVERED
        )
        assert conn.execute(select(parked_reports.c.external_id)).scalars().all() == ["ib-not-yet-2"]


@pytest.mark.parametrize(
    "fields",
    [
        {"MessageSid": "SM" + "a" * 300},
        {"MessageSid": "SM\x00x"},
        {"ErrorCode": "3" * 300, "MessageStatus": "failed"},
        {"ErrorCode": "30\x0003", "MessageStatus": "failed"},
    ],
    ids=["long-sid", "nul-sid", "long-error-code", "nul-error-code"],
)
def test_a_twilio_callback_with_a_sid_or_error_code_herald_cannot_keep_is_refused(
    edge: Edge, fields: dict[str, str]
) -> None:
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32} | fields
    before = dump(edge.herald)
    response = edge.twilio(list(params.items()))
    assert response.status_code == 400, response.text
    assert dump(edge.herald) == before


# --- the REST API and the UI --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_campaign_text_with_nul_or_a_lone_surrogate_is_refused(edge: Edge, bad: str) -> None:
    for change in ({"campaignName": f"Name {bad}"}, {"message": f"Hello {bad}"}, {"providerId": f"sim{bad}"}):
        refused(
            edge,
            "POST",
            "/api/v1/campaigns",
            status=422,
            content=json.dumps(campaign_body() | change),
            headers={"Content-Type": "application/json"} | edge.auth(),
        )


def test_a_huge_office_id_is_refused(edge: Edge) -> None:
    body = campaign_body() | {"paramValue": {"officeId": str(10**30), "loanOfficerId": "-1"}}
    error = refused(edge, "POST", "/api/v1/campaigns", status=422, json=body, headers=edge.auth())
    assert error["field"] == "paramValue.officeId" or "officeId" in error["message"]
    body["paramValue"]["officeId"] = 10**30
    refused(edge, "POST", "/api/v1/campaigns", status=422, json=body, headers=edge.auth())


def test_a_40_digit_search_term_finds_nothing_instead_of_failing(edge: Edge) -> None:
    campaign = edge.client.post("/api/v1/campaigns", json=campaign_body(), headers=edge.auth()).json()
    edge.ui(Role.ADMIN)  # the one role every search term is open to
    for q in ("1" * 40, "9" * 19, "²", "١٢٣", "a\x00b"):
        response = edge.client.get(f"/campaigns/{campaign['id']}", params={"q": q})
        assert response.status_code == 200, (q, response.text[:300])


def test_an_empty_campaign_name_in_the_live_preview_still_previews(edge: Edge) -> None:
    csrf = edge.ui(Role.CAMPAIGN_MANAGER)
    form = {
        "csrf_token": csrf,
        "campaignName": "",
        "triggerType": "direct",
        "runReportId": "166",
        "param.officeId": "1",
        "param.loanOfficerId": "-1",
        "message": "Hello {{firstName}}",
    }
    response = edge.client.post("/campaigns/form-preview", data=form)
    assert response.status_code == 200, response.text[:300]
    too_long = edge.client.post("/campaigns/form-preview", data=form | {"campaignName": "n" * 500})
    assert too_long.status_code == 200, too_long.text[:300]


# --- helpers ------------------------------------------------------------------------------------------------------



def _triggered_campaign(edge: Edge) -> None:
    body = campaign_body() | {
        "campaignName": "Thanks",
        "triggerType": 3,
        "runReportId": 179,
        "paramValue": {"officeId": "-1", "loanOfficerId": "-1"},
        "message": "Thank you {{FullName}}",
    }
    created = edge.client.post("/api/v1/campaigns", json=body, headers=edge.auth())
    assert created.status_code == 201, created.text
    assert (
        edge.client.post(f"/api/v1/campaigns/{created.json()['id']}/activate", headers=edge.auth()).status_code == 200
    )


def _sent_message(edge: Edge, provider: str, external_id: str) -> None:
    """A message the provider has accepted, stored through the gateway and marked as the send job marks it."""
    accepted = edge.client.post("/fineract/gateway/sms", json=[_gateway({"internalId": 41})], headers=GATEWAY_HEADERS)
    assert accepted.status_code == 202, accepted.text
    with edge.herald.store.begin() as conn:
        conn.execute(
            update(messages).values(
                provider=provider, external_id=external_id, status=MessageStatus.WAITING_FOR_DELIVERY_REPORT
            )
        )


def test_a_page_address_with_a_bad_value_is_a_422_page_not_a_500(edge: Edge) -> None:
    edge.ui(Role.VIEWER)
    for params in ({"page": ""}, {"page": str(10**30)}, {"tab": "x" * 50}):
        response = edge.client.get("/campaigns/1", params=params)
        assert response.status_code == 422, (params, response.status_code)
        assert "not valid here" in response.text


def test_user_and_token_names_with_nul_are_refused(edge: Edge) -> None:
    refused(edge, "POST", "/api/v1/tokens", status=422, json={"username": "viewer", "name": NUL}, headers=edge.auth())
    refused(edge, "POST", "/api/v1/tokens", status=422, json={"username": NUL, "name": "x"}, headers=edge.auth())
    refused(edge, "GET", "/api/v1/users/a%00b", status=422, headers=edge.auth())
    refused(edge, "PATCH", "/api/v1/users/a%00b", status=422, json={"active": False}, headers=edge.auth())
