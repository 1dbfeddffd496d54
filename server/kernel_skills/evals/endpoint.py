"""A minimal client for OpenAI-compatible ``POST {base_url}/chat/completions`` endpoints (httpx).

Only the fields every compatible server understands are sent (model, messages), plus temperature,
max_tokens and seed when the caller sets them (some providers refuse one of them: leave it unset).
Rate limits and transient server errors (429, 500, 502, 503,
504) are retried a few times with exponential backoff (``Retry-After`` honoured, capped); every
other transport or HTTP failure becomes an ``EndpointError`` that names the URL and says what to
check.
"""

from __future__ import annotations

import os
import time
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError, field_validator

from kernel_skills.errors import EndpointError, RefusedInput

DEFAULT_BASE_URL = "https://api.openai.com/v1"
BASE_URL_ENV = "OPENAI_BASE_URL"
API_KEY_ENV = "OPENAI_API_KEY"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_WAIT_S = 30.0


class Usage(BaseModel):
    """Token counts as the endpoint reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @field_validator("prompt_tokens", "completion_tokens", "total_tokens", mode="before")
    @classmethod
    def _null_is_zero(cls, value: object) -> object:
        return 0 if value is None else value

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class ChatReply(BaseModel):
    text: str
    usage: Usage | None = None
    finish_reason: str | None = None


class _Message(BaseModel):
    content: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Completion(BaseModel):
    choices: list[_Choice]
    usage: Usage | None = None


def resolve_base_url(base_url: str | None) -> str:
    """--base-url, else $OPENAI_BASE_URL, else the OpenAI API. Must be http(s)."""
    url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise RefusedInput(
            f"base URL {url!r} is not an http(s) URL; accepted: e.g. http://127.0.0.1:8000/v1 "
            f"or {DEFAULT_BASE_URL} (from --base-url or ${BASE_URL_ENV})"
        )
    return url


class ChatClient:
    """Sends one chat completion at a time; safe to share between threads (httpx.Client is).

    ``post`` (the one retry loop) and ``raise_for_status`` are the hooks a client that sends other
    bodies (the agentic eval's tool calls) builds on.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        retries: int = 2,
        backoff_s: float = 1.0,
    ):
        self.base_url = resolve_base_url(base_url)
        self.retries = retries
        self.backoff_s = backoff_s
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.url = f"{self.base_url}/chat/completions"
        self._http = httpx.Client(headers=headers, timeout=timeout_s)

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def chat(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> ChatReply:
        body = request_body(model, messages, temperature=temperature, max_tokens=max_tokens, seed=seed)
        response = self.post(body)
        self.raise_for_status(response)
        return self._parse(response)

    def post(self, body: dict[str, Any]) -> httpx.Response:
        """POST ``body``, retrying a rate limit or a transient server error; the last response."""
        for attempt in range(self.retries + 1):
            response = self._post_once(body)
            if response.status_code not in RETRY_STATUSES or attempt == self.retries:
                break
            time.sleep(self._wait_s(response, attempt))
        return response

    def raise_for_status(self, response: httpx.Response) -> None:
        """An ``EndpointError`` carrying the status for an HTTP error response; nothing otherwise."""
        if response.status_code < 400:
            return
        hint = {
            401: " (check $OPENAI_API_KEY)",
            403: " (check $OPENAI_API_KEY)",
            404: " (check --base-url: the API root, e.g. http://127.0.0.1:8000/v1, and --model)",
        }.get(response.status_code, "")
        raise EndpointError(
            f"{self.url} answered HTTP {response.status_code}{hint}: {response.text[:500]}",
            status_code=response.status_code,
        )

    def _wait_s(self, response: httpx.Response, attempt: int) -> float:
        wait = self.backoff_s * 2**attempt
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.replace(".", "", 1).isdigit():
            wait = max(wait, float(retry_after))
        return min(wait, MAX_RETRY_WAIT_S)

    def _post_once(self, body: dict[str, Any]) -> httpx.Response:
        try:
            return self._http.post(self.url, json=body)
        except httpx.TimeoutException as exc:
            raise EndpointError(
                f"{self.url} did not answer in time ({exc!r}); raise --timeout", timed_out=True
            ) from exc
        except httpx.HTTPError as exc:
            raise EndpointError(
                f"cannot reach {self.url}: {exc!r}. Check --base-url / ${BASE_URL_ENV} and that the "
                "server is running"
            ) from exc

    def _parse(self, response: httpx.Response) -> ChatReply:
        try:
            completion = _Completion.model_validate_json(response.content)
        except ValidationError as exc:
            raise EndpointError(
                f"{self.url} answered something that is not a chat completion "
                f"(need choices[0].message.content): {response.text[:300]}"
            ) from exc
        if not completion.choices:
            raise EndpointError(f"{self.url} answered a chat completion with no choices")
        choice = completion.choices[0]
        return ChatReply(
            text=choice.message.content or "", usage=completion.usage, finish_reason=choice.finish_reason
        )


def request_body(
    model: str,
    messages: list[dict[str, Any]],
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The fields every compatible server understands, and the sampling options that are set."""
    body: dict[str, Any] = {"model": model, "messages": messages}
    optional = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
    body.update({k: v for k, v in optional.items() if v is not None})
    return body
