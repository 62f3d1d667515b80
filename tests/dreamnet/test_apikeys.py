"""API keys: created once, stored hashed, scoped, revocable, managed by command and admin."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from dreamnet.apikeys import apikey_create
from dreamnet.models import ApiKey

pytestmark = pytest.mark.django_db


def _create(*args: str) -> str:
    out = StringIO()
    call_command("apikey", "create", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_create_prints_the_key_once_and_stores_only_its_hash():
    raw = _create("--name", "erp-sync", "--scopes", "ops,commerce")
    assert re.fullmatch(r"dnk_[0-9a-f]{12}_[A-Za-z0-9_-]{40}", raw)
    key = ApiKey.objects.get()
    assert key.scopes == ["commerce", "ops"]
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = {f.attname: str(getattr(key, f.attname)) for f in ApiKey._meta.fields}
    secret = raw.removeprefix(f"dnk_{key.prefix}_")  # the secret itself may contain underscores
    assert len(secret) == 40
    assert not any(raw in value or secret in value for value in stored.values())


def test_a_key_authenticates_and_records_its_use(client):
    raw = _create("--name", "monitor", "--scopes", "ops")
    response = client.get("/api/auth/whoami", headers={"X-DREAMNET-KEY": raw})
    assert response.status_code == 200
    assert response.json()["name"] == "monitor"
    assert ApiKey.objects.get().last_used_at is not None


def test_a_scoped_endpoint_accepts_its_scope(client):
    raw = _create("--name", "monitor", "--scopes", "ops")
    response = client.get("/api/queue", headers={"X-DREAMNET-KEY": raw})
    assert response.status_code == 200
    assert response.json()["queued"] == 0


def test_the_wrong_scope_is_forbidden(client):
    raw = _create("--name", "shop", "--scopes", "commerce")
    response = client.get("/api/queue", headers={"X-DREAMNET-KEY": raw})
    assert response.status_code == 403
    assert response.json()["code"] == "api_key_scope"
    assert "lacks the 'ops' scope" in response.json()["detail"]


def test_no_key_and_a_wrong_key_are_unauthorized(client):
    assert client.get("/api/queue").json() == {
        "detail": "Send an API key in the X-DREAMNET-KEY header.",
        "code": "api_key_missing",
    }
    raw = _create("--name", "monitor", "--scopes", "ops")
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    response = client.get("/api/queue", headers={"X-DREAMNET-KEY": tampered})
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_invalid"


def test_a_revoked_key_is_unauthorized(client):
    raw = _create("--name", "monitor", "--scopes", "ops")
    out = StringIO()
    call_command("apikey", "revoke", raw[:16], stdout=out)
    assert "Revoked" in out.getvalue()
    response = client.get("/api/queue", headers={"X-DREAMNET-KEY": raw})
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


def test_list_shows_prefixes_not_keys():
    raw = _create("--name", "monitor", "--scopes", "ops")
    out = StringIO()
    call_command("apikey", "list", stdout=out)
    assert ApiKey.objects.get().prefix in out.getvalue()
    assert raw not in out.getvalue()


def test_unknown_scopes_and_prefixes_are_command_errors():
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("apikey", "create", "--name", "x", "--scopes", "ops,root")
    with pytest.raises(CommandError, match="No API key has the prefix"):
        call_command("apikey", "revoke", "deadbeef0000")
    assert not ApiKey.objects.exists()


def test_the_api_schema_documents_the_key_header(client):
    schema = client.get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("name") == "X-DREAMNET-KEY" and s.get("in") == "header" for s in schemes.values())
    assert "403" in schema["paths"]["/api/queue"]["get"]["responses"]


def test_an_operator_creates_a_key_in_the_admin_and_sees_it_once(client, olivia):
    olivia.is_superuser = True
    olivia.save()
    client.force_login(olivia)
    response = client.post("/admin/dreamnet/apikey/add/", {"name": "zapier", "scopes": ["mesh", "ops"]}, follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = re.search(r"dnk_[0-9a-f]{12}_[A-Za-z0-9_-]{40}", response.content.decode()).group(0)
    assert key.key_hash == hashlib.sha256(shown.encode()).hexdigest()
    assert key.created_by == olivia
    page = client.get(f"/admin/dreamnet/apikey/{key.pk}/change/").content.decode()
    assert shown not in page


def test_the_admin_revoke_action_goes_through_the_service(olivia, monkeypatch):
    import dreamnet.admin
    from dreamnet.apikeys import apikey_revoke

    revoked = []

    def spy(*, prefix: str) -> ApiKey:
        revoked.append(prefix)
        return apikey_revoke(prefix=prefix)

    monkeypatch.setattr(dreamnet.admin, "apikey_revoke", spy)
    olivia.is_superuser = True
    olivia.save()
    key, raw = apikey_create(name="old", scopes=["ops"])
    already, _raw = apikey_create(name="older", scopes=["ops"])
    first = apikey_revoke(prefix=already.prefix).revoked_at
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(olivia)
    browser.get("/admin/dreamnet/apikey/")
    token = browser.cookies["csrftoken"].value
    response = browser.post("/admin/dreamnet/apikey/", {"action": "revoke", "_selected_action": [key.pk, already.pk],
                                                        "csrfmiddlewaretoken": token})  # fmt: skip
    assert response.status_code == 302
    assert revoked == [key.prefix]  # the key revoked before is left as it was
    already.refresh_from_db()
    assert already.revoked_at == first
    refused = Client().get("/api/queue", headers={"X-DREAMNET-KEY": raw})
    assert (refused.status_code, refused.json()["code"]) == (401, "api_key_revoked")


def test_the_admin_revokes_keys(client, olivia):
    olivia.is_superuser = True
    olivia.save()
    key, _raw = apikey_create(name="old", scopes=["ops"])
    client.force_login(olivia)
    client.post("/admin/dreamnet/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None
