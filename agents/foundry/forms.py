"""Foundry console forms: breed, evaluate, confirm a promotion."""

from __future__ import annotations

from django import forms

from agents.foundry.models import EvaluationSet
from agents.models import Agent


def _breedable():
    return Agent.objects.exclude(status=Agent.Status.RETIRED).order_by("slug")


class BreedForm(forms.Form):
    parent_a = forms.ModelChoiceField(queryset=_breedable(), to_field_name="slug", label="First parent")
    parent_b = forms.ModelChoiceField(queryset=_breedable(), to_field_name="slug", label="Second parent")
    seed = forms.CharField(max_length=100, help_text="Any text; the same parents and seed give the same child.")

    def clean(self):
        data = super().clean()
        if data.get("parent_a") and data.get("parent_a") == data.get("parent_b"):
            raise forms.ValidationError("Choose two different agents; a hybrid needs two parents.", code="same_parent")
        return data


class EvaluateForm(forms.Form):
    evaluation_set = forms.ModelChoiceField(
        queryset=EvaluationSet.objects.order_by("slug"), to_field_name="slug", label="Evaluation set"
    )


class PromoteForm(forms.Form):
    confirm = forms.BooleanField(
        label="Make this child an active agent that can run missions", required=True,
        error_messages={"required": "Tick the box to confirm the promotion."},
    )  # fmt: skip
