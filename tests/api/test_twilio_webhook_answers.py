"""What herald answers Twilio's webhooks: empty TwiML for an incoming SMS (else Twilio logs 12300), refusals kept."""

from __future__ import annotations

from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.providers.twilio import signature
from herald.store.tables import opt_outs
from tests.api.conftest import TWILIO_TOKEN

URL = "https://herald.example.org/webhooks/twilio-ke"
ACCOUNT = "AC" + "0" * 32


def _inbound(text: str, sender: str = "+254712345678") -> list[tuple[str, str]]:
    """The form Twilio posts to a number's incoming-message webhook."""
    sid = "SM" + "cd" * 16
    return [
        ("ToCountry", "KE"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", text),
        ("To", "+254700000001"),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT),
        ("From", sender),
        ("ApiVersion", "2010-04-01"),
    ]


def _post(client: TestClient, params: list[tuple[str, str]], sign: str | None = None) -> httpx.Response:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign if sign is not None else signature(TWILIO_TOKEN, URL, params),
    }
    response: httpx.Response = client.post("/webhooks/twilio-ke", content=urlencode(params), headers=headers)
    return response


def test_an_incoming_sms_is_answered_with_empty_twiml_as_text_xml(client: TestClient, herald: Herald) -> None:
    response = _post(client, _inbound("STOP"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "text/xml"
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response" and len(root) == 0 and not (root.text or "").strip()  # no reply is sent
    with herald.store.connect() as conn:  # answered only once kept: the STOP is on the opt-out list
        assert conn.execute(select(opt_outs.c.number)).scalars().all() == ["+254712345678"]


def test_an_ordinary_reply_gets_the_same_empty_twiml(client: TestClient) -> None:
    response = _post(client, _inbound("Asante, nitalipa kesho"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert ElementTree.fromstring(response.content).tag == "Response"


def test_a_status_callback_is_still_answered_200(client: TestClient) -> None:
    sid = "SM" + "ef" * 16
    params = [("MessageSid", sid), ("SmsSid", sid), ("MessageStatus", "delivered"), ("AccountSid", ACCOUNT)]
    response = _post(client, params)
    assert response.status_code == 200, response.text


def test_a_forged_incoming_sms_is_refused_403_not_answered_with_twiml(client: TestClient, herald: Herald) -> None:
    response = _post(client, _inbound("STOP"), sign="Zm9yZ2VkLXNpZ25hdHVyZS0xMjM0NTY=")
    assert response.status_code == 403
    assert not response.headers["content-type"].startswith("text/xml")
    with herald.store.connect() as conn:
        assert conn.execute(select(opt_outs.c.number)).scalars().all() == []


def test_an_incoming_sms_without_a_body_is_refused_400(client: TestClient) -> None:
    params = [(k, v) for k, v in _inbound("x") if k != "Body"]
    assert _post(client, params).status_code == 400


def test_an_incoming_sms_twilio_sends_as_a_get_is_kept_and_answered_with_twiml(
    client: TestClient, herald: Herald
) -> None:
    """A number's "A message comes in" webhook may be set to HTTP GET: the parameters come in the query
    string, and Twilio signs the full URL with nothing appended."""
    query = urlencode(_inbound("STOP", sender="+254712345679"))
    sign = signature(TWILIO_TOKEN, f"{URL}?{query}", [])
    response = client.get(f"/webhooks/twilio-ke?{query}", headers={"X-Twilio-Signature": sign})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "text/xml"
    assert ElementTree.fromstring(response.content).tag == "Response"
    with herald.store.connect() as conn:
        assert conn.execute(select(opt_outs.c.number)).scalars().all() == ["+254712345679"]
    forged = client.get(f"/webhooks/twilio-ke?{query}", headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert forged.status_code == 403
    assert client.get("/webhooks/twilio-ke").status_code == 200  # the reachability check stays
