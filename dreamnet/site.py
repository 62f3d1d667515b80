"""Site services: contact leads, the Trailblazer waitlist, the changelog, and a small per-address rate limit."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from dreamnet.models import Lead, WaitlistEntry


def rate_limited(*, key: str, limit: int, window_s: int) -> bool:
    """Count one hit for ``key``; return True when it is over ``limit`` hits in the window."""
    cache_key = f"rate:{key}"
    cache.add(cache_key, 0, window_s)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, window_s)
        hits = 1
    return hits > limit


def lead_create(*, topic: str, name: str, email: str, company: str, message: str) -> Lead:
    """Store the lead, then notify the operators (the console mail backend by default)."""
    lead = Lead.objects.create(topic=topic, name=name, email=email, company=company, message=message)
    send_mail(
        subject=f"[DreamNet] {lead.get_topic_display()} from {name}",
        message=f"{name} <{email}>{' at ' + company if company else ''} wrote:\n\n{message}\n\n"
        f"Admin: {settings.SITE_URL}{reverse('admin:dreamnet_lead_change', args=[lead.pk])}",
        from_email=None,
        recipient_list=[settings.DREAMNET_CONTACT_EMAIL],
    )
    return lead


def waitlist_join(*, email: str) -> tuple[WaitlistEntry, bool]:
    """Add ``email`` (idempotent) and send its confirmation link; return the entry and whether it is new."""
    email = email.strip().lower()
    entry = WaitlistEntry.objects.filter(email=email).first()
    created = False
    if entry is None:
        try:
            with transaction.atomic():
                entry = WaitlistEntry.objects.create(email=email, token=secrets.token_urlsafe(32))
                created = True
        except IntegrityError:
            entry = WaitlistEntry.objects.get(email=email)
    if entry.confirmed_at is None:
        link = settings.SITE_URL + reverse("waitlist-confirm", args=[entry.token])
        send_mail("Confirm your place on the DreamNet Trailblazer waitlist",
                  f"Confirm your address to join the waitlist:\n\n{link}\n\nIf you did not ask, ignore this message.",
                  None, [email])  # fmt: skip
    return entry, created


def waitlist_confirm(*, token: str) -> WaitlistEntry | None:
    entry = WaitlistEntry.objects.filter(token=token).first()
    if entry is not None and entry.confirmed_at is None:
        entry.confirmed_at = timezone.now()
        entry.save(update_fields=["confirmed_at"])
    return entry


def changelog() -> list[dict]:
    """Parse CHANGELOG.md into [{"date": "YYYY-MM-DD", "changes": [...]}], newest first."""
    path = Path(settings.BASE_DIR) / "CHANGELOG.md"
    entries: list[dict] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^## (\d{4}-\d{2}-\d{2})\s*$", line):
            entries.append({"date": match.group(1), "changes": []})
        elif line.startswith("- ") and entries:
            entries[-1]["changes"].append(line[2:].strip())
    return entries
