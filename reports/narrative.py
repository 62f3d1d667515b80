"""A report's narrative: from the language model when one is configured, else from a template; either way it
says which.

``narrative_template`` needs no Django settings or database (it reads only the figures dict), so the offline
text is the same on every node for the same figures.
"""

from __future__ import annotations

from typing import Any

from agents.llm import LlmRequest, canonical
from dreamnet.templatetags.numbers import qty, usd

TEMPLATE_LABEL = "[template narrative]"
TEMPLATE_FOOTER = "Written from a fixed template: no language model was called (offline)."
MAX_FIGURES_CHARS = 12_000
SYSTEM = (
    "You write the narrative section of a business report. You are given the report's figures as JSON. Write "
    "three to six plain sentences for a busy reader: what happened in the period and what stands out. Use only "
    "numbers that appear in the figures, formatted with thousands separators and units; invent nothing; if the "
    "figures are empty, say plainly that there was no activity."
)


def value_text(value: Any, unit: str) -> str:
    """Format one figure as pages and e-mails show it (``$1,234.56``, ``1,234``, ``12.5 oz``, ``3.20%``)."""
    if unit == "usd":
        return usd(value)
    if unit == "usd4":
        return usd(value, 4)
    if unit == "pct":
        return f"{qty(value)}%"
    if unit == "oz":
        return qty(value, "oz")
    if unit == "s":
        return qty(value, "s")
    if unit in ("count", "qty"):
        return qty(value)
    return str(value)


def narrative_template(*, name: str, period: str, subject: str, figures: dict[str, Any]) -> str:
    """Return the offline narrative: the headline figures in sentences, the notes, and the label."""
    lines = [f"{TEMPLATE_LABEL} {name} for {subject}, {period}.", ""]
    if figures.get("empty"):
        lines.append(f"There was no activity to report in {period}: the figures below are all zero or empty.")
    else:
        parts = [f"{item['label'].lower()}: {value_text(item['value'], item['unit'])}" for item in figures["headline"]]
        lines.append(f"In {period}, " + "; ".join(parts) + ".")
        for table in figures.get("tables", []):
            if table["rows"] and len(table["columns"]) >= 2:
                top = table["rows"][0]
                lines.append(
                    f"{table['title']}: {len(table['rows'])} row(s); first, {top[0]} with "
                    f"{value_text(top[1], table['units'][1])}."
                )
    lines.extend(figures.get("notes", []))
    lines += ["", TEMPLATE_FOOTER]
    return "\n".join(lines)


def narrative_request(*, model: str, system: str, name: str, period: str, subject: str, figures: dict[str, Any],
                      max_tokens: int, temperature: float | None) -> LlmRequest:  # fmt: skip
    """Return the LLM request for the narrative; the figures' JSON is clipped to MAX_FIGURES_CHARS."""
    data = canonical(figures)[:MAX_FIGURES_CHARS]
    return LlmRequest(
        model=model,
        messages=[
            {"role": "system", "content": (system or "").strip() + "\n\n" + SYSTEM},
            {"role": "user", "content": f"Report: {name}\nFor: {subject}\nPeriod: {period}\nFigures (JSON): {data}"},
        ],
        max_tokens=max_tokens,
        temperature=temperature,
    )


def prompt_bound_chars(system: str) -> int:
    """An upper bound on the narrative request's prompt, in characters (for the mission's forecast)."""
    return len(system or "") + len(SYSTEM) + MAX_FIGURES_CHARS + 600
