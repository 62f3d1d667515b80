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


@pytest.mark.covers("POST /api/compute/jobs")
def test_a_client_trains_a_loom_model_on_an_uploaded_text(http, make_key, settings, tmp_path):
    from computejobs.tasks import compute_job_task

    settings.DREAMNET_HOME = tmp_path
    text = ("the quick brown fox jumps over the lazy dog. " * 30).encode()
    uploaded = http(key=make_key("mesh")).post("/api/mesh/artifacts", files={"file": ("fox.txt", text, "text/plain")})
    assert uploaded.status_code == 201, uploaded.text
    compute = http(key=make_key("compute"))
    params = {"corpus_artifact": uploaded.json()["blake3"], "dim": 16, "blocks": 1, "heads": 2, "context": 12,
              "batch": 8, "steps": 20, "eval_every": 10, "eval_batches": 2}  # fmt: skip
    created = compute.post("/api/compute/jobs", json={"kind": "lm_train", "params": params})
    assert created.status_code == 201, created.text
    assert compute_job_task(created.json()["id"]) == "succeeded"
    job = compute.get(f"/api/compute/jobs/{created.json()['id']}").json()
    assert job["result"]["steps_run"] == 20 and job["result"]["final_loss"] < job["result"]["first_loss"]
    refused = compute.post("/api/compute/jobs", json={"kind": "lm_train", "params": {"corpus_text": "\x00\x01" * 50}})
    assert refused.status_code == 422 and refused.json()["code"] == "bad_job"
    assert "binary" in refused.json()["errors"]["corpus_text"]
