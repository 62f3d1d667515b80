from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

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


class _LockoutMixin:
    """Refuse sign-in while the typed username or the client address is locked out (dreamnet.security), and
    rate-limit sign-in posts per address. Checked before the password, so a locked-out attempt never reaches
    authenticate() and answers the same whether or not the account exists."""

    def clean(self):
        from dreamnet.security import client_ip, login_locked, login_lockout_message
        from dreamnet.site import rate_limited

        ip = client_ip(self.request)
        if rate_limited(key=f"login:{ip}", limit=settings.DREAMNET_LOGIN_RATE_PER_MINUTE, window_s=60):
            raise forms.ValidationError("Too many sign-in attempts from your address; wait a minute.", code="rate")
        if login_locked(username=str(self.data.get("username", "")), ip=ip):
            raise forms.ValidationError(login_lockout_message(), code="locked_out")
        return super().clean()


class LoginForm(_LockoutMixin, AuthenticationForm):
    pass


class AdminLoginForm(_LockoutMixin, AdminAuthenticationForm):
    pass
