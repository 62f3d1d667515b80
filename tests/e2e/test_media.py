"""In a real browser: an operator asks for an image on the media console, watches the mission finish without
reloading, sees the generated picture decoded by the browser, and opens it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_an_operator_generates_an_image_and_opens_it(node, page):
    page.goto(node.url + "/accounts/login/?next=/console/media/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/media/")
    page.select_option("select[name=kind]", "image")
    page.fill("textarea[name=prompt]", "A one-ounce gold bar on dark velvet")
    page.fill("input[name=size]", "64x64")
    page.click('button:has-text("Start")')
    page.wait_for_url("**/console/media/*/")
    # The task cluster renders it offline; the status section polls until the picture is there.
    image = page.wait_for_selector("#media-status img", timeout=90_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image, timeout=10_000)
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 64]
    assert "offline: made on this node" in page.text_content("#media-status")
    assert page.console_errors == []
    page.click("#media-status figcaption a")
    page.wait_for_load_state()
    assert page.evaluate("document.contentType") == "image/png"
    assert page.evaluate("document.images[0].naturalWidth") == 64
    # The browser's image viewer asks for /favicon.ico (a 404 here); its own inline styles must not be blocked.
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
