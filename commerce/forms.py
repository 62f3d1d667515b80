from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.text import slugify

from commerce.models import Company, PaymentMethod


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=100_000, label="Quantity")


class LockForm(forms.Form):
    payment_method = forms.ChoiceField(
        choices=PaymentMethod.choices, initial=PaymentMethod.WIRE, widget=forms.RadioSelect
    )


class ExecuteForm(forms.Form):
    lock_token = forms.UUIDField(widget=forms.HiddenInput)


class SignupForm(UserCreationForm):
    email = forms.EmailField()
    company_name = forms.CharField(max_length=120, label="Company name")
    country = forms.RegexField(
        regex=r"^[A-Za-z]{2}$",
        initial="US",
        required=False,
        max_length=2,
        label="Country (two letters, e.g. US, DE)",
        error_messages={"invalid": "Use the two-letter country code, e.g. US, DE or FR."},
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ["username", "email"]

    def clean_country(self) -> str:
        return (self.cleaned_data["country"] or "US").upper()

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"].strip()
        if not slugify(name):
            raise forms.ValidationError("Use letters or digits in the company name.")
        if Company.objects.filter(slug=slugify(name)[:50]).exists():
            raise forms.ValidationError(
                "A company with this name already has an account; ask its admin to add you as a member."
            )
        return name
