"""The report types: slug, name, audience and the selector that computes their figures.

Company reports (``audience="company"``) cover one company and go to its members and approvers; operator
reports (``audience="operator"``) cover the whole node and are for operators (staff, or API keys not linked to a
company).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reports import selectors

COMPANY = "company"
OPERATOR = "operator"


@dataclass(frozen=True)
class ReportType:
    slug: str
    name: str
    audience: str
    description: str
    figures: Callable[[selectors.Scope], dict[str, Any]]


TYPES: dict[str, ReportType] = {
    t.slug: t
    for t in (
        ReportType("orders", "Orders and spend", COMPANY, "Orders placed and money spent in the period.",
                   selectors.orders_figures),
        ReportType("holdings", "Holdings and valuation", COMPANY, "The treasury's holdings and their value.",
                   selectors.holdings_figures),
        ReportType("market", "Market brief", COMPANY, "Spot prices of the metals over the period.",
                   selectors.market_figures),
        ReportType("missions", "Missions", OPERATOR, "Agent missions: how many, how they ended, their cost.",
                   selectors.missions_figures),
        ReportType("llm-spend", "LLM spend against the budget", OPERATOR, "LLM calls settled against the budget.",
                   selectors.llm_spend_figures),
        ReportType("compute-jobs", "Compute jobs", OPERATOR, "Compute jobs by kind and outcome.",
                   selectors.compute_jobs_figures),
        ReportType("mesh", "Mesh activity", OPERATOR, "Events, receipts, checkpoints and peers.",
                   selectors.mesh_figures),
    )
}  # fmt: skip


def types_for(audience: str | None = None) -> list[ReportType]:
    return [t for t in TYPES.values() if audience is None or t.audience == audience]
