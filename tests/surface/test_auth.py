"""The bearer guard as plain ASGI: the scheme name is case-insensitive (RFC 7235), the token exact."""

from __future__ import annotations

from typing import Any

import pytest

from kernel_skills.surface.auth import BearerTokenGuard

pytestmark = pytest.mark.anyio
TOKEN = "s3cret-token-0123"


async def _status(authorization: bytes | None) -> tuple[int, dict[bytes, bytes]]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    headers = [] if authorization is None else [(b"authorization", authorization)]
    await BearerTokenGuard(app, TOKEN)({"type": "http", "headers": headers}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"])


@pytest.mark.parametrize("scheme", [b"Bearer", b"bearer", b"BEARER", b"bEaReR"])
async def test_the_bearer_scheme_is_accepted_in_any_case(scheme: bytes) -> None:
    assert (await _status(scheme + b" " + TOKEN.encode()))[0] == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        b"Bearer",
        b"Bearer ",
        b"Bearer wrong",
        b"Bearer " + TOKEN.upper().encode(),  # the token itself is case-sensitive
        b"Basic " + TOKEN.encode(),
        b"Bearer" + TOKEN.encode(),
        TOKEN.encode(),
        b"Bearer " + TOKEN.encode() + b" extra",
    ],
)
async def test_anything_but_the_exact_token_gets_401_with_a_bearer_challenge(
    authorization: bytes | None,
) -> None:
    status, headers = await _status(authorization)
    assert status == 401
    assert headers[b"www-authenticate"].startswith(b"Bearer")
