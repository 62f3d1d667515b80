"""The five check kinds: validation of specs and scoring of outputs."""

from __future__ import annotations

import pytest

from agents.foundry.checks import CheckError, check_score, check_validate


@pytest.mark.parametrize(
    ("kind", "spec", "good", "bad"),
    [
        ("exact", {"expected": "Au"}, "  Au\n", "Au."),
        ("contains", {"expected": "Silver"}, "It is silver.", "It is gold."),
        ("regex", {"pattern": r"^\d{4}-\d{2}-\d{2}$"}, "2026-11-22", "22/11/2026"),
        ("json_schema", {"schema": {"type": "object", "required": ["n"], "properties": {"n": {"type": "number"}}}},
         'Here: ```json\n{"n": 3}\n```', '{"n": "three"}'),
        ("numeric", {"expected": 42, "tolerance": 0.5}, "The answer is 42.3", "About 43"),
    ],
)  # fmt: skip
def test_each_kind_passes_and_fails(kind, spec, good, bad):
    spec = check_validate(kind, spec)
    assert check_score(kind, spec, good).passed and check_score(kind, spec, good).score == 1.0
    assert not check_score(kind, spec, bad).passed and check_score(kind, spec, bad).score == 0.0


def test_contains_can_be_case_sensitive():
    spec = check_validate("contains", {"expected": "Ag", "case_sensitive": True})
    assert not check_score("contains", spec, "ag").passed


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("telepathy", {}, "Unknown check kind"),
        ("exact", [], "JSON object"),
        ("exact", {"expected": ""}, "non-empty string"),
        ("regex", {"pattern": "("}, "does not compile"),
        ("json_schema", {"schema": {"type": "nonsense"}}, "JSON Schema is invalid"),
        ("json_schema", {"schema": "object"}, "JSON Schema object"),
        ("numeric", {"expected": "42"}, "finite number"),
        ("numeric", {"expected": 42, "tolerance": -1}, "at least 0"),
    ],
)
def test_invalid_specs_are_refused_with_the_reason(kind, spec, message):
    with pytest.raises(CheckError, match=message):
        check_validate(kind, spec)


def test_scoring_never_raises_on_odd_output():
    spec = check_validate("json_schema", {"schema": {"type": "object"}})
    assert not check_score("json_schema", spec, "no json { here").passed
    assert not check_score("numeric", check_validate("numeric", {"expected": 1}), "none").passed


@pytest.mark.django_db
def test_a_set_with_one_invalid_case_is_not_created():
    from agents.errors import AgentsError
    from agents.foundry.models import EvaluationCase, EvaluationSet
    from agents.foundry.services import evaluation_set_create

    cases = [
        {"prompt": "2 + 2?", "check_kind": "numeric", "check_spec": {"expected": 4}},
        {"prompt": "JSON please", "check_kind": "json_schema", "check_spec": {"schema": {"type": 12}}},
    ]
    with pytest.raises(AgentsError) as refused:
        evaluation_set_create(slug="mixed", name="Mixed", cases=cases)
    assert refused.value.code == "invalid_check" and "Case 2" in str(refused.value)
    assert not EvaluationSet.objects.filter(slug="mixed").exists()
    cases[1]["check_spec"] = {"schema": {"type": "object"}}
    created = evaluation_set_create(slug="mixed", name="Mixed", cases=cases)
    assert list(created.cases.values_list("check_kind", flat=True)) == ["numeric", "json_schema"]
    assert EvaluationCase.objects.get(evaluation_set=created, position=1).check_spec == {"expected": 4, "tolerance": 0}
