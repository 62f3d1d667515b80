"""Loom jobs: lm_train keeps a verified checkpoint with a signed receipt and resumes after a killed worker;
lm_generate samples from it; bad corpora, configurations and prompts are refused by name."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from compute.loom import Config, corpus_from_bytes, train, unpack
from compute.loom.checkpoint import MEDIA_TYPE
from computejobs.kinds import JobError
from computejobs.loom import _resume_path, checkpoint_load, checkpoint_to_dreamfile, model_name
from computejobs.models import ComputeJob
from computejobs.services import job_create
from computejobs.tasks import compute_job_task
from mesh.models import Artifact, Event, Receipt
from mesh.services import artifact_read, artifact_store

pytestmark = pytest.mark.django_db
TEXT = "the quick brown fox jumps over the lazy dog. " * 30
TINY = {"dim": 16, "blocks": 1, "heads": 2, "context": 12, "batch": 8, "steps": 60, "lr": 0.01, "eval_every": 30,
        "eval_batches": 4, "seed": 3}  # fmt: skip


@pytest.fixture(autouse=True)
def _home(settings, tmp_path):
    settings.DREAMNET_HOME = tmp_path


def _train(**params):
    job = job_create(kind="lm_train", params={"corpus_text": TEXT, **TINY, **params})
    assert compute_job_task(job.pk) == "succeeded", ComputeJob.objects.get(pk=job.pk).result
    job.refresh_from_db()
    return job


def test_a_train_job_keeps_its_checkpoint_loss_curve_and_a_signed_receipt():
    job = _train()
    result = job.result
    assert result["first_loss"] > 2.5 and result["val_loss"] < 1.6
    assert len(result["losses"]) >= 10 and result["stopped"] == "steps"
    assert {a["name"].rsplit(".", 1)[-1] for a in job.artifacts} == {"loom", "svg", "txt"}
    model = next(a for a in job.artifacts if a["media_type"] == MEDIA_TYPE)
    checkpoint = checkpoint_load(model_name(model["blake3"]))
    assert checkpoint.corpus_digest == corpus_from_bytes(TEXT.encode()).digest == result["corpus_digest"]
    assert checkpoint.weights_sha256() == result["weights_sha256"]
    receipt = Receipt.objects.get(log_index=job.receipt_index)
    assert receipt.operation == "compute.lm_train"
    assert receipt.inputs["corpus_digest"] == result["corpus_digest"] and receipt.inputs["dim"] == 16
    assert receipt.signature
    assert "<polyline" in artifact_read(Artifact.objects.get(blake3=job.artifacts[1]["blake3"])).decode()
    progress = [e.payload["message"] for e in Event.objects.filter(topic="compute.job.progress", payload__job=job.pk)]
    assert any(m.startswith("step 30/60 · loss ") and " tok/s · ETA " in m and "val " in m for m in progress)


def test_a_killed_worker_resumes_from_the_last_checkpoint_to_the_same_weights():
    unbroken = _train()
    job = job_create(kind="lm_train", params={"corpus_text": TEXT, **TINY})
    # The worker died after step 30: its resumable checkpoint is on disk, the job still says running.
    saved = []
    train(corpus_from_bytes(TEXT.encode()), Config.from_dict(job.params), checkpoint_every=30,
          on_checkpoint=saved.append)  # fmt: skip
    path = _resume_path(job.params)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(checkpoint_to_dreamfile(saved[0]))
    ComputeJob.objects.filter(pk=job.pk).update(status="running")
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result["resumed_from"] == 30
    assert job.result["weights_sha256"] == unbroken.result["weights_sha256"]
    assert not path.exists()


def test_a_generate_job_samples_deterministically_from_a_trained_model():
    trained = _train()
    model = model_name(next(a["blake3"] for a in trained.artifacts if a["media_type"] == MEDIA_TYPE))
    texts = []
    for _ in range(2):
        job = job_create(kind="lm_generate", params={"model": model, "prompt": "the ", "max_tokens": 30, "seed": 5})
        assert compute_job_task(job.pk) == "succeeded"
        job.refresh_from_db()
        texts.append(job.result["text"])
    assert texts[0] == texts[1] and len(texts[0]) == 30
    with pytest.raises(JobError) as caught:
        job_create(kind="lm_generate", params={"model": model, "prompt": "x" * 13})
    assert "context is 12" in caught.value.errors["prompt"]
    with pytest.raises(JobError) as caught:
        job_create(kind="lm_generate", params={"model": "loom:" + "0" * 64, "top_p": 2})
    assert set(caught.value.errors) == {"model", "top_p"}


def test_a_stored_model_whose_bytes_changed_is_refused(settings):
    trained = _train()
    blake3 = next(a["blake3"] for a in trained.artifacts if a["media_type"] == MEDIA_TYPE)
    data = bytearray(unpack(artifact_read(Artifact.objects.get(blake3=blake3))).pack())
    data[-1] ^= 1
    forged = artifact_store(content=bytes(data), name="forged.loom", media_type=MEDIA_TYPE)
    with pytest.raises(JobError, match="hash to"):
        job_create(kind="lm_generate", params={"model": model_name(forged.blake3), "prompt": "the"})


@pytest.mark.parametrize(
    ("params", "key", "message"),
    [
        ({"corpus_text": "   "}, "corpus_text", "is empty"),
        ({"corpus_text": "a\x00b" * 50}, "corpus_text", "looks binary"),
        ({"corpus": "../../etc"}, "corpus", "stay inside"),
        ({}, "corpus", "Give corpus"),
        ({"corpus": "shakespeare", "dim": 1024, "blocks": 24, "heads": 16, "context": 1024, "batch": 1024},
         "config", "MiB to train"),
        ({"corpus_text": TEXT, "dim": 30, "heads": 4}, "config", "multiple of heads"),
        ({"corpus_text": "tiny text"}, "corpus", "needs at least"),
    ],
)  # fmt: skip
def test_bad_corpora_and_configurations_are_refused_by_name(params, key, message):
    with pytest.raises(JobError) as caught:
        job_create(kind="lm_train", params=params)
    assert message in caught.value.errors[key]
    assert not ComputeJob.objects.exists()


def test_a_binary_uploaded_artifact_is_refused():
    png = artifact_store(content=b"\x89PNG\r\n\x1a\n" + bytes(300), name="x.png", media_type="image/png")
    with pytest.raises(JobError, match="not UTF-8 text"):
        job_create(kind="lm_train", params={"corpus_artifact": png.blake3})


def test_a_diverging_job_fails_with_the_step_and_the_reason():
    job = job_create(kind="lm_train", params={"corpus_text": TEXT, **TINY, "lr": 1.0})
    ComputeJob.objects.filter(pk=job.pk).update(params=job.params | {"lr": 1e30, "warmup": 0, "min_lr": 1.0})
    assert compute_job_task(job.pk) == "failed"
    job.refresh_from_db()
    assert "nan_loss" in job.message and "at step" in job.message


def test_the_cli_trains_generates_and_chats(tmp_path):
    from dreamnet.cli import app

    corpus = tmp_path / "fox.txt"
    corpus.write_text(TEXT)
    runner = CliRunner()
    out = tmp_path / "fox.dreamfile"
    trained = runner.invoke(app, ["loom", "train", "--corpus", str(corpus), "--dim", "16", "--blocks", "1",
                                  "--heads", "2", "--context", "12", "--steps", "40", "--batch", "8", "--lr", "0.01",
                                  "--eval-every", "20", "--seed", "3", "--out", str(out), "--json"])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = json.loads(trained.stdout.strip().splitlines()[-1])
    assert result["checkpoint"] == str(out) and result["final_loss"] < result["first_loss"]
    assert {"losses", "first_loss", "final_loss", "val_loss"} <= set(result)
    args = ["loom", "generate", "--checkpoint", str(out), "--prompt", "the ", "--max-tokens", "20", "--seed", "1"]
    one, two = runner.invoke(app, args), runner.invoke(app, args)
    assert one.exit_code == 0 and one.stdout == two.stdout and len(one.stdout.strip()) >= 15
    chat = runner.invoke(app, ["loom", "chat", "--checkpoint", str(out), "--max-tokens", "10"], input="the quick\n\n")
    assert chat.exit_code == 0 and "local character-level model" in chat.stdout
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    refused = runner.invoke(app, ["loom", "train", "--corpus", str(empty)])
    assert refused.exit_code == 2 and "empty_corpus" in refused.output
    out.write_bytes(out.read_bytes()[:-1] + bytes([out.read_bytes()[-1] ^ 1]))
    damaged = runner.invoke(app, args)
    assert damaged.exit_code == 2 and "checkpoint_digest_mismatch" in damaged.output
