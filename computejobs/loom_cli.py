"""``dream loom``: train a Loom model on a text corpus, generate from it, chat with it (no server needed).

Checkpoints are written as ``.dreamfile`` files (verified on every read). ``--corpus shakespeare`` trains on the
bundled tiny Shakespeare.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Loom: a small character-level language model trained on this node.", no_args_is_help=True)


def _fail(exc: Exception) -> None:
    code = getattr(exc, "code", "error")
    typer.echo(f"error ({code}): {exc}", err=True)
    raise typer.Exit(2)


def _default_dir() -> Path:
    return Path(os.environ.get("DREAMNET_HOME", "var")) / "loom"


@app.command("train")
def train_cmd(
    corpus: Annotated[str, typer.Option(help="A text file, a folder of text files, or `shakespeare`.")],
    dim: Annotated[int, typer.Option(help="Embedding width.")] = 64,
    blocks: Annotated[int, typer.Option(help="Transformer blocks.")] = 2,
    heads: Annotated[int, typer.Option(help="Attention heads (dim must be a multiple).")] = 4,
    context: Annotated[int, typer.Option(help="Characters of context.")] = 64,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 500,
    batch: Annotated[int, typer.Option(help="Windows per step.")] = 12,
    lr: Annotated[float, typer.Option(help="Peak learning rate (AdamW, cosine decay to lr/10).")] = 1e-3,
    eval_every: Annotated[int, typer.Option(help="Validate every this many steps.")] = 100,
    patience: Annotated[int, typer.Option(help="Stop after this many validations without improvement.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of initialisation and sampling.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Checkpoint file (default $DREAMNET_HOME/loom/NAME.dreamfile).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Train a model; print losses, validation loss and the checkpoint's path."""
    from compute.loom import Config, LoomError, corpus_from_path, train
    from computejobs.loom import checkpoint_to_dreamfile

    try:
        text = corpus_from_path(corpus)
        config = Config.from_dict({"dim": dim, "blocks": blocks, "heads": heads, "context": context, "steps": steps,
                                       "batch": batch, "lr": lr, "min_lr": lr / 10, "eval_every": eval_every,
                                       "patience": patience, "seed": seed, "warmup": min(100, steps // 10)})  # fmt: skip

        def show(p) -> None:
            if p.step % max(1, steps // 20) == 0 or p.step == p.steps:
                val = f" val {p.val_loss:.4f}" if p.val_loss is not None else ""
                typer.echo(f"step {p.step}/{p.steps} loss {p.loss:.4f}{val} {p.tokens_per_s:,.0f} tok/s "
                           f"ETA {p.eta_s:.0f}s", err=as_json)  # fmt: skip

        started = time.perf_counter()
        checkpoint = train(text, config, progress=show)
        seconds = time.perf_counter() - started
    except LoomError as exc:
        _fail(exc)
    path = out or _default_dir() / f"{checkpoint.name}.dreamfile"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(checkpoint_to_dreamfile(checkpoint))
    result = {
        "checkpoint": str(path), "name": checkpoint.name, "config": config.as_dict(),
        "corpus_digest": text.digest, "corpus_chars": len(text.text), "vocab_size": len(checkpoint.vocab),
        "losses": checkpoint.losses, "val_losses": checkpoint.val_losses, "first_loss": checkpoint.losses[0][1],
        "final_loss": checkpoint.losses[-1][1], "val_loss": checkpoint.best_val, "stopped": checkpoint.stopped,
        "steps_run": checkpoint.step, "seconds": round(seconds, 2), "sample": checkpoint.sample,
    }  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"validation loss {checkpoint.best_val:.4f} after {checkpoint.step} steps ({checkpoint.stopped}); "
                   f"checkpoint {path}")  # fmt: skip
        typer.echo(checkpoint.sample)


def _load(path: Path):
    from compute.loom import LoomError
    from computejobs.loom import checkpoint_from_file_bytes

    try:
        return checkpoint_from_file_bytes(path.read_bytes())
    except OSError as exc:
        _fail(exc)
    except LoomError as exc:
        _fail(exc)


@app.command("generate")
def generate_cmd(
    checkpoint: Annotated[Path, typer.Option(help="A checkpoint written by `dream loom train`.")],
    prompt: Annotated[str, typer.Option(help="Text to continue (at most the model's context).")] = "",
    max_tokens: Annotated[int, typer.Option(help="Characters to generate.", min=1)] = 200,
    temperature: Annotated[float, typer.Option(help="0 is greedy.", min=0.0)] = 0.8,
    top_k: Annotated[int, typer.Option(help="Sample from the k likeliest (0: all).", min=0)] = 0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.", min=0.01, max=1.0)] = 1.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
) -> None:
    """Stream a continuation of the prompt."""
    from compute.loom import LoomError, generate_stream

    model = _load(checkpoint)
    try:
        for char in generate_stream(model, prompt, max_tokens=max_tokens, temperature=temperature, top_k=top_k,
                                    top_p=top_p, seed=seed):  # fmt: skip
            sys.stdout.write(char)
            sys.stdout.flush()
    except LoomError as exc:
        _fail(exc)
    sys.stdout.write("\n")


@app.command("chat")
def chat_cmd(
    checkpoint: Annotated[Path, typer.Option(help="A checkpoint written by `dream loom train`.")],
    max_tokens: Annotated[int, typer.Option(help="Characters per reply.", min=1)] = 200,
    temperature: Annotated[float, typer.Option(min=0.0)] = 0.8,
    seed: Annotated[int, typer.Option(help="Seed of the first reply (each next reply adds one).")] = 0,
) -> None:
    """Read a line, stream the model's continuation of it; an empty line or end of input ends the chat."""
    from compute.loom import LoomError, generate_stream

    model = _load(checkpoint)
    typer.echo(f"{model.name}: a local character-level model (context {model.config.context}); empty line ends.")
    for turn, line in enumerate(sys.stdin):
        prompt = line.rstrip("\n")
        if not prompt:
            break
        try:
            for char in generate_stream(model, prompt, max_tokens=max_tokens, temperature=temperature,
                                        seed=seed + turn):  # fmt: skip
                sys.stdout.write(char)
                sys.stdout.flush()
        except LoomError as exc:
            typer.echo(f"\nerror ({exc.code}): {exc}", err=True)
        sys.stdout.write("\n")
