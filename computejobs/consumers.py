"""/ws/loom/: chat with a Loom model; the reply streams one character at a time. Operators only."""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from compute.loom import LoomError, generate_stream
from compute.loom.train import encode

MAX_CHAT_TOKENS = 1000


def chat_options(content: dict) -> dict:
    """The generation options a chat message asks for, checked; raise LoomError ``bad_request``."""
    try:
        options = {
            "max_tokens": int(content.get("max_tokens", 200)),
            "temperature": float(content.get("temperature", 0.8)),
            "top_k": int(content.get("top_k", 0)),
            "top_p": float(content.get("top_p", 1.0)),
            "seed": int(content.get("seed", 0)),
        }
    except (TypeError, ValueError) as exc:
        raise LoomError(
            "bad_request", f"max_tokens, top_k and seed are integers; temperature and top_p numbers: {exc}"
        ) from exc
    if not 1 <= options["max_tokens"] <= MAX_CHAT_TOKENS:
        raise LoomError("bad_request", f"max_tokens must be between 1 and {MAX_CHAT_TOKENS}.")
    if not (0 <= options["temperature"] <= 5 and options["top_k"] >= 0 and 0.01 <= options["top_p"] <= 1):
        raise LoomError("bad_request", "temperature is 0 to 5, top_k 0 or more, top_p 0.01 to 1.")
    return options


class LoomChatConsumer(AsyncJsonWebsocketConsumer):
    """Receive ``{"model": "loom:<blake3>", "prompt": ..., "max_tokens", "temperature", "top_k", "top_p", "seed"}``;
    send ``{"type": "start", "model", "name"}``, one ``{"type": "token", "text"}`` per character, then
    ``{"type": "done", "tokens"}``, or ``{"type": "error", "code", "detail"}``."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close(code=4403)
            return
        self.busy = False
        await self.accept()

    async def receive_json(self, content, **kwargs) -> None:
        if self.busy:
            await self.send_json({"type": "error", "code": "busy", "detail": "A reply is still streaming."})
            return
        self.busy = True
        try:
            await self._reply(content if isinstance(content, dict) else {})
        except LoomError as exc:
            await self.send_json({"type": "error", "code": exc.code, "detail": str(exc)})
        finally:
            self.busy = False

    async def _reply(self, content: dict) -> None:
        from computejobs.loom import checkpoint_load

        options = chat_options(content)
        checkpoint = await database_sync_to_async(checkpoint_load)(str(content.get("model", "")))
        prompt = str(content.get("prompt", ""))
        encode(checkpoint, prompt)  # a prompt past the context or with unseen characters: refused before streaming
        stream = generate_stream(checkpoint, prompt, **options)
        await self.send_json({"type": "start", "model": content.get("model"), "name": checkpoint.name})
        count = 0
        while True:
            char = await asyncio.to_thread(next, stream, None)  # each character is computed off the event loop
            if char is None:
                break
            count += 1
            await self.send_json({"type": "token", "text": char})
        await self.send_json({"type": "done", "tokens": count})
