"""Cost equals tokens × price; the worst case bounds it; a model with no price is refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.budget import price_for
from agents.errors import UnpricedModel
from agents.llm import Usage
from agents.llm.pricing import Price, call_cost, worst_case_cost
from agents.models import ModelPrice
from agents.services import mission_create

PRICE = Price("m", Decimal("1.00"), Decimal("0.50"), Decimal("2.00"))


def test_cost_is_tokens_times_price():
    usage = Usage(input_tokens=1000, cached_input_tokens=100, output_tokens=500)
    # 900 uncached × $1 + 100 cached × $0.50 + 500 output × $2, per million tokens
    assert call_cost(usage, PRICE) == Decimal("0.001950")


def test_the_worst_case_is_never_below_the_actual_cost():
    usage = Usage(input_tokens=777, cached_input_tokens=333, output_tokens=99)
    assert worst_case_cost(prompt_tokens=777, max_tokens=99, price=PRICE) >= call_cost(usage, PRICE)
    assert worst_case_cost(prompt_tokens=1, max_tokens=0, price=PRICE) == Decimal("0.000001")  # rounded up


@pytest.mark.django_db
def test_the_latest_price_in_effect_applies(test_price):
    ModelPrice.objects.create(
        model="test-model", input_per_mtok=Decimal(3), cached_input_per_mtok=Decimal(1), output_per_mtok=Decimal(9),
        effective_from=timezone.now().date() + timedelta(days=30),
    )  # fmt: skip
    assert price_for("test-model").input_per_mtok == Decimal("1.00")
    assert price_for("test-model", on=timezone.now().date() + timedelta(days=31)).input_per_mtok == Decimal(3)


@pytest.mark.django_db
def test_seeded_prices_cover_the_default_model_and_offline(settings):
    assert price_for(settings.LLM_MODEL).output_per_mtok > 0
    assert price_for("offline").output_per_mtok == 0


@pytest.mark.django_db
def test_an_unpriced_model_is_refused(fake_openai, tester):
    with pytest.raises(UnpricedModel, match="'no-such-model' has no price"):
        price_for("no-such-model")
    with pytest.raises(UnpricedModel):
        mission_create(kind="task", agent_slug="tester", data={"prompt": "hi"}, model="no-such-model")
    assert fake_openai.requests == []
