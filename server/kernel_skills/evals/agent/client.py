"""The agentic eval's endpoint: ``ChatClient`` plus OpenAI-style tool calling (``tools=[...]`` in
/chat/completions, ``tool_calls`` in the reply)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from kernel_skills.errors import EndpointError, ToolsUnsupported
from kernel_skills.evals.endpoint import ChatClient, Usage, request_body


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str  # raw, as the model wrote it


class AgentReply(BaseModel):
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None


def parse_reply(body: bytes, url: str) -> AgentReply:
    try:
        data = json.loads(body)
        message = data["choices"][0]["message"]
        if not isinstance(message, dict):
            raise TypeError("message is not an object")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise EndpointError(
            f"{url} answered something that is not a chat completion (need choices[0].message): "
            f"{body[:300]!r}"
        ) from exc
    calls = []
    for n, raw in enumerate(message.get("tool_calls") or []):
        function = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(function, dict):
            continue
        arguments = function.get("arguments", "")
        calls.append(
            ToolCall(
                id=str(raw.get("id") or f"call_{n}"),
                name=str(function.get("name") or ""),
                arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
            )
        )
    try:
        usage = Usage.model_validate(data["usage"]) if isinstance(data.get("usage"), dict) else None
    except ValidationError:
        usage = None
    content = message.get("content")
    return AgentReply(
        text=content if isinstance(content, str) else "",
        tool_calls=calls,
        usage=usage,
        finish_reason=data["choices"][0].get("finish_reason"),
    )


class ToolChatClient(ChatClient):
    """``ChatClient`` plus OpenAI-style tool calling (``tools`` in the request, ``tool_calls`` back)."""

    def chat_tools(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> AgentReply:
        body = request_body(model, messages, temperature=temperature, max_tokens=max_tokens, seed=seed)
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        response = self.post(body)
        if tools and response.status_code in (400, 404, 422, 500, 501) and "tool" in response.text.lower():
            raise ToolsUnsupported(
                f"{self.url} refused a request with tools (HTTP {response.status_code}): "
                f"{response.text[:300]} — this endpoint or model has no tool-calling support "
                "(llama.cpp's server needs --jinja)",
                status_code=response.status_code,
            )
        self.raise_for_status(response)
        return parse_reply(response.content, self.url)
