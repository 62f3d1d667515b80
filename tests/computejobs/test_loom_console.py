"""/console/loom/: trained models with their loss curves and samples; the chat page streams over /ws/loom/."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from compute.loom import Config, corpus_from_bytes, train
from compute.loom.checkpoint import MEDIA_TYPE
from computejobs.services import job_create
from computejobs.tasks import compute_job_task

TEXT = "the quick brown fox jumps over the lazy dog. " * 30
TINY = {"dim": 16, "blocks": 1, "heads": 2, "context": 12, "batch": 8, "steps": 40, "lr": 0.01, "eval_every": 20,
        "eval_batches": 4, "seed": 3}  # fmt: skip


@pytest.fixture(autouse=True)
def _home(settings, tmp_path):
    settings.DREAMNET_HOME = tmp_path


@pytest.mark.django_db
def test_the_console_lists_models_with_curves_and_chats_without_javascript(client, olivia, alice):
    job = job_create(kind="lm_train", params={"corpus_text": TEXT, **TINY})
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    blake3 = next(a["blake3"] for a in job.artifacts if a["media_type"] == MEDIA_TYPE)
    client.force_login(alice)
    assert client.get("/console/loom/").status_code == 302
    client.force_login(olivia)
    page = client.get("/console/loom/").content.decode()
    assert f"loom:{blake3}" in page and "Loss curve of loom-16x1-" in page and 'aria-current="page">Loom' in page
    assert job.result["sample"][:20].replace("'", "&#x27;") in page
    chat = client.get(f"/console/loom/{blake3}/")
    assert chat.status_code == 200 and "js/loom.js" in chat.content.decode()
    answered = client.post(f"/console/loom/{blake3}/", {"prompt": "the ", "max_tokens": 12, "temperature": 0.5,
                                                         "top_k": 0, "top_p": 1, "seed": 1})  # fmt: skip
    assert answered.status_code == 200 and "Generated on the server." in answered.content.decode()
    assert "data-loom-reply>the " in answered.content.decode()  # the prompt, then the model's continuation
    refused = client.post(f"/console/loom/{blake3}/", {"prompt": "x" * 13, "max_tokens": 5, "temperature": 0.5,
                                                       "top_k": 0, "top_p": 1, "seed": 1})  # fmt: skip
    assert refused.status_code == 422 and "prompt_too_long" in refused.content.decode()
    assert client.get(f"/console/loom/{'0' * 64}/").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_the_chat_socket_streams_a_reply_and_refuses_others(olivia, alice):
    from asgiref.sync import sync_to_async

    from dreamnet.asgi import application
    from mesh.services import artifact_store

    @sync_to_async
    def setup():
        checkpoint = train(corpus_from_bytes(TEXT.encode()), Config.from_dict(TINY | {"warmup": 4}))
        stored = artifact_store(content=checkpoint.pack(), name="m.loom", media_type=MEDIA_TYPE)
        cookies = {}
        for user in (olivia, alice):
            c = Client()
            c.force_login(user)
            cookies[user.username] = c.cookies["sessionid"].value
        return f"loom:{stored.blake3}", cookies

    model, cookies = await setup()

    def socket(user):
        headers = [(b"cookie", f"sessionid={cookies[user]}".encode()), (b"origin", b"http://testserver")]
        return WebsocketCommunicator(application, "/ws/loom/", headers=headers)

    ws = socket("olivia")
    assert (await ws.connect())[0]
    await ws.send_json_to({"model": model, "prompt": "the ", "max_tokens": 15, "seed": 2})
    assert (await ws.receive_json_from(timeout=10))["type"] == "start"
    tokens = [await ws.receive_json_from(timeout=10) for _ in range(15)]
    assert all(t["type"] == "token" and len(t["text"]) == 1 for t in tokens)
    assert await ws.receive_json_from(timeout=10) == {"type": "done", "tokens": 15}
    await ws.send_json_to({"model": model, "prompt": "x" * 13})
    error = await ws.receive_json_from(timeout=10)
    assert error["type"] == "error" and error["code"] == "prompt_too_long"
    await ws.send_json_to({"model": model, "prompt": "the", "max_tokens": "lots"})
    assert (await ws.receive_json_from(timeout=10))["code"] == "bad_request"
    await ws.disconnect()
    outsider = socket("alice")
    connected, code = await outsider.connect()
    assert not connected and code == 4403
