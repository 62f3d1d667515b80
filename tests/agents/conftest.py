"""A small OpenAI-compatible server for the tests, and the agents and prices they use.

The server runs in a thread on 127.0.0.1 (free port) and answers POST /v1/chat/completions from a script: a
function of (request body, request number) returning (status, body, headers). Every request is recorded, so tests
see exactly what the official SDK sent, retries included.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agents.models import Agent, ModelPrice

Reply = tuple[int, dict[str, Any], dict[str, str]]


def completion(
    *, content: str = "", calls: list[tuple[str, dict]] | None = None, prompt_tokens: int = 1000,
    completion_tokens: int = 500, cached_tokens: int = 0, model: str = "test-model", call_ids: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Return a chat.completion body as OpenAI sends it."""
    tool_calls = [
        {"id": (call_ids or [])[i] if call_ids else f"call_{i}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(calls or [])
    ]  # fmt: skip
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.script: Callable[[dict[str, Any], int], Reply] = lambda body, n: (200, completion(content="Done."), {})
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                with fake.lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    number = len(fake.requests)
                status, reply, headers = fake.script(body, number)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_openai(settings):
    """Start the fake server and point the openai provider at it (no retries unless a test asks)."""
    with FakeOpenAI() as server:
        settings.LLM_PROVIDER = "openai"
        settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
        settings.OPENAI_BASE_URL = server.url
        settings.LLM_MAX_RETRIES = 0
        settings.LLM_TIMEOUT_S = 10
        yield server


@pytest.fixture
def test_price(db):
    """test-model: $1 input, $0.50 cached input, $2 output per million tokens."""
    return ModelPrice.objects.create(
        model="test-model",
        provider="openai",
        input_per_mtok=Decimal("1.00"),
        cached_input_per_mtok=Decimal("0.50"),
        output_per_mtok=Decimal("2.00"),
        effective_from=date(2024, 1, 1),
    )


@pytest.fixture
def tester(db, test_price):
    """An active agent on test-model with every tool, 100 output tokens and 5 turns."""
    return Agent.objects.create(
        slug="tester",
        name="Tester",
        role="Runs test missions.",
        status=Agent.Status.ACTIVE,
        model="test-model",
        system_prompt="You test things.",
        tools=["spot_prices", "catalog_search", "mesh_verify"],
        max_tokens=100,
        max_turns=5,
    )


@pytest.fixture
def seeded():
    """Seed agents and prices again: transaction=True tests flush the data the migration seeded."""
    import importlib

    from django.apps import apps

    importlib.import_module("agents.migrations.0002_seed_agents_and_prices").seed(apps, None)
