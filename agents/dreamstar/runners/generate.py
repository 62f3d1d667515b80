"""The ``generate`` mission: retrieve the chunks that best match the brief, write with the agent's model from
those numbered sources, keep only citations that point at them, and store the text with its citations.

One LLM call (seq 1), one step. A resumed run takes the call from the cassette and the stored generation.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils import timezone

from agents.dreamstar.compose import (
    FORMATS,
    Source,
    citations_check,
    parse_user_message,
    system_message,
    user_message,
)
from agents.errors import AgentsError
from agents.kinds import Forecast, Outcome, call_worst_usd, forecast_of
from agents.llm import LlmRequest

MAX_PROMPT_CHARS = 4000
_CHUNK_ID = re.compile(r"chunk (\d+):")


def clean(data: dict[str, Any]) -> dict[str, Any]:
    prompt = " ".join(str(data.get("prompt") or "").split())
    if not prompt:
        raise AgentsError("A generation needs a brief: what should be written?", code="prompt_required")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise AgentsError(f"The brief is at most {MAX_PROMPT_CHARS} characters.", code="input_too_large")
    fmt = str(data.get("format") or "summary")
    if fmt not in FORMATS:
        raise AgentsError(f"Format must be one of: {', '.join(FORMATS)}.", code="unknown_format")
    return {"prompt": prompt, "format": fmt}


def forecast(*, agent, data: dict[str, Any], model: str) -> Forecast:
    # The prompt holds at most TOP_K chunks of CHUNK_CHARS characters (4 bytes each at worst in UTF-8) besides
    # the brief and the instructions: a bound on the request's prompt_token_bound().
    chars = settings.DREAMSTAR_TOP_K * (settings.DREAMSTAR_CHUNK_CHARS + 600) + len(data["prompt"]) + 2000
    return forecast_of(
        model=model, calls=[call_worst_usd(model=model, prompt_tokens=4 * chars, max_tokens=agent.max_tokens)]
    )


def _request(mission, sources: list[Source], model: str) -> LlmRequest:
    agent = mission.agent
    return LlmRequest(
        model=model,
        messages=[
            {"role": "system", "content": system_message(agent.system_prompt)},
            {
                "role": "user",
                "content": user_message(prompt=mission.input["prompt"], fmt=mission.input["format"], sources=sources),
            },
        ],
        max_tokens=agent.max_tokens,
        temperature=float(agent.temperature) if agent.temperature is not None else None,
    )


def _title(chunk) -> str:
    return f"chunk {chunk.pk}: {chunk.ingestion.name}" + (f" — {chunk.heading}" if chunk.heading else "")


def _sources_of_recorded_call(mission) -> list[int] | None:
    """Return the chunk ids call 1 was given when it was made before a crash, else None."""
    recorded = mission.llm_calls.filter(seq=1).first()
    if recorded is None:
        return None
    user = next((m["content"] for m in recorded.request["messages"] if m["role"] == "user"), "")
    return [int(m.group(1)) for s in parse_user_message(user)[2] if (m := _CHUNK_ID.match(s.title))]


def run(*, mission, provider) -> Outcome:
    from agents.dreamstar.models import DreamstarChunk, DreamstarGeneration
    from agents.dreamstar.search import chunk_search
    from agents.dreamstar.services import dreamstar_generation_store
    from agents.models import Mission
    from agents.services import mission_llm_call, mission_step_add

    prompt, fmt = mission.input["prompt"], mission.input["format"]
    generation = DreamstarGeneration.objects.filter(mission=mission).first()
    if generation is None:
        started = timezone.now()
        chunk_ids = _sources_of_recorded_call(mission)
        if chunk_ids is None:  # a first run: retrieve (a resumed one reuses what the recorded call was given)
            chunk_ids = [hit.chunk.pk for hit in chunk_search(prompt, limit=settings.DREAMSTAR_TOP_K)]
        chunks = DreamstarChunk.objects.select_related("ingestion").in_bulk(chunk_ids)
        # Numbers [n] map to positions in chunk_ids, so a resumed run keeps every position; a chunk deleted
        # since can then no longer be cited.
        allowed = {n for n, pk in enumerate(chunk_ids, start=1) if pk in chunks}
        if not allowed:
            return Outcome(
                Mission.Status.FAILED, Mission.StopReason.ERROR,
                "No ingested chunk matches this brief; ingest documents about it or reword the brief.",
            )  # fmt: skip
        sources = [Source(n, _title(chunks[chunk_ids[n - 1]]), chunks[chunk_ids[n - 1]].text) for n in sorted(allowed)]
        response = mission_llm_call(
            mission=mission, provider=provider, seq=1, build=lambda model: _request(mission, sources, model)
        )
        text, cited, dropped = citations_check(response.content, allowed)
        generation = dreamstar_generation_store(
            mission=mission, prompt=prompt, fmt=fmt, text=text, sources=chunk_ids,
            citations=[chunk_ids[n - 1] for n in cited], dropped=dropped,
        )  # fmt: skip
        summary = f"wrote {len(text.split())} words citing {len(cited)} of {len(allowed)} sources"
        if dropped:
            summary += f"; dropped {len(dropped)} unknown citation(s)"
        if not mission.steps.filter(number=1).exists():
            mission_step_add(
                mission=mission, number=1, summary=summary, output={"generation": generation.pk, "dropped": dropped},
                started=started, progress=99, llm_call_seq=1,
            )  # fmt: skip
    chunks = DreamstarChunk.objects.select_related("ingestion").in_bulk(generation.sources)
    refs = [
        f"[{n}] {_title(chunks[pk])}"
        for n, pk in enumerate(generation.sources, start=1)
        if pk in chunks and pk in generation.citations
    ]
    text = generation.text + ("\n\nSources:\n" + "\n".join(refs) if refs else "")
    data = {"generation": generation.pk, "citations": generation.citations, "dropped": generation.dropped}
    error = ""
    if not generation.citations:
        error = "The text cites none of the retrieved sources."
    return Outcome(Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED, error, text, data)
