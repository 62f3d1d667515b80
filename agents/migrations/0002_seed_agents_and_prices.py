"""Seed the agent registry and the price table.

Prices are OpenAI's published list prices per million tokens (standard tier) as read on the date in
``effective_from``; operators add newer rows in the admin when prices change. ``offline`` is the offline
provider's model and costs nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import migrations

PRICES_READ_ON = date(2025, 8, 7)
SOURCE = "openai.com/api/pricing, standard tier, read 2025-08-07"
PRICES = [
    # model, input, cached input, output (USD per million tokens)
    ("gpt-5", "1.25", "0.125", "10.00"),
    ("gpt-5-mini", "0.25", "0.025", "2.00"),
    ("gpt-5-nano", "0.05", "0.005", "0.40"),
    ("gpt-4.1", "2.00", "0.50", "8.00"),
    ("gpt-4.1-mini", "0.40", "0.10", "1.60"),
    ("gpt-4.1-nano", "0.10", "0.025", "0.40"),
    ("gpt-4o", "2.50", "1.25", "10.00"),
    ("gpt-4o-mini", "0.15", "0.075", "0.60"),
    ("o4-mini", "1.10", "0.275", "4.40"),
    ("o3", "2.00", "0.50", "8.00"),
]

TOOLS_ALL = ["spot_prices", "catalog_search", "mesh_verify"]
AGENTS = [
    # slug, name, role, status, tools, system prompt, max turns
    ("orchestrator", "Orchestrator", "Plans multi-step work and delegates it to the other agents.", "active",
     TOOLS_ALL, "You are DreamNet's orchestrator. Break the request into steps, use the tools for facts, and answer "
     "concisely with the facts you used.", 8),
    ("watcher", "Watcher", "Watches the node's health, log and budget and reports anomalies.", "active",
     ["mesh_verify"], "You are DreamNet's watcher. Check what you are asked to check with the tools and report "
     "plainly what holds and what does not.", 6),
    ("request-watcher", "RequestWatcher", "Turns request files dropped in a folder into missions.", "draft",
     [], "You turn a request file into a clear mission prompt.", 3),
    ("analyst", "Market Analyst", "Writes market-intelligence on precious metals from spot prices and the catalog.",
     "active", ["spot_prices", "catalog_search"], "You are a precious-metals market analyst for B2B buyers. Use "
     "spot_prices and catalog_search; never invent a price; state the time of every price you quote.", 6),
    ("dreamstar-writer", "DreamStar Writer", "Writes long-form text from ingested documents.", "active",
     [], "You are DreamStar's writer. Write clearly for the stated audience.", 4),
    ("codegen-planner", "Codegen Planner", "Code-generation team: turns a request into a plan.", "draft", [],
     "You plan code changes as small, testable steps.", 6),
    ("codegen-architect", "Codegen Architect", "Code-generation team: designs the change.", "draft", [],
     "You design code changes that fit the existing architecture.", 6),
    ("codegen-coder", "Codegen Coder", "Code-generation team: writes the patch.", "draft", [],
     "You write minimal, correct patches.", 8),
    ("codegen-reviewer", "Codegen Reviewer", "Code-generation team: reviews the patch.", "draft", [],
     "You review patches for correctness, security and style.", 4),
    ("codegen-tester", "Codegen Tester", "Code-generation team: writes and runs the tests.", "draft", [],
     "You write tests that fail without the change and pass with it.", 6),
    ("codegen-integrator", "Codegen Integrator", "Code-generation team: checks and packages the patch.", "draft", [],
     "You check that the patch applies, lints and passes, and summarise it.", 4),
]  # fmt: skip


def seed(apps, schema_editor):
    ModelPrice = apps.get_model("agents", "ModelPrice")
    Agent = apps.get_model("agents", "Agent")
    ModelPrice.objects.get_or_create(
        model="offline",
        effective_from=date(2025, 1, 1),
        defaults={
            "provider": "offline",
            "input_per_mtok": Decimal(0),
            "cached_input_per_mtok": Decimal(0),
            "output_per_mtok": Decimal(0),
            "source": "DreamNet offline provider: no model is called",
        },
    )
    for model, input_price, cached_price, output_price in PRICES:
        ModelPrice.objects.get_or_create(
            model=model,
            effective_from=PRICES_READ_ON,
            defaults={
                "provider": "openai",
                "input_per_mtok": Decimal(input_price),
                "cached_input_per_mtok": Decimal(cached_price),
                "output_per_mtok": Decimal(output_price),
                "source": SOURCE,
            },
        )
    for slug, name, role, status, tools, prompt, max_turns in AGENTS:
        Agent.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "role": role,
                "status": status,
                "tools": tools,
                "system_prompt": prompt,
                "max_turns": max_turns,
                "max_tokens": 1024,
                "fallback_model": "gpt-4.1-nano" if status == "active" else "",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
