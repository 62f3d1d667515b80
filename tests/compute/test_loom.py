"""Loom: a tiny transformer learns a small text on the CPU, deterministically, and its checkpoints round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from compute.loom import Config, LoomError, corpus_from_bytes, corpus_from_path, generate, train, unpack
from compute.loom.corpus import SHAKESPEARE
from compute.loom.model import Decoder, forward, memory_estimate
from compute.loom.train import check_memory

TEXT = ("the quick brown fox jumps over the lazy dog. " * 30).encode()
# One block, 16 wide, 12 characters of context: about 4,000 weights, a fraction of a second per 10 steps.
TINY = {"dim": 16, "blocks": 1, "heads": 2, "context": 12, "batch": 8, "steps": 80, "lr": 1e-2, "min_lr": 1e-3, "warmup": 5,
            "eval_every": 40, "eval_batches": 4, "seed": 3}  # fmt: skip


@pytest.fixture(scope="module")
def trained():
    return train(corpus_from_bytes(TEXT), Config.from_dict(TINY))


def test_a_tiny_model_overfits_a_small_text(trained):
    first, final = trained.losses[0][1], trained.losses[-1][1]
    assert first > 2.5  # about ln(vocabulary size) before learning: 28 characters
    assert final < 1.2, trained.losses
    assert trained.best_val < 1.2
    assert [s for s, _ in trained.val_losses] == [40, 80]
    assert trained.stopped == "steps"


def test_training_is_deterministic_for_a_seed(trained):
    again = train(corpus_from_bytes(TEXT), Config.from_dict(TINY | {"steps": 10, "eval_every": 10}))
    twice = train(corpus_from_bytes(TEXT), Config.from_dict(TINY | {"steps": 10, "eval_every": 10}))
    assert again.pack() == twice.pack()
    assert again.losses[0] == trained.losses[0]  # the same first step as the longer run


def test_generation_is_deterministic_for_a_seed(trained):
    one = generate(trained, "the ", max_tokens=40, temperature=0.9, top_k=10, seed=7)
    two = generate(trained, "the ", max_tokens=40, temperature=0.9, top_k=10, seed=7)
    other = generate(trained, "the ", max_tokens=40, temperature=0.9, top_k=10, seed=8)
    assert one == two and len(one) == 40
    assert one != other
    assert set(one) <= set(TEXT.decode())
    greedy = generate(trained, "the quick ", max_tokens=5, temperature=0)
    assert greedy == generate(trained, "the quick ", max_tokens=5, temperature=0)
    assert greedy[0] == "b"  # the text it learned: "the quick brown"


def test_the_cached_decoder_gives_the_full_windows_logits(trained):
    """Every row the key/value cache produces equals the last row of a full forward pass over its window, across
    the shift that a full window makes (12 characters of context: the newest 6 are kept)."""
    config, ids = trained.config, [int(i) for i in np.random.default_rng(0).integers(0, len(trained.vocab), 40)]
    decoder = Decoder(trained.params, config)
    logits = decoder.feed(ids[:5])
    shifted = 0
    for nxt in ids[5:]:
        window = np.array([decoder.window])
        assert np.allclose(logits, np.asarray(forward(trained.params, window, config))[-1], atol=1e-4)
        before = len(decoder.window)
        logits = decoder.feed([nxt])
        shifted += len(decoder.window) < before
        assert len(decoder.window) <= config.context and decoder.window[-1] == nxt
    assert shifted >= 4  # 35 characters through a 12-wide window
    with pytest.raises(LoomError, match="at least one character"):
        decoder.feed([])


def test_a_checkpoint_round_trips_bit_exact(trained):
    data = trained.pack()
    loaded = unpack(data)
    assert loaded.pack() == data
    assert all(np.array_equal(loaded.params[k], v) for k, v in trained.params.items())
    assert loaded.config == trained.config and loaded.vocab == trained.vocab
    assert loaded.corpus_digest == corpus_from_bytes(TEXT).digest


def test_a_checkpoint_whose_bytes_changed_is_refused(trained):
    data = bytearray(trained.pack())
    data[-3] ^= 0x40  # one bit of the last tensor
    with pytest.raises(LoomError, match="hash to") as caught:
        unpack(bytes(data))
    assert caught.value.code == "checkpoint_digest_mismatch"
    with pytest.raises(LoomError) as caught:
        unpack(b"PK\x03\x04 a zip file")
    assert caught.value.code == "not_a_checkpoint"


def test_a_killed_run_resumes_to_the_same_weights():
    config = Config.from_dict(TINY | {"steps": 20, "eval_every": 10})
    corpus = corpus_from_bytes(TEXT)
    saved = []
    unbroken = train(corpus, config, checkpoint_every=10, on_checkpoint=saved.append)
    assert [c.step for c in saved] == [10]
    resumed = train(corpus, config, resume=unpack(saved[0].pack()))
    assert resumed.pack() == unbroken.pack()
    timed = []  # a checkpoint is also due once checkpoint_seconds have passed: here, after every step
    train(corpus, config, checkpoint_seconds=1e-9, on_checkpoint=timed.append)
    assert [c.step for c in timed] == list(range(1, 20))
    assert train(corpus, config, resume=unpack(timed[6].pack())).pack() == unbroken.pack()


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty_corpus"), (b"  \n\t ", "empty_corpus"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary_corpus"),
     (bytes(range(256)) * 4, "binary_corpus"), (b"text\x00with nul " * 10, "binary_corpus")],
)  # fmt: skip
def test_empty_or_binary_corpora_are_refused(data, code):
    with pytest.raises(LoomError) as caught:
        corpus_from_bytes(data)
    assert caught.value.code == code


def test_a_corpus_too_small_for_its_context_is_refused():
    with pytest.raises(LoomError, match="needs at least") as caught:
        train(corpus_from_bytes(b"short text here"), Config.from_dict(TINY))
    assert caught.value.code == "corpus_too_small"


def test_a_configuration_that_does_not_fit_memory_is_refused_before_training():
    big = Config.from_dict({"dim": 1024, "blocks": 24, "heads": 16, "context": 1024, "batch": 64})
    estimate = memory_estimate(big, 65)
    assert estimate > 10 * 2**30
    with pytest.raises(LoomError, match=r"needs about [\d,]+ MiB") as caught:
        check_memory(big, 65, limit=2**30)
    assert caught.value.code == "config_too_large"
    with pytest.raises(LoomError) as caught:
        train(corpus_from_bytes(TEXT), big, memory_bytes=2**30)
    assert caught.value.code == "config_too_large"


def test_a_diverging_run_stops_with_the_step_and_the_reason():
    with pytest.raises(LoomError, match=r"at step \d+") as caught:
        train(corpus_from_bytes(TEXT), Config.from_dict(TINY | {"lr": 1e30, "warmup": 0, "grad_clip": 0}))
    assert caught.value.code == "nan_loss"


def test_bad_configurations_name_every_wrong_value():
    with pytest.raises(LoomError) as caught:
        Config.from_dict({"dim": 0, "heads": "many", "context": 64})
    assert caught.value.code == "bad_config"
    assert "dim must be between" in str(caught.value) and "heads must be an integer" in str(caught.value)
    with pytest.raises(LoomError, match="multiple of heads"):
        Config.from_dict({"dim": 30, "heads": 4})


def test_prompts_longer_than_the_context_or_with_unseen_characters_are_refused(trained):
    with pytest.raises(LoomError, match="context is 12") as caught:
        generate(trained, "x" * 13, max_tokens=1)
    assert caught.value.code == "prompt_too_long"
    with pytest.raises(LoomError) as caught:
        generate(trained, "QZ", max_tokens=1)
    assert caught.value.code == "unknown_characters"


def test_cuda_is_refused_by_name(monkeypatch, trained):
    monkeypatch.setenv("DREAMNET_COMPUTE_ARCH", "cuda")
    with pytest.raises(LoomError) as caught:
        generate(trained, "the", max_tokens=1)
    assert caught.value.code == "cuda_unavailable"


def test_the_bundled_shakespeare_ships_with_its_licence():
    corpus = corpus_from_path("shakespeare")
    assert len(corpus.text) == 1_115_394 and len(corpus.vocab) == 65
    assert (SHAKESPEARE.parent / "LICENSE").is_file()
