"""Site pages: a truthful stats strip, DreamSnail, contact and waitlist, changelog, legal pages, robots, sitemap."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache

import mesh
from dreamnet.models import Lead, WaitlistEntry
from mesh.models import TrailCommit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def _strip(client) -> dict:
    return {s["name"]: s for s in client.get("/api/stats").json()}


def test_the_strip_shows_exactly_what_was_measured(client):
    empty = _strip(client)
    assert empty["events_sealed"]["value"] == "0"
    assert empty["events_sealed"]["detail"] == "no events yet"
    assert empty["spot_gold"]["ok"] is False
    assert empty["spot_gold"]["detail"] == "no gold price yet"
    for i in range(7):
        mesh.publish("order.paid", {"n": i})
    from commerce.services import spot_refresh

    spot_refresh()  # one more event: price.tick
    strip = _strip(client)
    assert strip["events_sealed"]["value"] == "8"
    assert strip["spot_gold"]["value"].startswith("$")
    assert "simulated, not market data" in strip["spot_gold"]["detail"]
    page = client.get("/").content.decode()
    assert 'data-stat="events_sealed"' in page
    assert ">8<" in page


def test_the_strip_counts_agents_and_missions_as_they_are(client):
    from agents.models import Agent, Mission

    strip = _strip(client)
    assert strip["active_agents"]["value"] == str(Agent.objects.filter(status="active").count())
    assert strip["missions_24h"]["value"] == "0"
    assert strip["missions_24h"]["detail"] == "no missions yet today"
    agent = Agent.objects.filter(status="active").first()
    for _ in range(3):
        Mission.objects.create(agent=agent, kind="task", input={"prompt": "x"})
    assert _strip(client)["missions_24h"]["value"] == "3"


def test_the_changelog_is_served_from_the_file(client):
    text = (Path(settings.BASE_DIR) / "CHANGELOG.md").read_text()
    dates = re.findall(r"^## (\d{4}-\d{2}-\d{2})$", text, flags=re.MULTILINE)
    entries = client.get("/api/changelog").json()
    assert [e["date"] for e in entries] == dates
    first_change = re.search(r"^- (.+)$", text, flags=re.MULTILINE).group(1)
    assert entries[0]["changes"][0] == first_change
    assert any("make run" in c for e in entries for c in e["changes"])
    assert "What changed" in client.get("/changelog").content.decode()


def test_dreamsnail_commits_a_typed_digest_and_refuses_a_bad_one(client):
    page = client.get("/dreamsnail").content.decode()
    assert "python -m mesh.verify" in page and "dreamsnail.js" in page
    digest = hashlib.sha256(b"board minutes").hexdigest()
    ok = client.post("/dreamsnail", {"algorithm": "sha256", "digest": digest})
    assert ok.status_code == 200
    assert TrailCommit.objects.get().digest == digest
    bad = client.post("/dreamsnail", {"algorithm": "sha256", "digest": "abc"})
    assert bad.status_code == 422
    assert "64 hex digits" in bad.content.decode()


def test_a_contact_message_is_stored_and_the_operators_told(client):
    response = client.post("/contact", {"topic": "treasury", "name": "Dana", "email": "dana@example.com",
                                        "company": "Dana LLC", "message": "We hold 400 oz and want a review."})  # fmt: skip
    assert response.headers["Location"] == "/contact/thanks"
    lead = Lead.objects.get()
    assert lead.get_topic_display() == "Treasury review"
    assert mail.outbox[0].subject == "[DreamNet] Treasury review from Dana"


def test_contact_errors_come_back_inline_over_htmx_and_nothing_is_stored(client):
    response = client.post("/contact", {"topic": "general", "name": "", "email": "not-an-email", "message": "hi"},
                           headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="contact-form"')
    assert "Enter a valid email address" in body and "at least 10 characters" in body
    assert not Lead.objects.exists()


def test_the_honeypot_and_the_rate_limit_stop_bots(client):
    fields = {"topic": "general", "name": "Bot", "email": "bot@example.com", "message": "Buy cheap things now!!!"}
    client.post("/contact", fields | {"website": "http://spam.example"})
    assert not Lead.objects.exists()
    for _ in range(5):
        client.post("/contact", fields)
    limited = client.post("/contact", fields)
    assert "Too many messages" in limited.content.decode()
    assert Lead.objects.count() == 5


def test_the_waitlist_is_idempotent_and_confirmed_by_link(client):
    client.post("/waitlist", {"email": "Erin@Example.com"})
    client.post("/waitlist", {"email": "erin@example.com"})
    entry = WaitlistEntry.objects.get()
    assert entry.email == "erin@example.com"
    assert entry.token in mail.outbox[0].body
    page = client.get(f"/waitlist/confirm/{entry.token}")
    assert "is confirmed" in page.content.decode()
    entry.refresh_from_db()
    assert entry.confirmed_at is not None
    assert client.get("/waitlist/confirm/wrong").status_code == 404


@pytest.mark.parametrize(
    ("url", "text"), [("/privacy", "Privacy"), ("/terms", "Terms of use"), ("/contact", "Trailblazer")]
)
def test_trust_pages(client, url, text):
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.content.decode()


def test_robots_and_sitemap(client, catalog):
    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /console/" in robots and "Sitemap: http://testserver/sitemap.xml" in robots
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/metals/xau-coin-maple-1oz" in sitemap and "/dreamsnail" in sitemap


@pytest.fixture
def catalog(db):
    from commerce.demo import demo_catalog_load

    demo_catalog_load()
