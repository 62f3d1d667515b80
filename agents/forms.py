"""Console forms: launch a mission, set the budget."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from agents import engine
from agents.models import Agent, Mission


class LaunchForm(forms.Form):
    kind = forms.ChoiceField(choices=Mission.Kind.choices, initial=Mission.Kind.TASK)
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.filter(status=Agent.Status.ACTIVE).order_by("name"), to_field_name="slug"
    )
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="For a task.")
    metals = forms.MultipleChoiceField(
        choices=[(m, m.title()) for m in engine.METALS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="For a brief (none ticked: all four).",
    )
    audience = forms.CharField(max_length=200, required=False, help_text="For a brief.")
    budget_usd = forms.DecimalField(
        label="Mission cap (USD)", min_value=Decimal("0.000001"), max_digits=14, decimal_places=6, required=False
    )

    def mission_data(self) -> dict:
        data = self.cleaned_data
        if data["kind"] == Mission.Kind.TASK:
            return {"prompt": data["prompt"]}
        return {"metals": data["metals"], "audience": data["audience"]}


class BudgetForm(forms.Form):
    cap_usd = forms.DecimalField(label="Monthly cap (USD)", min_value=Decimal(0), max_digits=14, decimal_places=6)
    soft_limit_pct = forms.IntegerField(label="Soft limit (% of the cap)", min_value=1, max_value=100)
