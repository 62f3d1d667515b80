"""Loom jobs and checkpoints on the node: train and generate in the worker, keep checkpoints as artifacts.

A trained model is the artifact of its ``lm_train`` job's ``.loom`` output (the mesh keeps it as a
``.dreamfile``); it is named ``loom:<blake3>`` wherever a model is chosen (``lm_generate``, the chat, an agent's
model). While a job trains it writes a resumable checkpoint every ``LOOM_CHECKPOINT_EVERY`` steps to
``$DREAMNET_HOME/loom/resume/<key>.dreamfile`` (the key digests the corpus and the configuration): a worker that
is killed and recovered continues from it, to the same weights an unbroken run gives. It also saves at least
every ``LOOM_CHECKPOINT_SECONDS``: a training longer than ``DREAMNET_Q_TIMEOUT_S`` is killed by the task cluster
and resumed by the recovery schedule, run after run, until it ends.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

import mesh.dreamfile as dreamfile
from compute.loom import Checkpoint, Config, Corpus, LoomError, generate, train, unpack
from compute.loom.checkpoint import MEDIA_TYPE
from computejobs.svg import STYLE

Output = tuple[str, str, bytes]
Progress = Callable[[float, str], None]

PREFIX = "loom:"
LOOM_CHECKPOINT_EVERY = 50
# Also save at least this often: Django-Q2 kills a task at DREAMNET_Q_TIMEOUT_S and the recovery schedule resumes
# it, so a long training spans several worker runs and loses at most this much work each time.
LOOM_CHECKPOINT_SECONDS = 60.0


def model_name(blake3: str) -> str:
    return f"{PREFIX}{blake3}"


def checkpoint_to_dreamfile(checkpoint: Checkpoint) -> bytes:
    return dreamfile.pack(checkpoint.pack(), name=f"{checkpoint.name}.loom", media_type=MEDIA_TYPE,
                          compression="zstd")  # fmt: skip


def checkpoint_from_file_bytes(data: bytes) -> Checkpoint:
    """Read a checkpoint from a ``.dreamfile`` (verified) or from raw Loom bytes; raise LoomError."""
    if data[:4] == dreamfile.MAGIC:
        try:
            _header, data = dreamfile.unpack(data)
        except dreamfile.DreamfileError as exc:
            raise LoomError("checkpoint_digest_mismatch", f"The checkpoint file fails its own check: {exc}") from exc
    return unpack(data)


def checkpoint_load(model: str) -> Checkpoint:
    """Return the checkpoint that ``loom:<blake3>`` (or a bare BLAKE3) names, verified; raise LoomError."""
    from mesh.models import Artifact
    from mesh.services import artifact_read

    digest = model.removeprefix(PREFIX)
    artifact = Artifact.objects.filter(blake3=digest, media_type=MEDIA_TYPE).first() if digest else None
    if artifact is None:
        raise LoomError("unknown_model", f"No Loom model {model!r} on this node; train one with an lm_train job.")
    try:
        data = artifact_read(artifact)
    except (dreamfile.DreamfileError, OSError) as exc:
        raise LoomError(
            "checkpoint_digest_mismatch", f"The stored model {digest[:12]}… fails its check: {exc}"
        ) from exc
    return unpack(data)


def _resume_path(params: dict) -> Path:
    key = hashlib.sha256(json.dumps({k: params.get(k) for k in sorted(params) if k != "memory_mb"}, sort_keys=True,
                                    default=str).encode()).hexdigest()[:32]  # fmt: skip
    return Path(settings.DREAMNET_HOME) / "loom" / "resume" / f"{key}.dreamfile"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _eta(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def train_job(params: dict, corpus: Corpus, progress: Progress) -> tuple[dict, list[Output]]:
    """Train (or resume) the job's model; raise LoomError (``corpus_changed``, ``nan_loss``, ...)."""
    if corpus.digest != params.get("corpus_digest"):
        raise LoomError("corpus_changed", "The corpus changed after the job was queued (its digest differs).")
    config = Config.from_dict(params)
    resume_path = _resume_path(params)
    resume, resumed_from = None, None
    if resume_path.is_file():
        try:
            resume = checkpoint_from_file_bytes(resume_path.read_bytes())
            resumed_from = resume.step
            progress(resume.step / config.steps, f"resuming from step {resume.step} (a worker stopped)")
        except LoomError:
            resume = None  # a damaged partial checkpoint: start again
    every = max(1, config.steps // 100)

    def report(p) -> None:
        if p.step % every == 0 or p.step == p.steps or p.val_loss is not None:
            val = f" · val {p.val_loss:.4f}" if p.val_loss is not None else ""
            progress(0.02 + 0.95 * p.step / p.steps, f"step {p.step}/{p.steps} · loss {p.loss:.4f}{val} · "
                                                     f"{p.tokens_per_s:,.0f} tok/s · ETA {_eta(p.eta_s)}")  # fmt: skip

    started = time.perf_counter()
    try:
        checkpoint = train(corpus, config, progress=report, resume=resume, checkpoint_every=LOOM_CHECKPOINT_EVERY,
                           checkpoint_seconds=LOOM_CHECKPOINT_SECONDS, on_checkpoint=lambda c: _write_atomic(resume_path, checkpoint_to_dreamfile(c)))  # fmt: skip
    except LoomError:
        resume_path.unlink(missing_ok=True)  # a run that diverged would diverge again from its checkpoint
        raise
    seconds = time.perf_counter() - started
    resume_path.unlink(missing_ok=True)
    losses = checkpoint.losses
    summary = {
        "name": checkpoint.name, "config": config.as_dict(), "corpus_digest": corpus.digest,
        "corpus_source": corpus.source, "vocab_size": len(checkpoint.vocab), "steps_run": checkpoint.step,
        "stopped": checkpoint.stopped, "first_loss": losses[0][1], "final_loss": losses[-1][1],
        "val_loss": checkpoint.best_val, "losses": losses, "val_losses": checkpoint.val_losses,
        "sample": checkpoint.sample, "seconds": round(seconds, 2), "resumed_from": resumed_from,
        "weights_sha256": checkpoint.weights_sha256(),
    }  # fmt: skip
    outputs = [
        (f"{checkpoint.name}.loom", MEDIA_TYPE, checkpoint.pack()),
        ("loss.svg", "image/svg+xml", loss_svg(losses, checkpoint.val_losses, title=checkpoint.name).encode()),
        ("sample.txt", "text/plain", checkpoint.sample.encode()),
    ]
    return summary, outputs


def generate_job(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
    checkpoint = checkpoint_load(params["model"])
    progress(0.05, f"generating {params['max_tokens']} characters")
    started = time.perf_counter()
    options = {k: params[k] for k in ("max_tokens", "temperature", "top_k", "top_p", "seed")}
    text = generate(checkpoint, params["prompt"], **options)
    seconds = time.perf_counter() - started
    summary = {"model": params["model"], "name": checkpoint.name, "prompt": params["prompt"], "text": text,
               "tokens": len(text), "tokens_per_s": round(len(text) / seconds, 1) if seconds else None,
               "seconds": round(seconds, 3)}  # fmt: skip
    return summary, [("generated.txt", "text/plain", (params["prompt"] + text).encode())]


def loss_svg(losses: list, val_losses: list, *, title: str) -> str:
    """Training (violet) and validation (gold) loss against step."""
    from xml.sax.saxutils import escape

    width, height, pad = 480, 240, 36
    points = list(losses + val_losses)
    if not points:
        points = [[0, 0.0]]
    hi_x = max(p[0] for p in points) or 1
    lo_y, hi_y = min(p[1] for p in points), max(p[1] for p in points)
    span = (hi_y - lo_y) or 1.0

    def px(step: float, value: float) -> str:
        return f"{pad + step / hi_x * (width - 2 * pad):.1f},{height - pad - (value - lo_y) / span * (height - 2 * pad):.1f}"

    def line(series: list, colour: str) -> str:
        if not series:
            return ""
        return (f'<polyline points="{" ".join(px(s, v) for s, v in series)}" fill="none" stroke="{colour}" '
                f'stroke-width="2"/>')  # fmt: skip

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<rect width="{width}" height="{height}" fill="#0d1020"/>{line(losses, "#7c5cff")}{line(val_losses, "#f5b942")}'
        f'<text x="{pad}" y="16" fill="#e8eaf6" style="{STYLE}">{escape(title)}: train (violet), validation (gold)</text>'
        f'<text x="4" y="{pad}" fill="#a3a9c7" style="{STYLE}">{hi_y:.2f}</text>'
        f'<text x="4" y="{height - pad}" fill="#a3a9c7" style="{STYLE}">{lo_y:.2f}</text>'
        f'<text x="{width - pad - 60}" y="{height - 8}" fill="#a3a9c7" style="{STYLE}">step {hi_x}</text></svg>'
    )
