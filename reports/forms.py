from __future__ import annotations

from django import forms

from commerce.models import Company
from reports.types import COMPANY, types_for


class ReportForm(forms.Form):
    """Ask for a report: a member chooses among company reports; an operator among all, with the company."""

    type = forms.ChoiceField()
    period = forms.CharField(
        max_length=30, required=False, help_text="2026-11, 2026-W48 or 2026-11-01..2026-11-15; empty: this month."
    )
    company = forms.ModelChoiceField(queryset=Company.objects.order_by("name"), required=False, to_field_name="slug")
    email = forms.BooleanField(required=False, label="E-mail the PDF to the company's approvers")

    def __init__(self, *args, operator: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(t.slug, t.name) for t in types_for(None if operator else COMPANY)]
        if not operator:
            del self.fields["company"]
