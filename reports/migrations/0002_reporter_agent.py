"""Seed the Reporter agent that runs ``report`` missions (its narrative call, when a model is configured)."""

from __future__ import annotations

from django.db import migrations

PROMPT = (
    "You are DreamNet's reporter. You write the narrative of business and operations reports from the figures you "
    "are given, accurately and briefly."
)


def seed(apps, schema_editor):
    Agent = apps.get_model("agents", "Agent")
    Agent.objects.get_or_create(
        slug="reporter",
        defaults={
            "name": "Reporter",
            "role": "Writes the narrative of company and operator reports from their figures.",
            "status": "active",
            "tools": [],
            "system_prompt": PROMPT,
            "max_turns": 1,
            "max_tokens": 700,
            "fallback_model": "gpt-4.1-nano",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("agents", "0009_mission_kind_report")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
