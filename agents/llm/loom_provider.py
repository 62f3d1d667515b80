"""The ``loom`` provider: a Loom model trained on this node answers agent missions, offline and free.

Pure module: imports nothing from Django; the caller passes ``loader`` (a model name such as
``loom:<blake3>`` to its checkpoint). A Loom model is a small character-level model: it continues the mission's
prompt in the style of the text it learned, calls no tools, and says so in every answer. The sampling seed is
the request's digest, so the same request always gives the same answer (replays and re-runs agree).
"""

from __future__ import annotations

from collections.abc import Callable

from agents.llm.base import LlmError, LlmRequest, LlmResponse, Usage
from compute.loom import Checkpoint, LoomError, generate

NAME = "loom"
PREFIX = "loom:"
MAX_OUTPUT_CHARS = 600
DEFAULT_TEMPERATURE = 0.8


def is_loom_model(model: str) -> bool:
    return model.startswith(PREFIX)


def label(checkpoint: Checkpoint) -> str:
    return f"[local Loom model {checkpoint.name}]"


def footer(checkpoint: Checkpoint) -> str:
    val = f", validation loss {checkpoint.best_val:.3f} nats/char" if checkpoint.best_val is not None else ""
    return (f"Written by {checkpoint.name}, a small character-level language model trained on this node "
            f"({checkpoint.config.blocks} blocks x {checkpoint.config.dim} wide, {checkpoint.step} steps{val}); "
            "no remote model was called and no tools were used.")  # fmt: skip


class LoomProvider:
    name = NAME

    def __init__(self, loader: Callable[[str], Checkpoint]) -> None:
        self.loader = loader

    def complete(self, request: LlmRequest) -> LlmResponse:
        prompt = next((str(m.get("content") or "") for m in reversed(request.messages) if m.get("role") == "user"), "")
        try:
            checkpoint = self.loader(request.model)
            temperature = DEFAULT_TEMPERATURE if request.temperature is None else float(request.temperature)
            text = generate(checkpoint, prompt, max_tokens=min(request.max_tokens, MAX_OUTPUT_CHARS),
                            temperature=temperature, seed=int(request.digest()[:8], 16))  # fmt: skip
        except LoomError as exc:
            raise LlmError(f"{request.model}: {exc.code}: {exc}") from exc
        content = f"{label(checkpoint)} {prompt}{text}\n\n{footer(checkpoint)}"
        usage = Usage(input_tokens=len(prompt), output_tokens=len(text))
        return LlmResponse(NAME, request.model, content, [], usage, "length")
