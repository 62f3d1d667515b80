from __future__ import annotations

from django import forms

from dreamnet.models import Lead


class ContactForm(forms.ModelForm):
    # Humans never see this field (it is hidden with CSS); form-filling bots do, and fill it.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    class Meta:
        model = Lead
        fields = ["topic", "name", "email", "company", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 6, "maxlength": 5000})}

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) < 10:
            raise forms.ValidationError("Tell us a little more (at least 10 characters).")
        if message.count("http://") + message.count("https://") > 3:
            raise forms.ValidationError("Please keep links to three or fewer.")
        return message


class WaitlistForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))


class CommitForm(forms.Form):
    algorithm = forms.ChoiceField(
        choices=[("sha256", "SHA-256"), ("blake3", "BLAKE3"), ("sha512", "SHA-512"), ("sha3-256", "SHA3-256")]
    )
    digest = forms.CharField(max_length=128, label="Digest (hex)")
