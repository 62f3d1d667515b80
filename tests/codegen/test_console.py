"""Console: operators start runs, follow the roles, read the escaped diff and the gate report, download the mbox."""

from __future__ import annotations

import json

import pytest

from agents.models import Mission
from agents.services import mission_run
from tests.codegen.conftest import SPEC

pytestmark = pytest.mark.django_db


def test_operators_only(client, alice):
    client.force_login(alice)
    assert client.get("/console/codegen/").status_code in (302, 403)


def test_start_follow_and_download(client, olivia, workspace, django_capture_on_commit_callbacks):
    client.force_login(olivia)
    page = client.get("/console/codegen/")
    assert page.status_code == 200 and b'aria-current="page">Codegen' in page.content
    bad = client.post("/console/codegen/", {"workspace": "demo", "spec": json.dumps({"name": "x y", "fields": []})})
    assert bad.status_code == 422 and b"name: A lowercase Python identifier" in bad.content
    assert b"fields: Give at least one field." in bad.content and not Mission.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        started = client.post("/console/codegen/", {"workspace": "demo", "spec": json.dumps(SPEC)})
    assert started.status_code == 302
    mission = Mission.objects.get()
    assert client.get(started.url).status_code == 200
    mission_run(mission_id=mission.pk)
    run_page = client.get(started.url)
    html = run_page.content.decode()
    assert "qualityguard" in html and "passed" in html and "sandbox network isolation" in html
    assert "+++ b/apps/supplier/models.py" in html
    assert "def __str__(self) -&gt; str:" in html and "-> str" not in html  # the diff is escaped text
    partial = client.get(started.url, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<section id="mission-panel"')
    mbox = client.get(f"/console/codegen/{mission.pk}/patch.mbox")
    assert mbox.status_code == 200 and mbox["Content-Type"] == "application/mbox"
    assert mbox.content.startswith(b"From ") and b"Subject: [PATCH] Add the Supplier resource" in mbox.content
    listing = client.get("/console/codegen/").content.decode()
    assert f"#{mission.pk}" in listing and "Add the Supplier resource" in listing


def test_operators_register_workspaces(client, olivia, tmp_path):
    from agents.codegen import gitops
    from agents.codegen.models import Workspace

    client.force_login(olivia)
    form = {"action": "register", "name": "shop", "path": str(tmp_path / "nope"), "allowed_paths": "apps/",
            "test_command": "{python} manage.py test"}  # fmt: skip
    refused = client.post("/console/codegen/", form)
    assert refused.status_code == 422 and b"is not an absolute path to a git work tree" in refused.content
    gitops.init_demo(tmp_path / "shop")
    escape = client.post("/console/codegen/", form | {"path": str(tmp_path / "shop"), "allowed_paths": "../"})
    assert escape.status_code == 422 and not Workspace.objects.exists()
    done = client.post("/console/codegen/", form | {"path": str(tmp_path / "shop"), "allowed_paths": "apps/, lib/"})
    assert done.status_code == 302
    assert Workspace.objects.get(name="shop").allowed_paths == ["apps/", "lib/"]
