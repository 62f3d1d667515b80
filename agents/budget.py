"""The budget governor: reserve a call's worst case before it runs, settle its actual cost after.

Every reservation and settlement takes the month's :class:`Budget` row ``FOR UPDATE`` (on SQLite the IMMEDIATE
transaction holds the database write lock), so ``spent + reserved <= cap`` holds however many missions run at
once. Settling never waits on the network: the lock is held for a few statements only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce, Round
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from agents.errors import AgentsError, BudgetRefused, UnpricedModel
from agents.llm.pricing import Price, worst_case_cost
from agents.media.pricing import MediaPrice as MediaUnitPrice
from agents.models import Budget, BudgetEntry, MediaPrice, Mission, ModelPrice

logger = logging.getLogger(__name__)
ZERO = Decimal(0)


def month_of(day: date | None = None) -> date:
    day = day or timezone.now().date()
    return day.replace(day=1)


# Prices change rarely and every LLM call asks for one: each process keeps the prices it read, per model and day,
# for PRICE_CACHE_S. A price saved or deleted in this process clears them at once; one saved in another process (the
# console's admin, while a worker runs) applies there within PRICE_CACHE_S. An unpriced model is never kept.
PRICE_CACHE_S = 60.0
_prices: dict[tuple[str, date], tuple[float, Price]] = {}


def price_cache_clear(**_kwargs) -> None:
    """Forget the prices this process has read (connected to ModelPrice's post_save and post_delete)."""
    _prices.clear()


post_save.connect(price_cache_clear, sender=ModelPrice, dispatch_uid="agents.budget.price_cache_clear.save")
post_delete.connect(price_cache_clear, sender=ModelPrice, dispatch_uid="agents.budget.price_cache_clear.delete")


def price_for(model: str, *, on: date | None = None) -> Price:
    """Return the price of ``model`` in effect on ``on`` (today), or raise UnpricedModel. A Loom model
    (``loom:<blake3>``, trained and run on this node) costs nothing. Kept per process for up to PRICE_CACHE_S."""
    if model.startswith("loom:"):
        return Price(model, ZERO, ZERO, ZERO)
    on = on or timezone.now().date()
    kept = _prices.get((model, on))
    if kept is not None and time.monotonic() - kept[0] < PRICE_CACHE_S:
        return kept[1]
    row = ModelPrice.objects.filter(model=model, effective_from__lte=on).order_by("-effective_from").first()
    if row is None:
        raise UnpricedModel(model)
    price = Price(row.model, row.input_per_mtok, row.cached_input_per_mtok, row.output_per_mtok)
    _prices[(model, on)] = (time.monotonic(), price)
    return price


def media_price_for(model: str, *, on: date | None = None) -> MediaUnitPrice:
    """Return the media price of ``model`` (per image or per second) in effect on ``on`` (today), or raise
    UnpricedModel."""
    row = (
        MediaPrice.objects.filter(model=model, effective_from__lte=on or timezone.now().date())
        .order_by("-effective_from")
        .first()
    )
    if row is None:
        raise UnpricedModel(model)
    return MediaUnitPrice(row.model, row.unit, row.usd_per_unit)


def _budget_defaults(month: date) -> dict:
    previous = Budget.objects.filter(month__lt=month).order_by("-month").first()
    if previous is not None:  # an operator's change in the console carries over to the next month
        return {"cap_usd": previous.cap_usd, "soft_limit_pct": previous.soft_limit_pct}
    return {
        "cap_usd": settings.LLM_BUDGET_USD.quantize(Decimal("0.000001")),
        "soft_limit_pct": settings.LLM_SOFT_LIMIT_PCT,
    }


def budget_for_month(month: date | None = None) -> Budget:
    """Return the month's budget row, creating it from the previous month (or the settings) on first use."""
    month = month or month_of()
    budget = Budget.objects.filter(month=month).first()
    if budget is None:
        try:
            with transaction.atomic():
                Budget.objects.create(month=month, **_budget_defaults(month))
        except IntegrityError:
            pass  # another process created it first
        budget = Budget.objects.get(month=month)  # read back: the amounts as stored, to six places
    return budget


def _budget_locked(month: date) -> Budget:
    budget = Budget.objects.select_for_update().filter(month=month).first()
    if budget is None:  # the month's first call: create the row, then lock it
        budget_for_month(month)
        budget = Budget.objects.select_for_update().get(month=month)
    return budget


@dataclass(frozen=True)
class Reservation:
    entry: BudgetEntry
    price: Price
    switched_to_fallback: bool


def budget_reserve(
    *, mission: Mission, model: str, fallback_model: str, prompt_tokens: int, max_tokens: int
) -> Reservation:
    """Reserve the worst case of one call of ``mission`` and return the reservation (its ``entry.model`` is the
    model to call: ``fallback_model`` once the month is past its soft limit).

    Locks the month's budget row. Raises UnpricedModel or BudgetRefused; publishes ``budget.soft_limit`` once a
    month (after commit) when the month's committed spend reaches the soft limit.
    """
    with transaction.atomic():
        budget = _budget_locked(month_of())
        past_soft = budget.committed_usd >= budget.soft_limit_usd
        switched = bool(past_soft and fallback_model and fallback_model != model)
        chosen = fallback_model if switched else model
        price = price_for(chosen)
        worst = worst_case_cost(prompt_tokens=prompt_tokens, max_tokens=max_tokens, price=price)
        entry = _reserve_locked(budget=budget, mission=mission, model=chosen, worst=worst)
    return Reservation(entry=entry, price=price, switched_to_fallback=switched)


def budget_reserve_usd(*, mission: Mission, model: str, worst_usd: Decimal, note: str = "") -> BudgetEntry:
    """Reserve ``worst_usd`` for one call of ``mission`` to ``model`` that is not priced in tokens (a media call:
    images or seconds at the media price table's rate) and return the entry to settle.

    The same caps as :func:`budget_reserve` (the month, the agent's monthly cap, the mission's own cap). Locks
    the month's budget row. Raises BudgetRefused; publishes ``budget.soft_limit`` as budget_reserve does.
    """
    with transaction.atomic():
        budget = _budget_locked(month_of())
        return _reserve_locked(budget=budget, mission=mission, model=model, worst=worst_usd, note=note)


def _reserve_locked(*, budget: Budget, mission: Mission, model: str, worst: Decimal, note: str = "") -> BudgetEntry:
    """Check ``worst`` against every cap and write the reservation; the caller holds ``budget`` locked."""
    from mesh import publish_on_commit

    if budget.committed_usd + worst > budget.cap_usd:
        raise BudgetRefused(
            f"The call's worst case ${worst} does not fit this month's budget: ${budget.spent_usd} spent and "
            f"${budget.reserved_usd} reserved of ${budget.cap_usd}."
        )
    agent = mission.agent
    if agent.monthly_cap_usd is not None:
        used = BudgetEntry.objects.filter(budget=budget, agent=agent).aggregate(
            total=Coalesce(Sum(Coalesce("actual_usd", "reserved_usd")), ZERO)
        )["total"]
        if used + worst > agent.monthly_cap_usd:
            raise BudgetRefused(
                f"The call's worst case ${worst} does not fit agent {agent.slug}'s monthly cap: "
                f"${used} used of ${agent.monthly_cap_usd}."
            )
    if mission.budget_usd is not None:
        used = BudgetEntry.objects.filter(mission=mission).aggregate(
            total=Coalesce(Sum(Coalesce("actual_usd", "reserved_usd")), ZERO)
        )["total"]
        if used + worst > mission.budget_usd:
            raise BudgetRefused(
                f"The call's worst case ${worst} does not fit the mission's cap: ${used} used of ${mission.budget_usd}."
            )
    entry = BudgetEntry.objects.create(
        budget=budget, mission=mission, agent=agent, model=model, reserved_usd=worst, note=note[:200]
    )
    budget.reserved_usd += worst
    if budget.soft_warned_at is None and budget.committed_usd >= budget.soft_limit_usd:
        budget.soft_warned_at = timezone.now()
        payload = {
            "month": budget.month.isoformat(),
            "cap_usd": str(budget.cap_usd),
            "soft_limit_usd": str(budget.soft_limit_usd),
            "committed_usd": str(budget.committed_usd),
        }
        publish_on_commit("budget.soft_limit", payload)
    budget.save(update_fields=["reserved_usd", "soft_warned_at", "updated_at"])
    return entry


def budget_settle(*, entry: BudgetEntry, cost: Decimal, note: str = "") -> BudgetEntry:
    """Replace ``entry``'s reservation by its actual ``cost``. Locks the entry's row, then its budget row. Settling
    twice is a no-op. A cost above the reservation is recorded as it is (the truth) and logged.

    Two statements and no savepoint: the entry's UPDATE, guarded by ``status='reserved'``, settles it exactly once
    (a second settler waits on the row lock, then matches nothing), and only then moves the amounts on the budget
    row with F() expressions. Joins the caller's transaction, so a call's record commits with its settlement.
    """
    settled_at = timezone.now()
    with transaction.atomic(savepoint=False):
        settled = BudgetEntry.objects.filter(pk=entry.pk, status=BudgetEntry.Status.RESERVED).update(
            status=BudgetEntry.Status.SETTLED, actual_usd=cost, settled_at=settled_at, note=note[:200]
        )
        if not settled:
            entry.refresh_from_db()
            return entry
        if cost > entry.reserved_usd:  # reserved_usd never changes after the reservation is written
            logger.warning(
                "LLM call on %s cost $%s, above its reservation of $%s", entry.model, cost, entry.reserved_usd
            )
        # Rounded to the columns' six places: SQLite computes in floating point, and a total a hair below zero
        # would break the budget_totals_not_negative constraint.
        Budget.objects.filter(pk=entry.budget_id).update(
            reserved_usd=Round(F("reserved_usd") - entry.reserved_usd, 6),
            spent_usd=Round(F("spent_usd") + cost, 6),
            updated_at=settled_at,
        )
    entry.status = BudgetEntry.Status.SETTLED
    entry.actual_usd = cost
    entry.settled_at = settled_at
    entry.note = note[:200]
    return entry


def budget_settle_abandoned(*, mission: Mission) -> int:
    """Settle ``mission``'s open reservations at their full amount and return how many there were.

    An open reservation at resume time belongs to a call whose worker died mid-flight: the provider may have
    charged for it, so it is counted at its worst case rather than released.
    """
    count = 0
    for entry in BudgetEntry.objects.filter(mission=mission, status=BudgetEntry.Status.RESERVED):
        budget_settle(entry=entry, cost=entry.reserved_usd, note="worker died during the call; counted at worst case")
        count += 1
    return count


def budget_cap_set(*, cap_usd: Decimal, soft_limit_pct: int) -> Budget:
    """Set this month's cap and soft limit (new months start from them). Locks the month's budget row.

    A cap below what is already spent and reserved is allowed: it refuses every further call this month.
    """
    if not isinstance(cap_usd, Decimal) or not cap_usd.is_finite() or cap_usd < 0:
        raise AgentsError("The cap is a non-negative amount in US dollars.", code="bad_cap")
    if not 1 <= soft_limit_pct <= 100:
        raise AgentsError("The soft limit is a percentage of the cap between 1 and 100.", code="bad_soft_limit")
    with transaction.atomic():
        budget = _budget_locked(month_of())
        budget.cap_usd = cap_usd.quantize(Decimal("0.000001"))
        budget.soft_limit_pct = soft_limit_pct
        if budget.committed_usd < budget.soft_limit_usd:
            budget.soft_warned_at = None  # warn again when the new soft limit is reached
        budget.save(update_fields=["cap_usd", "soft_limit_pct", "soft_warned_at", "updated_at"])
    return budget
