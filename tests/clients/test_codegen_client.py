"""/api/codegen as clients call it: a ``codegen`` key over real HTTP, no cookies, no CSRF token."""

from __future__ import annotations

import pytest

from agents.codegen import gitops
from agents.codegen.services import workspace_register
from tests.codegen.conftest import SPEC


@pytest.mark.covers("POST /api/codegen/run")
def test_a_key_starts_a_codegen_run(http, make_key, seeded, tmp_path):
    root = tmp_path / "demo"
    gitops.init_demo(root)
    workspace_register(name="demo", path=str(root), allowed_paths=["apps/"], test_command=gitops.DEMO_TEST_COMMAND)
    codegen = http(key=make_key("codegen"))
    started = codegen.post("/api/codegen/run", json={"workspace": "demo", "spec": SPEC})
    assert started.status_code == 201, started.text
    status = codegen.get(f"/api/codegen/status/{started.json()['mission']}")
    assert status.status_code == 200, status.text
    assert not codegen.cookies
