"""Loom's model: a decoder-only, character-level transformer (GPT) whose gradients come from ``autograd``.

Pure NumPy with HIPS ``autograd`` for reverse-mode differentiation: no hand-written backward pass. Parameters
are a flat ``dict[str, float32 array]`` so that a checkpoint is simply their bytes. The layout follows nanoGPT
(pre-norm blocks, learned positions, GELU MLP four times as wide, no biases, output head tied to the token
embedding); activations are kept 2-D ``(batch*time, dim)`` so that every matrix product is one BLAS call.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import autograd.numpy as anp
import numpy as np

F32 = np.float32
LN_EPS = F32(1e-5)
GELU_C = F32(math.sqrt(2 / math.pi))


class LoomError(ValueError):
    """A Loom input or run that cannot go on; ``code`` names the fault (``empty_corpus``, ``nan_loss``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Config:
    """The model's shape and its training schedule (the original brief's ``--dim --blocks --context``)."""

    dim: int = 128
    blocks: int = 4
    heads: int = 4
    context: int = 64
    steps: int = 2000
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup: int = 100
    batch: int = 12
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 250
    eval_batches: int = 20
    patience: int = 3  # evaluations without a better validation loss before stopping early
    seed: int = 0

    LIMITS = {
        "dim": (8, 1024), "blocks": (1, 24), "heads": (1, 32), "context": (2, 1024), "steps": (1, 1_000_000),
        "lr": (1e-6, 1.0e30), "min_lr": (0.0, 1.0), "warmup": (0, 1_000_000), "batch": (1, 1024),
        "weight_decay": (0.0, 10.0), "grad_clip": (0.0, 1e6), "eval_every": (1, 1_000_000),
        "eval_batches": (1, 1000), "patience": (1, 1000), "seed": (0, 2**31 - 1),
    }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """Build from a dict (unknown keys ignored), checking each value; raise LoomError naming every bad one."""
        names = {f.name: f.type for f in fields(cls)}
        values, errors = {}, []
        for name, kind in names.items():
            if name not in data or data[name] is None:
                continue
            raw = data[name]
            try:
                value = float(raw) if kind == "float" else int(raw)
                if kind == "int" and float(raw) != value:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(f"{name} must be a{'' if kind == 'float' else 'n integer'} number; got {raw!r}.")
                continue
            low, high = cls.LIMITS[name]
            if not low <= value <= high:
                errors.append(f"{name} must be between {low:g} and {high:g}; got {value}.")
                continue
            values[name] = value
        config = cls(**values)
        if not errors and config.dim % config.heads:
            errors.append(f"dim ({config.dim}) must be a multiple of heads ({config.heads}).")
        if errors:
            raise LoomError("bad_config", " ".join(errors))
        return config

    def as_dict(self) -> dict:
        return asdict(self)


def param_shapes(config: Config, vocab: int) -> dict[str, tuple[int, ...]]:
    d, shapes = config.dim, {"wte": (vocab, config.dim), "wpe": (config.context, config.dim), "lnf": (config.dim,)}
    for i in range(config.blocks):
        shapes |= {f"b{i}.ln1": (d,), f"b{i}.attn": (d, 3 * d), f"b{i}.proj": (d, d),
                   f"b{i}.ln2": (d,), f"b{i}.fc": (d, 4 * d), f"b{i}.fc2": (4 * d, d)}  # fmt: skip
    return shapes


def param_count(config: Config, vocab: int) -> int:
    return sum(math.prod(s) for s in param_shapes(config, vocab).values())


def init_params(config: Config, vocab: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 * blocks), norms at one."""
    params = {}
    residual = 0.02 / math.sqrt(2 * config.blocks)
    for name, shape in param_shapes(config, vocab).items():
        if len(shape) == 1:
            params[name] = np.ones(shape, F32)
        else:
            std = residual if name.endswith((".proj", ".fc2")) else 0.02
            params[name] = rng.normal(0.0, std, shape).astype(F32)
    return params


def memory_estimate(config: Config, vocab: int) -> int:
    """Bytes a training step holds at its peak: weights, gradients and two Adam moments, plus the activations
    autograd keeps for the backward pass (per block about 20 dim-wide rows and three heads x context attention
    maps per token), doubled for the temporaries NumPy makes on the way."""
    tokens = config.batch * config.context
    weights = 4 * param_count(config, vocab) * 4
    per_block = tokens * (20 * config.dim + 3 * config.heads * config.context)
    activations = (config.blocks * per_block + tokens * (4 * config.dim + 3 * vocab)) * 4
    return weights + 2 * activations


def _layernorm(x, w, xp=anp):
    """Layer norm without bias; ``xp`` is autograd's NumPy for training, plain NumPy for inference (no tracing)."""
    mean = xp.mean(x, axis=-1, keepdims=True)
    centred = x - mean
    var = xp.mean(centred * centred, axis=-1, keepdims=True)
    return centred / xp.sqrt(var + LN_EPS) * w


def _gelu(x, xp=anp):
    return F32(0.5) * x * (F32(1.0) + xp.tanh(GELU_C * (x + F32(0.044715) * x * x * x)))


def one_hot(idx: np.ndarray, vocab: int) -> np.ndarray:
    return (idx.reshape(-1)[:, None] == np.arange(vocab)).astype(F32)


def forward(params, idx: np.ndarray, config: Config):
    """Return the logits ``(batch*time, vocab)`` for token ids ``idx`` of shape ``(batch, time)``."""
    batch, time = idx.shape
    vocab = params["wte"].shape[0]
    d, h = config.dim, config.heads
    hd = d // h
    # Slicing a parameter costs a scatter-add in its gradient: use the whole table when the window fills it.
    wpe = params["wpe"] if time == config.context else params["wpe"][:time]
    pos = anp.reshape(anp.concatenate([wpe] * batch, axis=0), (batch * time, d))
    x = anp.dot(one_hot(idx, vocab), params["wte"]) + pos
    mask = np.triu(np.full((time, time), -1e9, F32), 1)
    scale = F32(1 / math.sqrt(hd))
    for i in range(config.blocks):
        qkv = anp.dot(_layernorm(x, params[f"b{i}.ln1"]), params[f"b{i}.attn"])
        q, k, v = (anp.transpose(anp.reshape(part, (batch, time, h, hd)), (0, 2, 1, 3))
                   for part in anp.split(qkv, 3, axis=1))  # fmt: skip
        att = anp.matmul(q, anp.transpose(k, (0, 1, 3, 2))) * scale + mask
        att = anp.exp(att - anp.max(att, axis=-1, keepdims=True))
        att = att / anp.sum(att, axis=-1, keepdims=True)
        y = anp.reshape(anp.transpose(anp.matmul(att, v), (0, 2, 1, 3)), (batch * time, d))
        x = x + anp.dot(y, params[f"b{i}.proj"])
        x = x + anp.dot(_gelu(anp.dot(_layernorm(x, params[f"b{i}.ln2"]), params[f"b{i}.fc"])), params[f"b{i}.fc2"])
    return anp.dot(_layernorm(x, params["lnf"]), anp.transpose(params["wte"]))


def loss(params, x: np.ndarray, y: np.ndarray, config: Config):
    """Mean cross-entropy (nats per character) of predicting ``y`` from ``x``."""
    logits = forward(params, x, config)
    logits = logits - anp.max(logits, axis=-1, keepdims=True)
    log_z = anp.log(anp.sum(anp.exp(logits), axis=-1))
    picked = anp.sum(logits * one_hot(y, logits.shape[-1]), axis=-1)
    return anp.mean(log_z - picked)


class Decoder:
    """Inference with a key/value cache: each new character costs one row through the blocks, not the window.

    Plain NumPy (no autograd: nothing is differentiated). The cache holds the keys and values of the characters
    in the window, at their positions ``0 .. len(window) - 1``, so :meth:`feed` returns exactly the last row of
    :func:`forward` over the window (to float rounding). When the window is full, the next character shifts it:
    the newest ``context // 2`` characters are kept and re-encoded at positions from 0 (learned positions cannot
    be moved in place), so generation costs one half-window pass every ``context // 2`` characters, and each
    character is predicted from between half and all of the context (llama.cpp shifts its context the same way).
    """

    def __init__(self, params: dict[str, np.ndarray], config: Config) -> None:
        self.params = {name: np.asarray(value, dtype=F32) for name, value in params.items()}
        self.config = config
        h, hd = config.heads, config.dim // config.heads
        self.keys = np.zeros((config.blocks, h, config.context, hd), F32)
        self.values = np.zeros_like(self.keys)
        self.window: list[int] = []

    def feed(self, ids: list[int]) -> np.ndarray:
        """Append ``ids`` to the window (shifting it when full) and return the logits for the next character."""
        if not ids:
            raise LoomError("empty_prompt", "Give at least one character to continue from.")
        context = self.config.context
        if len(self.window) + len(ids) > context:
            kept = (self.window + list(ids))[-max(len(ids), context // 2) :][-context:]
            self.window = []
            return self._run(kept)
        return self._run(list(ids))

    def _run(self, ids: list[int]) -> np.ndarray:
        p, c = self.params, self.config
        start, count = len(self.window), len(ids)
        end = start + count
        h, hd = c.heads, c.dim // c.heads
        x = p["wte"][ids] + p["wpe"][start:end]
        # Query i (position start + i) sees keys 0 .. start + i.
        mask = np.triu(np.full((count, end), -np.inf, F32), start + 1)
        scale = F32(1 / math.sqrt(hd))
        for i in range(c.blocks):
            q, k, v = np.split(_layernorm(x, p[f"b{i}.ln1"], np) @ p[f"b{i}.attn"], 3, axis=1)
            self.keys[i, :, start:end] = k.reshape(count, h, hd).transpose(1, 0, 2)
            self.values[i, :, start:end] = v.reshape(count, h, hd).transpose(1, 0, 2)
            q = q.reshape(count, h, hd).transpose(1, 0, 2)
            att = q @ self.keys[i, :, :end].transpose(0, 2, 1) * scale + mask
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            y = (att @ self.values[i, :, :end]).transpose(1, 0, 2).reshape(count, c.dim)
            x = x + y @ p[f"b{i}.proj"]
            x = x + _gelu(_layernorm(x, p[f"b{i}.ln2"], np) @ p[f"b{i}.fc"], np) @ p[f"b{i}.fc2"]
        self.window.extend(ids)
        return _layernorm(x[-1:], p["lnf"], np)[0] @ p["wte"].T
