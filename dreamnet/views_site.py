"""Marketing and trust pages: DreamSnail, contact, waitlist, changelog, legal pages, robots and sitemap."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dreamnet.forms import CommitForm, ContactForm, WaitlistForm
from dreamnet.http import HtmxHttpRequest
from dreamnet.site import changelog, lead_create, rate_limited, waitlist_confirm, waitlist_join


def _client_ip(request) -> str:
    from dreamnet.security import client_ip

    return client_ip(request)


def dreamsnail(request: HtmxHttpRequest) -> HttpResponse:
    """Explain DreamSnail and commit a digest: hashed in the browser by the widget, or typed into the form."""
    from mesh.identity import node_identity
    from mesh.services import MeshError, dreamsnail_commit

    form = CommitForm(request.POST or None)
    committed = None
    if request.method == "POST" and form.is_valid():
        if rate_limited(key=f"snail:{_client_ip(request)}", limit=30, window_s=60):
            form.add_error(None, "Too many commits from your address; wait a minute.")
        else:
            try:
                committed = dreamsnail_commit(
                    algorithm=form.cleaned_data["algorithm"], digest=form.cleaned_data["digest"]
                )
            except MeshError as exc:
                form.add_error("digest", str(exc))
    context = {"form": form, "committed": committed, "verifier_key": node_identity().verifier_key}
    return render(request, "dreamnet/dreamsnail.html", context, status=422 if form.errors else 200)


def contact(request: HtmxHttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, initial={"topic": request.GET.get("topic", "general")})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data.get("website"):
            return redirect("contact-thanks")  # a bot filled the honeypot: accept silently, keep nothing
        if rate_limited(key=f"contact:{_client_ip(request)}", limit=5, window_s=3600):
            form.add_error(None, "Too many messages from your address this hour; please try again later.")
        else:
            fields = {k: form.cleaned_data[k] for k in ("topic", "name", "email", "company", "message")}
            lead_create(**fields)
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = "/contact/thanks"
                return response
            return redirect("contact-thanks")
    template = "dreamnet/contact.html#contact-form" if request.htmx else "dreamnet/contact.html"
    return render(request, template, {"form": form, "waitlist": WaitlistForm()}, status=422 if form.errors else 200)


def contact_thanks(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "dreamnet/contact_thanks.html")


@require_POST
def waitlist(request: HtmxHttpRequest) -> HttpResponse:
    form = WaitlistForm(request.POST)
    if form.is_valid() and not form.cleaned_data.get("website"):
        if rate_limited(key=f"waitlist:{_client_ip(request)}", limit=10, window_s=3600):
            messages.error(request, "Too many sign-ups from your address this hour.")
        else:
            entry, _created = waitlist_join(email=form.cleaned_data["email"])
            if entry.confirmed_at:
                messages.success(request, "You are already on the waitlist.")
            else:
                messages.success(request, "Check your inbox: we sent a link to confirm your place on the waitlist.")
    elif not form.is_valid():
        messages.error(request, "Enter a valid e-mail address to join the waitlist.")
    return redirect("contact")


def waitlist_confirmed(request: HtmxHttpRequest, token: str) -> HttpResponse:
    entry = waitlist_confirm(token=token)
    return render(request, "dreamnet/waitlist_confirmed.html", {"entry": entry}, status=200 if entry else 404)


def changelog_page(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "dreamnet/changelog.html", {"entries": changelog()})


def privacy(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "dreamnet/privacy.html")


def terms(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "dreamnet/terms.html")


def robots(request) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /console/", "Disallow: /admin/", "Disallow: /api/", "Disallow: /cart/",
             f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}"]  # fmt: skip
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
