"""The LLM layer: one interface (:class:`Provider`), the ``offline`` and ``openai`` providers, and replay.

``provider_configured()`` picks the provider from settings: ``DREAMNET_LLM_PROVIDER=auto`` (the default) means
``openai`` when ``OPENAI_API_KEY`` is set and ``offline`` otherwise. An agent whose model is ``loom:<blake3>`` runs
on the ``loom`` provider (a model trained on this node) whatever the setting. Settings are read when called, never at
import, so the pure modules here (base, offline, pricing, openai_provider) work without Django.
"""

from __future__ import annotations

from agents.llm.base import LlmError, LlmRequest, LlmResponse, Provider, ToolCall, Usage, canonical

__all__ = [
    "CassetteProvider",
    "LlmError",
    "LlmRequest",
    "LlmResponse",
    "Provider",
    "ToolCall",
    "Usage",
    "canonical",
    "provider_configured",
    "provider_name_configured",
]


def provider_name_configured() -> str:
    """Return ``openai`` or ``offline`` as the settings select."""
    from django.conf import settings

    if settings.LLM_PROVIDER == "auto":
        return "openai" if settings.OPENAI_API_KEY else "offline"
    return settings.LLM_PROVIDER


def provider_configured(name: str | None = None) -> Provider:
    """Return the provider ``name`` (default: the configured one), built from settings."""
    from django.conf import settings

    name = name or provider_name_configured()
    if name == "offline":
        from agents.llm.offline import OfflineProvider

        return OfflineProvider()
    if name == "loom":
        from agents.llm.loom_provider import LoomProvider

        return LoomProvider(loader=loom_checkpoint)
    if name == "openai":
        if not settings.OPENAI_API_KEY:
            raise LlmError("The openai provider needs OPENAI_API_KEY (or OPENAI_API_KEY_FILE).")
        from agents.llm.openai_provider import OpenAIProvider

        return OpenAIProvider(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL,
            timeout_s=settings.LLM_TIMEOUT_S,
            max_retries=settings.LLM_MAX_RETRIES,
        )
    raise LlmError(f"Unknown LLM provider {name!r}; use offline, openai or loom.")


def loom_checkpoint(model: str):
    """Return the verified checkpoint of the Loom model ``loom:<blake3>`` stored on this node, or raise LoomError."""
    from compute.loom import LoomError, unpack
    from compute.loom.checkpoint import MEDIA_TYPE
    from mesh.models import Artifact
    from mesh.services import artifact_read

    digest = model.removeprefix("loom:")
    artifact = Artifact.objects.filter(blake3=digest, media_type=MEDIA_TYPE).first() if digest else None
    if artifact is None:
        raise LoomError("unknown_model", f"No Loom model {model!r} on this node; train one with an lm_train job.")
    return unpack(artifact_read(artifact))


class CassetteProvider:
    """Answer each call from a recorded cassette, in order, after checking it is the call that was recorded.

    ``recorded`` is a list of ``(request_digest, response_json)``. A request whose digest differs from the
    recording, or a call past its end, raises :class:`LlmError`: the replay has diverged.
    """

    name = "cassette"

    def __init__(self, recorded: list[tuple[str, dict]]) -> None:
        self.recorded = recorded
        self.position = 0

    def complete(self, request: LlmRequest) -> LlmResponse:
        if self.position >= len(self.recorded):
            raise LlmError(
                f"The cassette holds {len(self.recorded)} calls; the replay asked for call {self.position + 1}."
            )
        digest, response = self.recorded[self.position]
        if request.digest() != digest:
            raise LlmError(
                f"Call {self.position + 1} differs from the recording (request digest {request.digest()[:12]}… "
                f"against {digest[:12]}…)."
            )
        self.position += 1
        return LlmResponse.from_json(response)
