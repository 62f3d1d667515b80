"""The provider interface: one request shape, one response shape, one error.

Pure module: imports nothing from Django. Messages and tools use the OpenAI chat-completions JSON shapes, which
every OpenAI-compatible server (Ollama, vLLM, llama.cpp) also speaks, so a request is plain JSON that can be
digested, stored in the cassette and replayed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    def as_message_part(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": canonical(self.arguments)},
        }


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class LlmRequest:
    """What a mission asks of a model. ``max_tokens`` bounds the output and so the worst-case cost."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int = 1024
    temperature: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": self.messages,
            "tools": self.tools,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def digest(self) -> str:
        """Return the SHA-256 of the canonical request JSON (the cassette's key for "the same call")."""
        return hashlib.sha256(canonical(self.as_json()).encode()).hexdigest()

    def prompt_token_bound(self) -> int:
        """Return an upper bound on the prompt's tokens: its UTF-8 byte count as canonical JSON.

        Byte-level BPE tokenizers emit at least one byte per token, and the JSON keys and quotes more than cover
        the per-message chat framing, so this never undercounts; the budget reserves against it.
        """
        return len(canonical({"messages": self.messages, "tools": self.tools}).encode())


@dataclass(frozen=True)
class LlmResponse:
    provider: str
    model: str
    content: str
    tool_calls: list[ToolCall]
    usage: Usage
    finish_reason: str = "stop"

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "content": self.content,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls],
            "usage": {
                "input_tokens": self.usage.input_tokens,
                "cached_input_tokens": self.usage.cached_input_tokens,
                "output_tokens": self.usage.output_tokens,
            },
            "finish_reason": self.finish_reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LlmResponse:
        usage = data.get("usage") or {}
        return cls(
            provider=data["provider"],
            model=data["model"],
            content=data.get("content") or "",
            tool_calls=[ToolCall(c["id"], c["name"], c["arguments"]) for c in data.get("tool_calls") or []],
            usage=Usage(
                input_tokens=usage.get("input_tokens", 0),
                cached_input_tokens=usage.get("cached_input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
            ),
            finish_reason=data.get("finish_reason") or "stop",
        )

    def assistant_message(self) -> dict[str, Any]:
        """Return the response as the chat message that goes back into the next request."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [call.as_message_part() for call in self.tool_calls]
        return message


class LlmError(Exception):
    """The provider failed for good (after its retries); the message is the provider's, safe to show."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Provider(Protocol):
    name: str

    def complete(self, request: LlmRequest) -> LlmResponse: ...


def canonical(value: Any) -> str:
    """Return ``value`` as canonical JSON text (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
