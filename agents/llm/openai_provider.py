"""The ``openai`` provider: the official SDK against api.openai.com or any OpenAI-compatible server.

Pure module: imports nothing from Django; the caller passes the configuration. The SDK retries 408, 409, 429,
5xx and connection errors with exponential back-off (honouring ``Retry-After``) up to ``max_retries`` times;
what still fails becomes :class:`LlmError` with the provider's own message.
"""

from __future__ import annotations

import json
from typing import Any

import openai

from agents.llm.base import LlmError, LlmRequest, LlmResponse, ToolCall, Usage

NAME = "openai"


class OpenAIProvider:
    name = NAME

    def __init__(self, *, api_key: str, base_url: str = "", timeout_s: float = 60, max_retries: int = 2) -> None:
        self.base_url = base_url
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=max_retries
        )

    def complete(self, request: LlmRequest) -> LlmResponse:
        params: dict[str, Any] = {"model": request.model, "messages": request.messages}
        # OpenAI's own API takes max_completion_tokens (reasoning models refuse max_tokens); compatible servers
        # (Ollama, vLLM, llama.cpp) have long read max_tokens.
        if not self.base_url or "api.openai.com" in self.base_url:
            params["max_completion_tokens"] = request.max_tokens
        else:
            params["max_tokens"] = request.max_tokens
        if request.tools:
            params["tools"] = request.tools
        if request.temperature is not None:
            params["temperature"] = request.temperature
        try:
            completion = self.client.chat.completions.create(**params)
        except openai.APIStatusError as exc:
            raise LlmError(f"{request.model}: HTTP {exc.status_code}: {_message(exc)}", status=exc.status_code) from exc
        except openai.APITimeoutError as exc:
            raise LlmError(f"{request.model}: the request timed out ({exc})") from exc
        except openai.APIConnectionError as exc:
            raise LlmError(f"{request.model}: cannot reach the provider: {exc}") from exc
        except openai.OpenAIError as exc:
            raise LlmError(f"{request.model}: {exc}") from exc
        if not completion.choices:
            raise LlmError(f"{request.model}: the provider returned no choices")
        choice = completion.choices[0]
        calls = []
        for call in choice.message.tool_calls or []:
            function = getattr(call, "function", None)
            if function is None:
                raise LlmError(f"{request.model}: unsupported tool call type {call.type!r}")
            try:
                arguments = json.loads(function.arguments or "{}")
            except ValueError as exc:
                raise LlmError(f"{request.model}: tool call {function.name!r} has arguments that are not JSON") from exc
            if not isinstance(arguments, dict):
                raise LlmError(f"{request.model}: tool call {function.name!r} arguments are not a JSON object")
            calls.append(ToolCall(call.id, function.name, arguments))
        usage = completion.usage
        if usage is None:
            raise LlmError(f"{request.model}: the response carries no token usage, so its cost is unknown")
        details = getattr(usage, "prompt_tokens_details", None)
        cached = (getattr(details, "cached_tokens", None) or 0) if details is not None else 0
        return LlmResponse(
            provider=NAME,
            model=completion.model or request.model,
            content=choice.message.content or "",
            tool_calls=calls,
            usage=Usage(
                input_tokens=usage.prompt_tokens, cached_input_tokens=cached, output_tokens=usage.completion_tokens
            ),
            finish_reason=choice.finish_reason or "stop",
        )


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return exc.message
