"""/api/codegen: auth on every endpoint, bad input, and a client that posts a spec, follows the roles and
downloads the patch with its gate report and cost."""

from __future__ import annotations

import pytest

from agents.models import Mission
from agents.services import mission_run
from dreamnet.apikeys import apikey_create
from mesh.models import Event
from tests.codegen.conftest import SPEC

pytestmark = pytest.mark.django_db


def _post(client, headers, **body):
    return client.post("/api/codegen/run", {"workspace": "demo", "spec": SPEC} | body,
                       content_type="application/json", headers=headers)  # fmt: skip


@pytest.mark.parametrize(("method", "path"), [("post", "/api/codegen/run"), ("get", "/api/codegen/status/1"),
                                         ("get", "/api/codegen/pr/1")])  # fmt: skip
def test_every_endpoint_needs_a_codegen_key(client, method, path):
    _key, missions_only = apikey_create(name="other", scopes=["missions"])
    call = getattr(client, method)
    kwargs = (
        {"content_type": "application/json", "data": {"workspace": "demo", "spec": SPEC}} if method == "post" else {}
    )
    assert call(path, **kwargs).status_code == 401
    assert call(path, headers={"X-DREAMNET-KEY": "dnk_000000000000_wrong"}, **kwargs).status_code == 401
    refused = call(path, headers={"X-DREAMNET-KEY": missions_only}, **kwargs)
    assert refused.status_code == 403 and refused.json()["code"]


def test_a_client_posts_follows_and_downloads(client, key, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        started = _post(client, key)
    assert started.status_code == 201, started.json()
    mission_id = started.json()["mission"]
    status = client.get(f"/api/codegen/status/{mission_id}", headers=key).json()
    assert status["status"] == "queued" and status["roles"] == []
    early = client.get(f"/api/codegen/pr/{mission_id}", headers=key)
    assert early.status_code == 409 and early.json()["code"] == "not_finished"

    with django_capture_on_commit_callbacks(execute=True):
        mission_run(mission_id=mission_id)
    roles_published = list(Event.objects.filter(topic="codegen.role").order_by("pk").values_list("payload", flat=True))
    assert [p["role"] for p in roles_published] == [
        "specreader", "architect", "codesmith", "integrator", "qualityguard", "contentcraft", "done",
    ]  # fmt: skip
    status = client.get(f"/api/codegen/status/{mission_id}", headers=key).json()
    assert status["status"] == Mission.Status.SUCCEEDED and status["current_role"] == "done"
    assert [r["role"] for r in status["roles"]] == [
        "specreader", "architect", "codesmith", "integrator", "qualityguard", "contentcraft",
    ]  # fmt: skip
    assert status["gates_passed"] is True and status["cost_usd"] == "0.000000"
    pr = client.get(f"/api/codegen/pr/{mission_id}", headers=key).json()
    assert pr["diff"].startswith("diff --git a/apps/supplier/__init__.py")
    assert pr["mbox"].startswith("From ") and f"Subject: [PATCH] {pr['title']}" in pr["mbox"]
    assert [g["gate"] for g in pr["gates"] if g["passed"]] == ["parse", "ruff", "paths", "stubs", "tests"]
    assert pr["cost_usd"] == "0.000000" and pr["changelog"].startswith("Added: Supplier")


def test_bad_input_is_refused_and_nothing_is_created(client, key, workspace):
    unknown = _post(client, key, workspace="nowhere")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_workspace"
    bad = _post(client, key, spec={"name": "Bad Name", "fields": [{"name": "id", "type": "float", "max_length": 5}],
                                   "operations": ["list", "explode"]})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_spec"
    fields = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert set(fields) == {"name", "fields[0].name", "fields[0].type", "fields[0].max_length", "operations"}
    assert "str, text, int" in fields["fields[0].type"]
    freeform = _post(client, key, spec={"request": "Add a ping endpoint."})
    assert freeform.status_code == 422 and freeform.json()["code"] == "freeform_needs_llm"
    assert not Mission.objects.exists()
    missing = client.get("/api/codegen/status/999", headers=key)
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_mission"
    assert client.get("/api/codegen/pr/999", headers=key).json()["code"] == "unknown_mission"
