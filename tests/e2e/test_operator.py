"""In a real browser: an operator launches a mission and watches it reach done without reloading."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_an_operator_launches_a_mission_and_sees_it_finish_live(node, page):
    page.goto(node.url + "/accounts/login/?next=/console/missions/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/missions/")
    page.select_option("select[name=kind]", "brief")
    page.select_option("select[name=agent]", index=1)
    page.wait_for_selector("#forecast strong", timeout=10_000)  # the cost forecast arrives over HTMX
    page.click('button:has-text("Launch")')
    page.wait_for_url("**/console/missions/*/")
    # The task cluster runs the mission; the page follows it over the websocket, no reload.
    page.wait_for_selector("#mission-panel:has-text('Succeeded')", timeout=60_000)
    assert "completed" in page.text_content("#mission-panel")
    assert page.console_errors == []
