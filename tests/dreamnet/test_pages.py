"""Site pages, the console's staff guard, and error pages."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_home_says_what_dreamnet_is(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Prime Source Direct" in page
    assert "StarBridge" in page
    assert "django_htmx/htmx-2.min.js" in page  # vendored, no CDN
    assert "cdn" not in page.lower()


def test_pages_send_a_content_security_policy(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_console_sends_visitors_to_log_in(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=/console/")


def test_the_console_refuses_buyers(client, alice):
    client.force_login(alice)
    response = client.get("/console/")
    assert response.status_code == 302


def test_the_console_serves_operators(client, olivia):
    client.force_login(olivia)
    response = client.get("/console/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Operator overview" in page
    assert "No Django-Q2 cluster is running" in page


def test_login_then_console_then_logout(client, olivia):
    response = client.post(
        "/accounts/login/?next=/console/", {"username": "olivia", "password": PASSWORD, "next": "/console/"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/console/").status_code == 302


def test_a_wrong_password_is_a_form_error(client, olivia):
    response = client.post("/accounts/login/", {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_unknown_pages_get_a_styled_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Nothing lives at" in page
    assert "dreamnet.css" in page


def test_unknown_api_routes_get_json(client):
    response = client.get("/api/no/such/route")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_docs_are_served_without_a_cdn(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
