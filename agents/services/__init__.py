"""Mission writes: create, approve, cancel (``lifecycle``), run, finish and recover (``run``), replay (``replay``).

A run is a sequence of turns. Each LLM call is reserved against the budget, made outside any transaction,
then recorded in the cassette (``LlmCall``, unique per mission and sequence number) together with its
settlement; each turn is stored as a ``MissionStep`` when its tools have answered. A run that starts again
after a crash rebuilds the conversation from the stored steps and takes a call that was recorded but not yet
stepped from the cassette instead of the network, so no call is ever made twice.

Mission events are announcements, published after commit (``mesh.publish_on_commit``); the receipt a finished
mission gets is sealed inside its transaction.
"""

from __future__ import annotations

from decimal import Decimal

from agents.budget import budget_for_month, price_for
from agents.services.lifecycle import mission_approve, mission_cancel, mission_create
from agents.services.replay import mission_replay
from agents.services.run import (
    final_text,
    mission_cancel_requested,
    mission_finish,
    mission_llm_call,
    mission_run,
    mission_step_add,
    missions_recover,
)


def budget_remaining_usd() -> Decimal:
    return budget_for_month().remaining_usd


__all__ = [
    "budget_remaining_usd",
    "final_text",
    "mission_approve",
    "mission_cancel",
    "mission_cancel_requested",
    "mission_create",
    "mission_finish",
    "mission_llm_call",
    "mission_replay",
    "mission_run",
    "mission_step_add",
    "missions_recover",
    "price_for",
]
