"""Static bearer-token guard for the streamable HTTP transport (plain ASGI, wraps the SDK's Starlette app).

Every HTTP request must carry ``Authorization: Bearer <token>`` (the scheme name is case-insensitive,
RFC 7235; the token is compared exactly, in constant time); anything else gets 401 with a
``WWW-Authenticate: Bearer`` header and a JSON body saying what is expected. Lifespan events pass through.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

TOKEN_ENV = "KERNEL_SKILLS_TOKEN"

Scope = dict[str, Any]
Receive = Any
Send = Any


class BearerTokenGuard:
    def __init__(self, app: Any, token: str) -> None:
        if not token:
            raise ValueError("BearerTokenGuard needs a non-empty token")
        self.app = app
        self._expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps(
            {
                "error": "unauthorized",
                "message": (
                    "missing or wrong bearer token: send the header 'Authorization: Bearer <token>' with the "
                    f"token the server was started with (environment variable {TOKEN_ENV})"
                ),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="kernel-skills"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _authorized(self, scope: Scope) -> bool:
        for key, value in scope.get("headers", ()):
            if key == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                token = credentials.lstrip(b" ")  # RFC 7235: 1*SP after the scheme
                return scheme.lower() == b"bearer" and hmac.compare_digest(token, self._expected)
        return False
