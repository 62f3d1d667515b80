"""Training and generation for Loom models, on the CPU (NumPy + autograd), deterministic for a seed.

Training samples random windows of the training split with a seeded NumPy generator, takes AdamW steps with
linear warm-up, cosine decay and gradient clipping (nanoGPT's schedule), evaluates the validation split on fixed
windows every ``eval_every`` steps, keeps the best weights, and stops early after ``patience`` evaluations
without a better validation loss. A non-finite loss stops the run with the step and the reason.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from autograd import value_and_grad

from compute.loom.checkpoint import Checkpoint
from compute.loom.corpus import Corpus, split
from compute.loom.model import F32, Config, Decoder, LoomError, init_params, loss, memory_estimate

ARCH_ENV = "DREAMNET_COMPUTE_ARCH"
MEMORY_ENV = "DREAMNET_LOOM_MAX_MEMORY_MB"
BETAS = (0.9, 0.99)


@dataclass(frozen=True)
class Progress:
    step: int
    steps: int
    loss: float
    val_loss: float | None
    tokens_per_s: float
    eta_s: float


def check_arch() -> str:
    """Loom runs on the CPU. ``DREAMNET_COMPUTE_ARCH=cuda`` is refused by name rather than silently ignored."""
    arch = os.environ.get(ARCH_ENV, "").strip().lower() or "auto"
    if arch == "cuda":
        raise LoomError("cuda_unavailable", f"{ARCH_ENV}=cuda: Loom trains with autograd on NumPy, which runs on the "
                                            "CPU only; set it to auto or cpu.")  # fmt: skip
    return "cpu"


def memory_limit() -> int:
    """Bytes a training run may plan to hold: DREAMNET_LOOM_MAX_MEMORY_MB, else half the machine's memory."""
    if value := os.environ.get(MEMORY_ENV):
        return int(float(value) * 1024 * 1024)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def check_memory(config: Config, vocab: int, limit: int | None = None) -> int:
    """Return the estimate in bytes, or raise LoomError ``config_too_large`` naming it and the limit."""
    estimate, limit = memory_estimate(config, vocab), limit if limit is not None else memory_limit()
    if estimate > limit:
        raise LoomError("config_too_large", f"This configuration needs about {estimate / 2**20:,.0f} MiB to train "
                                            f"(weights, gradients, Adam moments and activations); the limit is "
                                            f"{limit / 2**20:,.0f} MiB ({MEMORY_ENV}). Make dim, blocks, context or "
                                            "batch smaller.")  # fmt: skip
    return estimate


def _lr(config: Config, step: int) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / (config.warmup + 1)
    span = max(1, config.steps - config.warmup)
    ratio = min(1.0, (step - config.warmup) / span)
    return config.min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (config.lr - config.min_lr)


def _windows(ids: np.ndarray, starts: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    rows = starts[:, None] + np.arange(context + 1)
    block = ids[rows]
    return block[:, :-1], block[:, 1:]


def evaluate(params: dict, ids: np.ndarray, config: Config) -> float:
    """Mean loss over ``eval_batches`` fixed windows of ``ids`` (the same windows every time)."""
    rng = np.random.default_rng(1_000_003)
    total = 0.0
    for _ in range(config.eval_batches):
        x, y = _windows(ids, rng.integers(0, len(ids) - config.context - 1, config.batch), config.context)
        total += float(loss(params, x, y, config))
    return total / config.eval_batches


def train(
    corpus: Corpus,
    config: Config,
    *,
    progress: Callable[[Progress], None] | None = None,
    on_checkpoint: Callable[[Checkpoint], None] | None = None,
    checkpoint_every: int = 0,
    checkpoint_seconds: float = 0.0,
    resume: Checkpoint | None = None,
    log_every: int = 0,
    memory_bytes: int | None = None,
) -> Checkpoint:
    """Train a model on ``corpus`` and return the checkpoint of its best validation loss.

    ``on_checkpoint`` receives a resumable checkpoint (with Adam moments and the sampler state) every
    ``checkpoint_every`` steps, and also once ``checkpoint_seconds`` have passed since the last one; ``resume``
    continues such a checkpoint to the same result an unbroken run gives.
    Raises LoomError before training for a bad corpus, a configuration too large for memory or a resume from a
    different corpus or configuration, and during it for a non-finite loss.
    """
    check_arch()
    vocab = corpus.vocab
    check_memory(config, len(vocab), memory_bytes)
    train_ids, val_ids = split(corpus, config.context)
    log_every = log_every or max(1, config.steps // 100)
    rng = np.random.default_rng(config.seed)
    if resume is not None:
        if resume.corpus_digest != corpus.digest or resume.config != config or resume.vocab != vocab:
            raise LoomError("resume_mismatch", "The checkpoint to resume was trained on another corpus or with "
                                               "another configuration.")  # fmt: skip
        state = resume
        params = {k: v.copy() for k, v in resume.params.items()}
        saved = dict(resume.adam or {})
        best = {k: saved.pop(f"best.{k}", v).copy() for k, v in resume.params.items()}
        adam = {k: v.copy() for k, v in saved.items()}
        rng.bit_generator.state = resume.rng_state
    else:
        params = init_params(config, len(vocab), rng)
        adam = {f"{m}.{k}": np.zeros_like(v) for k, v in params.items() for m in ("m", "v")}
        state = Checkpoint(config=config, vocab=vocab, params=params, corpus_digest=corpus.digest,
                           corpus_source=corpus.source)  # fmt: skip
        best = {k: v.copy() for k, v in params.items()}
    step_grad = value_and_grad(loss)
    best_val = state.best_val if state.best_val is not None else math.inf
    stale = sum(1 for _ in _stale_evaluations(state.val_losses))
    started, start_step = time.perf_counter(), state.step
    saved_at = started
    stopped = "steps"
    b1, b2 = BETAS
    for step in range(state.step, config.steps):
        x, y = _windows(train_ids, rng.integers(0, len(train_ids) - config.context - 1, config.batch), config.context)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is caught just below, by name
            value, grads = step_grad(params, x, y, config)
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
        value = float(value)
        if not math.isfinite(value):
            raise LoomError("nan_loss", f"The training loss became {value} at step {step + 1}: the run diverged "
                                        f"(learning rate {config.lr:g} is likely too high); stopped.")  # fmt: skip
        if not math.isfinite(norm):
            raise LoomError("nan_loss", f"The gradient became {norm} at step {step + 1}: the run diverged "
                                        f"(learning rate {config.lr:g} is likely too high); stopped.")  # fmt: skip
        clip = F32(min(1.0, config.grad_clip / (norm + 1e-6))) if config.grad_clip else F32(1.0)
        lr, t = _lr(config, step), step + 1
        c1, c2 = 1 - b1**t, 1 - b2**t
        for name, p in params.items():
            g = grads[name].astype(F32) * clip
            m, v = adam[f"m.{name}"], adam[f"v.{name}"]
            m *= F32(b1)
            m += F32(1 - b1) * g
            v *= F32(b2)
            v += F32(1 - b2) * g * g
            if p.ndim == 2 and config.weight_decay:
                p *= F32(1 - lr * config.weight_decay)
            p -= (F32(lr) * (m / F32(c1)) / (np.sqrt(v / F32(c2)) + F32(1e-8))).astype(F32)
        state.step = t
        if t % log_every == 0 or t == 1 or t == config.steps:
            state.losses.append([t, round(value, 6)])
        val = None
        if t % config.eval_every == 0 or t == config.steps:
            val = evaluate(params, val_ids, config)
            state.val_losses.append([t, round(val, 6)])
            if val < best_val:
                best_val, stale = val, 0
                best = {k: v.copy() for k, v in params.items()}
            else:
                stale += 1
        if progress is not None:
            elapsed = time.perf_counter() - started
            done = t - start_step
            rate = done * config.batch * config.context / elapsed if elapsed > 0 else 0.0
            eta = elapsed / done * (config.steps - t) if done else 0.0
            progress(Progress(t, config.steps, value, val, rate, eta))
        if stale >= config.patience:
            stopped = "early_stop"
            break
        due = bool(checkpoint_every and t % checkpoint_every == 0)
        due = due or bool(checkpoint_seconds and time.perf_counter() - saved_at >= checkpoint_seconds)
        if on_checkpoint is not None and due and t < config.steps:
            saved_at = time.perf_counter()
            state.params, state.best_val = params, best_val
            state.adam = adam | {f"best.{k}": v for k, v in best.items()}
            state.rng_state = rng.bit_generator.state
            on_checkpoint(_copy(state))
    state.params, state.adam, state.rng_state = best, None, None
    state.best_val, state.stopped = (None if best_val == math.inf else best_val), stopped
    state.sample = generate(state, "\n" if "\n" in vocab else vocab[0], max_tokens=200, temperature=0.8, seed=0)
    return state


def _stale_evaluations(val_losses: list) -> list:
    """The evaluations since the best one (so a resumed run keeps counting towards early stopping)."""
    if not val_losses:
        return []
    best_at = min(range(len(val_losses)), key=lambda i: val_losses[i][1])
    return val_losses[best_at + 1 :]


def _copy(state: Checkpoint) -> Checkpoint:
    return Checkpoint(
        config=state.config, vocab=state.vocab, params={k: v.copy() for k, v in state.params.items()},
        corpus_digest=state.corpus_digest, corpus_source=state.corpus_source, step=state.step,
        losses=[list(p) for p in state.losses], val_losses=[list(p) for p in state.val_losses],
        best_val=state.best_val, adam={k: v.copy() for k, v in (state.adam or {}).items()},
        rng_state=state.rng_state,
    )  # fmt: skip


def encode(checkpoint: Checkpoint, prompt: str) -> list[int]:
    """Return the prompt's ids; raise LoomError for characters the model never saw or a prompt past its context."""
    stoi = {c: i for i, c in enumerate(checkpoint.vocab)}
    unknown = sorted({c for c in prompt if c not in stoi})
    if unknown:
        shown = "".join(unknown[:20])
        raise LoomError("unknown_characters", f"The prompt holds {len(unknown)} character(s) the model never saw in "
                                              f"its corpus: {shown!r}.")  # fmt: skip
    if len(prompt) > checkpoint.config.context:
        raise LoomError("prompt_too_long", f"The prompt is {len(prompt)} characters; this model's context is "
                                           f"{checkpoint.config.context}. Shorten it.")  # fmt: skip
    return [stoi[c] for c in prompt]


def sample_next(logits: np.ndarray, rng: np.random.Generator, *, temperature: float, top_k: int, top_p: float) -> int:
    """Pick the next id: greedy at temperature 0, else softmax(logits / temperature) cut to the top k and to the
    smallest set whose probability reaches top_p."""
    if temperature <= 0:
        return int(np.argmax(logits))
    z = logits.astype(np.float64) / temperature
    order = np.argsort(-z, kind="stable")
    if top_k:
        order = order[:top_k]
    probs = np.exp(z[order] - z[order[0]])
    probs /= probs.sum()
    if top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(probs), top_p) + 1)
        order, probs = order[:keep], probs[:keep] / probs[:keep].sum()
    return int(order[rng.choice(len(order), p=probs)])


def generate_stream(checkpoint: Checkpoint, prompt: str, *, max_tokens: int = 200, temperature: float = 0.8,
                    top_k: int = 0, top_p: float = 1.0, seed: int = 0):  # fmt: skip
    """Yield generated characters one at a time (the same ones for the same seed), through the key/value cache
    of :class:`~compute.loom.model.Decoder`."""
    check_arch()
    decoder = Decoder(checkpoint.params, checkpoint.config)
    rng = np.random.default_rng(seed)
    logits = decoder.feed(encode(checkpoint, prompt) or [0])
    for produced in range(max_tokens):
        nxt = sample_next(logits, rng, temperature=temperature, top_k=top_k, top_p=top_p)
        yield checkpoint.vocab[nxt]
        if produced + 1 < max_tokens:
            logits = decoder.feed([nxt])


def generate(checkpoint: Checkpoint, prompt: str, **options) -> str:
    return "".join(generate_stream(checkpoint, prompt, **options))
