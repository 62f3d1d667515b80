"""Ten missions at once, in ten processes, under a cap that admits three calls: spend never passes the cap.

Each call's actual cost equals its reservation (the server reports the prompt's byte count as prompt tokens and
the full max_tokens as output), so exactly three calls fit; the other seven missions stop with reason budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum

from agents.budget import budget_for_month
from agents.models import Agent, BudgetEntry, LlmCall, Mission
from agents.services import mission_create
from tests.agents.conftest import completion
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
MISSIONS = 10
RUN = (
    "import sys, django; django.setup(); "
    "from agents.services import mission_run; mission_run(mission_id=int(sys.argv[1]))"
)


def _worst_case_reply(body, n):
    time.sleep(0.3)  # keep calls in flight so the reservations overlap
    prompt = json.dumps(
        {"messages": body["messages"], "tools": body.get("tools", [])},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return 200, completion(content="ok", prompt_tokens=len(prompt.encode()), completion_tokens=body["max_tokens"]), {}


def test_concurrent_missions_never_spend_more_than_the_cap(fake_openai, test_price):
    fake_openai.script = _worst_case_reply
    Agent.objects.create(
        slug="single",
        name="Single",
        role="One call.",
        status=Agent.Status.ACTIVE,
        model="test-model",
        max_tokens=100,
        max_turns=1,
    )
    missions = [mission_create(kind="task", agent_slug="single", data={"prompt": "Say ok."}) for _ in range(MISSIONS)]
    worst = missions[0].forecast_usd
    budget = budget_for_month()
    budget.cap_usd = worst * 3 + worst / 2
    budget.save()

    env = subprocess_env(
        DREAMNET_LLM_PROVIDER="openai",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=fake_openai.url,
        DREAMNET_LLM_MAX_RETRIES="0",
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", RUN, str(m.pk)], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        for m in missions
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()[-2000:]

    budget.refresh_from_db()
    spent = LlmCall.objects.aggregate(total=Sum("cost_usd"))["total"]
    assert spent == budget.spent_usd <= budget.cap_usd
    assert budget.reserved_usd == 0
    assert not BudgetEntry.objects.filter(status=BudgetEntry.Status.RESERVED).exists()
    assert set(LlmCall.objects.values_list("cost_usd", flat=True)) == {worst}
    outcomes = sorted(Mission.objects.values_list("stop_reason", flat=True))
    assert outcomes == ["budget"] * 7 + ["completed"] * 3
    assert len(fake_openai.requests) == 3
    assert spent == worst * 3 < budget.cap_usd < worst * 4
    assert isinstance(spent, Decimal)
