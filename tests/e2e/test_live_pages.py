"""In a real browser: the status page goes live over the websocket and shows events from another process;
the console works after signing in; no page breaks its content security policy."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_the_status_page_goes_live_and_shows_events(node, page):
    page.goto(node.url + "/status")
    page.wait_for_selector('[data-live-dot][data-state="open"]', timeout=10_000)
    assert page.text_content("[data-health-status]") in {"ok", "degraded"}
    node.python("import mesh; mesh.publish('status.e2e', {'hello': 'browser'})")
    page.wait_for_selector("[data-event-list] li:has-text('status.e2e')", timeout=10_000)
    assert "hello" in page.text_content("[data-event-list]")
    assert not page.is_visible("[data-empty]")
    assert page.console_errors == []


def test_an_operator_signs_in_and_verifies_an_entry(node, page):
    node.python("import mesh; from mesh.log import checkpoint_sign; mesh.publish('order.paid', {'n': 1}); "
                "checkpoint_sign(force=True)")  # fmt: skip
    page.goto(node.url + "/console/mesh/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/mesh/")
    page.wait_for_selector('[data-live-dot][data-state="open"]', timeout=10_000)
    page.fill("input[name=index]", "0")
    page.click("#verify-entry button[type=submit]")
    page.wait_for_selector("#verify-entry .badge-ok", timeout=10_000)
    assert "is in the signed log" in page.text_content("#verify-entry")
    assert page.console_errors == []


def test_the_theme_toggle_switches_and_remembers(node, page):
    page.goto(node.url + "/")
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.click("[data-theme-toggle]")
    after = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert before != after
    page.reload()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == after
    assert page.console_errors == []


def test_the_coherence_heatmap_updates_live(node, page):
    page.goto(node.url + "/status")
    page.wait_for_selector("#coherence", timeout=10_000)
    # Forty stored rounds in which the database and the task cluster fail together every fourth round.
    node.python(
        "from datetime import timedelta; from django.utils import timezone; from dreamnet.models import HealthSample; "
        "from dreamnet.coherence import SERVICES; now = timezone.now(); "
        "HealthSample.objects.bulk_create(HealthSample(checked_at=now - timedelta(seconds=10 * i), status='ok', "
        "results={s: [not (s in ('database', 'task_cluster') and i % 4 == 0), 1.0 + i % 3] for s in SERVICES}) "
        "for i in range(1, 41))"
    )
    # The section polls every 10 s; the swapped-in heatmap reads the stored rounds.
    page.wait_for_selector("#coherence [data-coherence-reading]:has-text('fail together')", timeout=20_000)
    assert "database and task cluster" in page.text_content("#coherence [data-coherence-reading]")
    assert page.locator("#coherence svg rect").count() == 25
    assert page.console_errors == []
