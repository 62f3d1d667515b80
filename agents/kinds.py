"""Mission kinds that run their own logic instead of the turn loop (evaluation, DreamStar, code generation).

``task`` and ``brief`` missions are conversations run by :mod:`agents.services`'s turn loop. Every other kind
names a *runner module* here. A runner module defines three functions:

``clean(data: dict) -> dict``
    Validate and normalise the mission input; raise :class:`agents.errors.AgentsError` (with a stable code)
    for anything a person must fix. Runs before anything is written.
``forecast(*, agent: Agent, data: dict, model: str) -> Forecast``
    The mission's worst-case cost (build it with :func:`forecast_of`); raise ``UnpricedModel`` for a model with
    no price. A runner that calls no LLM returns ``forecast_of(model=model, calls=[])``.
``run(*, mission: Mission, provider: Provider) -> Outcome``
    Do the work and say how it ended. It is called again after a crash (and must then skip what is already
    done: read the mission's stored steps, and make LLM calls only through
    :func:`agents.services.mission_llm_call`, whose cassette never repeats a call). Record progress with
    :func:`agents.services.mission_step_add`. An exception ends the mission as ``failed``/``error``.

The runner never finishes the mission itself: :func:`agents.services.mission_run` stores the Outcome's text as
the output artifact, its ``data`` in ``mission.output``, issues the receipt and publishes ``mission.finished``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

from django.conf import settings

from agents.errors import AgentsError

ZERO = Decimal(0)

# kind -> runner module. A kind whose module is missing is refused at launch with ``kind_unavailable``.
RUNNERS: dict[str, str] = {
    "evaluate": "agents.foundry.runner",
    "mutate": "agents.foundry.mutation",
    "ingest": "agents.dreamstar.runners.ingest",
    "generate": "agents.dreamstar.runners.generate",
    "codegen": "agents.codegen.runner",
    "image": "agents.media.runners.image",
    "video": "agents.media.runners.video",
    "speech": "agents.media.runners.speech",
    "transcode": "agents.media.runners.transcode",
}


@dataclass(frozen=True)
class Forecast:
    model: str
    first_call_usd: Decimal
    worst_case_usd: Decimal
    turns: int
    needs_approval: bool


def forecast_of(*, model: str, calls: list[Decimal]) -> Forecast:
    """Return the Forecast of a mission whose LLM calls cost at most ``calls`` (in order; may be empty)."""
    total = sum(calls, ZERO)
    first = calls[0] if calls else ZERO
    return Forecast(model, first, total, len(calls), total > settings.MISSION_APPROVAL_USD)


@dataclass(frozen=True)
class Outcome:
    """How a runner's mission ended. ``status``/``reason`` are Mission.Status / Mission.StopReason values."""

    status: str
    reason: str
    error: str = ""
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def call_worst_usd(*, model: str, prompt_tokens: int, max_tokens: int) -> Decimal:
    """Return the most one call to ``model`` can cost (raises UnpricedModel); for runners' forecasts."""
    from agents.budget import price_for
    from agents.llm.pricing import worst_case_cost

    return worst_case_cost(prompt_tokens=prompt_tokens, max_tokens=max_tokens, price=price_for(model))


def runner_for(kind: str) -> ModuleType:
    """Return the runner module of ``kind``, or raise AgentsError (``kind_unavailable``)."""
    path = RUNNERS.get(kind)
    if path is None:
        raise AgentsError(f"Mission kind {kind!r} has no runner.", code="kind_unavailable")
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name and path.startswith(exc.name):
            raise AgentsError(
                f"Mission kind {kind!r} is not available on this node ({path} is missing).", code="kind_unavailable"
            ) from exc
        raise
