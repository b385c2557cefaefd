"""Security headers on every answer herald gives: nosniff, HSTS when served over HTTPS, and no caching by default.

An ASGI middleware, outermost, so even a crash's 500 and a refusal by the routing carry them.
Caching: answers hold client names, numbers and message texts, and a shared cache or the
browser's disk must keep none of them, so an answer is `Cache-Control: no-store` unless its
route says otherwise (the stylesheet and the API docs' assets, which hold nothing personal).
The UI pages' Content-Security-Policy is set where they are rendered (web/pages.py), with the
page's script nonce.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"  # a year: once a browser has seen herald over HTTPS it never tries plain HTTP


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Cache-Control", "no-store")
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)
