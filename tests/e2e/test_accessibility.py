"""axe-core (4.14.1, vendored from npm under MPL-2.0) finds no serious or critical violations on the main pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e
AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"


@pytest.fixture
def axe_page(browser):
    # Injecting axe is an inline script, which the pages' CSP forbids (as it should); bypass it for the audit only.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("path", ["/", "/metals", "/status", "/dreamsnail", "/dreamstar", "/foundry", "/contact"])
def test_public_pages_have_no_serious_violations(node, axe_page, path):
    axe_page.goto(node.url + path)
    assert _violations(axe_page) == []


def test_the_console_has_no_serious_violations(node, axe_page):
    axe_page.goto(node.url + "/accounts/login/?next=/console/")
    assert _violations(axe_page) == []
    axe_page.fill("input[name=username]", "operator")
    axe_page.fill("input[name=password]", ADMIN_PASSWORD)
    axe_page.click("button[type=submit]")
    axe_page.wait_for_url("**/console/")
    assert _violations(axe_page) == []
    for path in (
        "/console/requests/",  # the request folder page: table, example, scan form
        "/console/dreamstar/?q=vault",
        "/console/foundry/",
        "/console/codegen/",
    ):
        axe_page.goto(node.url + path)
        assert _violations(axe_page) == [], path
