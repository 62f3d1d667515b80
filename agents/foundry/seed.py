"""The starter evaluation set the foundry migration seeds (and transaction=True tests seed again)."""

from __future__ import annotations

# A small starter set so a newcomer can evaluate a hybrid at once (edit or add sets in the admin).
BASICS = [
    ("What is 17 + 25? Answer with the number only.", "numeric", {"expected": 42, "tolerance": 0}),
    ("Name the chemical symbol for gold. Answer with the symbol only.", "exact", {"expected": "Au"}),
    ("In one sentence, say which metal has the symbol Ag.", "contains", {"expected": "silver", "case_sensitive": False}),
    ("Give today's date in ISO 8601 (YYYY-MM-DD) and nothing else.", "regex", {"pattern": "^\\s*\\d{4}-\\d{2}-\\d{2}\\s*$"}),
    (
        'Reply with a JSON object {"metal": <name>, "troy_ounces": <number>} for one troy ounce of platinum.',
        "json_schema",
        {"schema": {"type": "object", "required": ["metal", "troy_ounces"],
                    "properties": {"metal": {"type": "string"}, "troy_ounces": {"type": "number"}}}},
    ),
]  # fmt: skip


def seed_basics(apps, schema_editor):
    EvaluationSet = apps.get_model("agents", "EvaluationSet")
    EvaluationCase = apps.get_model("agents", "EvaluationCase")
    evaluation_set, created = EvaluationSet.objects.get_or_create(
        slug="foundry-basics",
        defaults={"name": "Foundry basics", "description": "Arithmetic, facts and formats: one case per check kind."},
    )
    if created:
        for position, (prompt, kind, spec) in enumerate(BASICS, start=1):
            EvaluationCase.objects.create(
                evaluation_set=evaluation_set, position=position, prompt=prompt, check_kind=kind, check_spec=spec
            )
