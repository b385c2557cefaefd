"""Tests' way through the confirmation step: read the confirmation page's code, post the action with it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Client, Response

_CONFIRMATION = re.compile(r'name="confirmation" value="([^"]+)"')


def confirmation_of(client: TestClient | Client, path: str) -> str:
    """The confirmation code on the page at `path` (/campaigns/{id}/activate, reactivate or resend)."""
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    found = _CONFIRMATION.search(answer.text)
    assert found, answer.text
    return found.group(1)


def confirmed_post(
    client: TestClient | Client, campaign_id: int | str, action: str, token: str, **fields: str
) -> Response:
    """Post Activate, Reactivate or Re-send as the officer's browser does after confirming."""
    path = f"/campaigns/{campaign_id}/{action}"
    code = confirmation_of(client, path)
    return client.post(path, data={"csrf_token": token, "confirmation": code, **fields})
