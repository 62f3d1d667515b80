"""Running a mission: durable, resumable turns, runner kinds, the budgeted LLM call, steps, the finish.

A run is a sequence of turns. Each LLM call is reserved against the budget, made outside any transaction,
then recorded in the cassette (``LlmCall``, unique per mission and sequence number) together with its
settlement; each turn is stored as a ``MissionStep`` when its tools have answered. A run that starts again
after a crash rebuilds the conversation from the stored steps and takes a call that was recorded but not yet
stepped from the cassette instead of the network, so no call is ever made twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from agents import engine
from agents.budget import budget_reserve, budget_settle, budget_settle_abandoned
from agents.errors import BudgetRefused, UnpricedModel
from agents.foundry.collect import mission_ended
from agents.kinds import Outcome, runner_for
from agents.llm import LlmError, LlmRequest, LlmResponse, Provider, canonical, provider_configured
from agents.llm.pricing import call_cost
from agents.models import BudgetEntry, LlmCall, Mission, MissionStep
from agents.selectors import tools_for
from agents.services.common import RECEIPT_STATUS, ZERO, enqueue_after_commit, mission_payload
from agents.tools import tool_run
from mesh import publish, publish_on_commit

logger = logging.getLogger(__name__)


def _claim(mission_id: int) -> Mission | None:
    """Take the mission for this worker: None when it ended, awaits approval, or another live worker holds it.

    The locked read also says whether the mission has stored steps (``has_steps``) and open reservations
    (``has_open_reservations``), so a first run looks for neither. Seals ``mission.started`` (or ``.resumed``) as
    the transaction's last write: the claim and its event commit together."""
    now = timezone.now()
    with transaction.atomic():
        mission = (
            Mission.objects.select_for_update(of=("self",))  # the mission's row only, not its agent's
            .select_related("agent")
            .annotate(
                has_steps=Exists(MissionStep.objects.filter(mission=OuterRef("pk"))),
                has_open_reservations=Exists(
                    BudgetEntry.objects.filter(mission=OuterRef("pk"), status=BudgetEntry.Status.RESERVED)
                ),
            )
            .filter(pk=mission_id)
            .first()
        )
        if mission is None or mission.is_terminal or mission.status == Mission.Status.AWAITING_APPROVAL:
            return None
        if mission.status == Mission.Status.RUNNING and mission.lease_until and mission.lease_until > now:
            return None
        resumed = mission.status == Mission.Status.RUNNING
        mission.status = Mission.Status.RUNNING
        mission.started_at = mission.started_at or now
        mission.attempts += 1
        mission.lease_until = now + timedelta(seconds=settings.MISSION_LEASE_S)
        mission.save(update_fields=["status", "started_at", "attempts", "lease_until", "updated_at"])
        publish("mission.resumed" if resumed else "mission.started", mission_payload(mission, attempt=mission.attempts))
    return mission


def _stored_turns(mission: Mission) -> list[engine.Turn]:
    if not mission.has_steps:  # read by the claim
        return []
    return [engine.Turn.from_json(step.output) for step in mission.steps.order_by("number")]


def _call(mission: Mission, provider: Provider, seq: int, turns: list[engine.Turn]) -> tuple[LlmResponse, LlmCall]:
    """Make (or take from the cassette) turn ``seq`` of a task or brief mission; return the response and its row."""
    agent = mission.agent
    temperature = float(agent.temperature) if agent.temperature is not None else None

    def build(model: str) -> LlmRequest:
        return engine.request_for(
            model=model,
            system=agent.system_prompt,
            user=engine.user_prompt(mission.kind, mission.input),
            turns=turns,
            tools=tools_for(agent=agent, kind=mission.kind),
            max_tokens=agent.max_tokens,
            temperature=temperature,
        )

    return _llm_call(mission, provider, seq, build)


def mission_llm_call(
    *, mission: Mission, provider: Provider, seq: int, build: Callable[[str], LlmRequest]
) -> LlmResponse:
    """Make LLM call ``seq`` of ``mission`` under the budget, or take it from the cassette when it was made
    before a crash; return its response.

    ``build(model)`` returns the request for a model (the mission's, or the agent's fallback past the soft
    limit). The call is reserved against the month's budget before it is made and recorded with its settlement
    after, so it is never made twice and never costs more than the caps allow. Runner kinds number their calls
    themselves (1, 2, ... in a fixed order) so that a resumed run asks for the same ``seq`` again.

    Raises BudgetRefused/UnpricedModel (nothing was called) or LlmError (recorded as an error call).
    """
    response, _row = _llm_call(mission, provider, seq, build)
    return response


def _llm_call(
    mission: Mission, provider: Provider, seq: int, build: Callable[[str], LlmRequest]
) -> tuple[LlmResponse, LlmCall]:
    """mission_llm_call, also returning the call's cassette row (a step links to it)."""
    agent = mission.agent
    recorded = LlmCall.objects.filter(mission=mission, seq=seq).first()
    if recorded is not None:  # made before a crash, not yet stepped: never call again
        if recorded.status == LlmCall.Status.ERROR:
            raise LlmError(recorded.error)
        return LlmResponse.from_json(recorded.response), recorded

    draft = build(mission.model)
    fallback = agent.fallback_model if mission.provider not in ("offline", "loom") else ""
    reservation = budget_reserve(
        mission=mission,
        model=mission.model,
        fallback_model=fallback,
        prompt_tokens=draft.prompt_token_bound(),
        max_tokens=draft.max_tokens,
    )
    request = build(reservation.entry.model) if reservation.switched_to_fallback else draft
    if reservation.switched_to_fallback:
        publish_on_commit(
            "mission.model_switched", mission_payload(mission, model=reservation.entry.model, reason="soft_limit")
        )
    started = time.monotonic()
    try:
        response = provider.complete(request)
    except LlmError as exc:
        with transaction.atomic():
            budget_settle(entry=reservation.entry, cost=ZERO, note="provider error")
            LlmCall.objects.create(
                mission=mission, seq=seq, provider=provider.name, model=request.model, request=request.as_json(),
                request_blake3=request.digest(), status=LlmCall.Status.ERROR, error=str(exc)[:2000],
                latency_ms=int((time.monotonic() - started) * 1000),
            )  # fmt: skip
        raise
    latency_ms = int((time.monotonic() - started) * 1000)
    cost = call_cost(response.usage, reservation.price)
    with transaction.atomic():
        budget_settle(entry=reservation.entry, cost=cost)
        call = LlmCall.objects.create(
            mission=mission,
            seq=seq,
            provider=provider.name,
            model=request.model,
            request=request.as_json(),
            request_blake3=request.digest(),
            response=response.as_json(),
            status=LlmCall.Status.OK,
            input_tokens=response.usage.input_tokens,
            cached_input_tokens=response.usage.cached_input_tokens,
            output_tokens=response.usage.output_tokens,
            latency_ms=latency_ms,
            cost_usd=cost,
        )
        if cost:  # an offline or Loom call costs nothing
            Mission.objects.filter(pk=mission.pk).update(cost_usd=F("cost_usd") + cost)
    return response, call


def _step_store(mission: Mission, seq: int, turn: engine.Turn, call: LlmCall, started) -> MissionStep:
    return mission_step_add(
        mission=mission,
        number=seq,
        summary=engine.summary_of(turn.response),
        output=turn.as_json(),
        started=started,
        llm_call=call,
        progress=min(99, seq * 100 // max(1, mission.agent.max_turns)),
    )


def mission_step_add(
    *,
    mission: Mission,
    number: int,
    summary: str,
    output: dict[str, Any],
    started,
    progress: int,
    llm_call_seq: int | None = None,
    llm_call: LlmCall | None = None,
    cost_usd: Decimal | None = None,
) -> MissionStep:
    """Store finished step ``number`` of ``mission`` (once: the number is unique per mission), move its progress
    to ``progress`` percent (at most 99 until it finishes), renew its lease and seal ``mission.step.finished``
    in the same transaction (its last write). Refreshes ``mission.turns``, ``.progress``, ``.cost_usd`` and
    ``.cancel_requested`` from the row, so a runner can check for a cancel without another query.

    ``llm_call_seq`` links the step to the cassette's call of that number (its cost becomes the step's cost), or
    ``llm_call`` to that row when the caller has it; ``cost_usd`` is the cost of a step whose call is not an LLM
    call (a media call the runner settled itself).
    """
    call = llm_call
    if call is None and llm_call_seq is not None:
        call = LlmCall.objects.get(mission=mission, seq=llm_call_seq)
    progress = max(0, min(99, progress))
    now = timezone.now()
    with transaction.atomic():
        step = MissionStep.objects.create(
            mission=mission,
            number=number,
            llm_call=call,
            summary=summary[:200],
            output=output,
            cost_usd=call.cost_usd if call else (cost_usd or ZERO),
            started_at=started,
            finished_at=now,
        )
        Mission.objects.filter(pk=mission.pk).update(
            turns=number,
            progress=progress,
            lease_until=now + timedelta(seconds=settings.MISSION_LEASE_S),
            updated_at=now,
        )
        mission.turns, mission.progress = number, progress
        mission.refresh_from_db(fields=["cost_usd", "cancel_requested"])
        publish(
            "mission.step.finished",
            mission_payload(
                mission,
                step=number,
                summary=step.summary,
                step_cost_usd=str(step.cost_usd),
                cost_usd=str(mission.cost_usd),
                progress=progress,
            ),
        )
    return step


def mission_run(*, mission_id: int, provider: Provider | None = None) -> Mission | None:
    """Run (or resume) the mission until it ends; return it, or None when this worker may not run it.

    Safe to call any number of times and from several workers: a claimed lease keeps it to one worker at a
    time, finished steps are never redone and recorded calls never repeated. Every way out ends the mission
    with a stop reason; an unexpected exception ends it with ``error`` rather than leaving it hung.
    """
    mission = _claim(mission_id)
    if mission is None:
        return None
    try:
        if mission.has_open_reservations:  # left by a worker that died during its call (read by the claim)
            budget_settle_abandoned(mission=mission)
        if mission.kind in (Mission.Kind.TASK, Mission.Kind.BRIEF):
            return _run_turns(mission, provider or provider_configured(mission.provider))
        if provider is None and not hasattr(runner_for(mission.kind), "provider"):  # media kinds call no LLM
            provider = provider_configured(mission.provider)
        return _run_runner(mission, provider)
    except Exception as exc:
        logger.exception("Mission %s failed", mission_id)
        return mission_finish(
            mission=mission,
            status=Mission.Status.FAILED,
            reason=Mission.StopReason.ERROR,
            error=f"{type(exc).__name__}: {exc}",
        )


def _run_turns(mission: Mission, provider: Provider) -> Mission:
    """Take turns until the model answers or a limit stops it. ``mission.cancel_requested`` is as read by the claim
    and then by each stored step (mission_step_add), so a cancel is honoured between turns; the lease is renewed
    by the claim and by each step."""
    agent = mission.agent
    turns = _stored_turns(mission)
    while True:
        if mission.cancel_requested:
            return _end(
                mission, turns, Mission.Status.CANCELLED, Mission.StopReason.CANCELLED, "Cancelled by an operator."
            )
        if timezone.now() - mission.started_at > timedelta(seconds=settings.MISSION_TIMEOUT_S):
            return _end(
                mission, turns, Mission.Status.STOPPED, Mission.StopReason.TIMEOUT,
                f"Ran longer than {settings.MISSION_TIMEOUT_S} s (DREAMNET_MISSION_TIMEOUT_S).",
            )  # fmt: skip
        if len(turns) >= agent.max_turns:
            return _end(
                mission, turns, Mission.Status.STOPPED, Mission.StopReason.MAX_TURNS,
                f"Used all {agent.max_turns} turns without a final answer.",
            )  # fmt: skip
        seq = len(turns) + 1
        started = timezone.now()
        try:
            response, call = _call(mission, provider, seq, turns)
        except (BudgetRefused, UnpricedModel) as exc:
            return _end(mission, turns, Mission.Status.STOPPED, Mission.StopReason.BUDGET, str(exc))
        except LlmError as exc:
            return _end(mission, turns, Mission.Status.FAILED, Mission.StopReason.ERROR, f"Provider error: {exc}")
        repeated = engine.repeated_call(turns, response)
        results = [] if repeated else _run_tools(response)
        turn = engine.Turn(response, results)
        _step_store(mission, seq, turn, call, started)
        turns.append(turn)
        if repeated is not None:
            return _end(
                mission, turns, Mission.Status.STOPPED, Mission.StopReason.LOOP,
                f"The agent called {repeated.name} with the same arguments {engine.LOOP_REPEATS} times "
                f"({canonical(repeated.arguments)[:200]}).",
            )  # fmt: skip
        if not response.tool_calls:
            return _end(mission, turns, Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED, "")


def _run_runner(mission: Mission, provider: Provider) -> Mission:
    mission.refresh_from_db(fields=["cancel_requested"])
    if mission.cancel_requested:
        return mission_finish(
            mission=mission,
            status=Mission.Status.CANCELLED,
            reason=Mission.StopReason.CANCELLED,
            error="Cancelled by an operator.",
        )
    try:
        outcome: Outcome = runner_for(mission.kind).run(mission=mission, provider=provider)
    except (BudgetRefused, UnpricedModel) as exc:
        outcome = Outcome(Mission.Status.STOPPED, Mission.StopReason.BUDGET, str(exc))
    except LlmError as exc:
        outcome = Outcome(Mission.Status.FAILED, Mission.StopReason.ERROR, f"Provider error: {exc}")
    return mission_finish(
        mission=mission,
        status=outcome.status,
        reason=outcome.reason,
        error=outcome.error,
        text=outcome.text,
        data=outcome.data,
    )


def mission_cancel_requested(*, mission: Mission) -> bool:
    """Return whether an operator asked ``mission`` to stop (runners check between steps)."""
    return Mission.objects.filter(pk=mission.pk, cancel_requested=True).exists()


def _run_tools(response: LlmResponse) -> list[dict[str, Any]]:
    return [
        {
            "tool_call_id": call.id,
            "name": call.name,
            "arguments": call.arguments,
            "result": tool_run(call.name, call.arguments),
        }
        for call in response.tool_calls
    ]


def final_text(turns: list[engine.Turn]) -> str:
    """Return the mission's output: the last thing the model wrote."""
    return next((t.response.content for t in reversed(turns) if t.response.content), "")


def _end(mission: Mission, turns: list[engine.Turn], status: str, reason: str, error: str) -> Mission:
    return mission_finish(mission=mission, status=status, reason=reason, error=error, text=final_text(turns))


def mission_finish(
    *, mission: Mission, status: str, reason: str, error: str = "", text: str = "", data: dict | None = None
) -> Mission:
    """End the mission once: store its output text as an artifact (and ``data``, a runner's structured result,
    in ``mission.output``), issue its signed receipt and seal ``mission.finished`` (both in this transaction),
    then, after commit, hand the mission to the foundry (``agents.foundry.collect.mission_ended``). Locks the
    mission row; a mission that already ended is returned unchanged (and no artifact is stored)."""
    from mesh.services import artifact_store, receipt_issue

    with transaction.atomic():
        mission = Mission.objects.select_for_update(of=("self",)).select_related("agent").get(pk=mission.pk)
        if mission.is_terminal:
            return mission
        artifact = None
        if text:
            artifact = artifact_store(
                content=text.encode(), name=f"mission-{mission.pk}.md", media_type="text/markdown"
            )
        now = timezone.now()
        calls = list(mission.llm_calls.order_by("seq").values_list("request_blake3", "status"))
        output = {"text": text, "artifact_blake3": artifact.blake3 if artifact else None} | (data or {})
        receipt = receipt_issue(
            operation="mission.run",
            subject=f"mission:{mission.pk}",
            inputs={
                "mission": mission.pk,
                "kind": mission.kind,
                "agent": mission.agent.slug,
                "agent_version": mission.agent.version,
                "input": mission.input,
                "provider": mission.provider,
                "model": mission.model,
            },
            outputs={
                "status": status,
                "stop_reason": reason,
                "error": error,
                "turns": mission.turns,
                "llm_calls": [digest for digest, _status in calls],
                "output_blake3": output["artifact_blake3"],
                **({"artifacts": [a["blake3"] for a in data["artifacts"]]} if data and data.get("artifacts") else {}),
            },
            started=mission.started_at or mission.created_at,
            finished=now,
            status=RECEIPT_STATUS[status],
            cost=mission.cost_usd,
        )
        mission.status = status
        mission.stop_reason = reason
        mission.error = error
        mission.progress = 100
        mission.finished_at = now
        mission.output = output
        mission.artifact = artifact
        mission.receipt = receipt
        mission.lease_until = None
        mission.save(
            update_fields=[
                "status", "stop_reason", "error", "progress", "finished_at", "output", "artifact", "receipt",
                "lease_until", "updated_at",
            ]
        )  # fmt: skip
        publish(
            "mission.finished",
            mission_payload(
                mission,
                stop_reason=reason,
                error=error[:500],
                cost_usd=str(mission.cost_usd),
                receipt=receipt.log_index,
            ),
        )
        ended = mission
        transaction.on_commit(lambda: _foundry_follow_up(ended))
    return mission


def _foundry_follow_up(mission: Mission) -> None:
    """Hand an ended mission to the foundry: an evaluate mission's score, its agent's mission telemetry.

    Runs after the finish commits; the mission has ended either way, so a failure is logged, not raised.
    """
    try:
        mission_ended(mission=mission)
    except Exception:
        logger.exception("Foundry could not collect mission %s", mission.pk)


def missions_recover() -> int:
    """Queue again the missions whose worker died (running, lease lapsed) or whose task was lost (queued for
    longer than a lease). Running a mission twice is harmless, so this errs on the side of queuing."""
    cutoff = timezone.now() - timedelta(seconds=settings.MISSION_LEASE_S)
    stale = Mission.objects.filter(
        status=Mission.Status.RUNNING, lease_until__lt=timezone.now()
    ) | Mission.objects.filter(status=Mission.Status.QUEUED, queued_at__lt=cutoff)
    count = 0
    for mission in stale.select_related("agent"):
        with transaction.atomic():
            enqueue_after_commit(mission)
        count += 1
    return count
