"""/api/compute/jobs as clients call it: a ``compute`` key over real HTTP, no cookies, no CSRF token."""

from __future__ import annotations

import pytest


@pytest.mark.covers("POST /api/compute/jobs")
def test_a_key_queues_a_compute_job(http, make_key):
    compute = http(key=make_key("compute"))
    created = compute.post("/api/compute/jobs", json={"kind": "tsp", "params": {"instance": "berlin52", "seconds": 1}})
    assert created.status_code == 201, created.text
    job = compute.get(f"/api/compute/jobs/{created.json()['id']}")
    assert job.status_code == 200, job.text
    assert not compute.cookies
