"""Loom benchmark: nanoGPT's CPU reference configuration on tiny Shakespeare, against its published loss.

    .venv/bin/python bench/loom.py [--quick] [--json] [--steps N]

Trains the configuration of nanoGPT's README "I only have a macbook" run (4 layers, 4 heads, 128 wide, context 64,
batch 12, 2,000 iterations, lr 1e-3 decaying to 1e-4, dropout 0) on the bundled tiny Shakespeare (first 90% train,
last 10% validation) and prints:
- the best validation loss (nats per character; 20 fixed validation batches) against the published ~1.88;
- wall time and CPU time of training against the 10-minute aim;
- one training step's time against its matrix products alone in plain NumPy with the same shapes, measured in
  the same run (what autograd's bookkeeping and the element-wise work add on top of BLAS);
- generation speed (characters per second, 500 characters at temperature 0.8) through the key/value cache,
  against the same generation recomputing the whole window for every character (the reference, same run).
``--quick`` trains 200 steps (its loss is not comparable with 1.88; it checks the pipeline and the speed).
Set OPENBLAS_NUM_THREADS=1 on a machine others share: BLAS threads that wait for a busy core cost more than they
gain at these sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PUBLISHED_VAL_LOSS = 1.88
AIM_S = 600.0


def _matmul_floor_s(config, vocab: int, repeats: int = 20) -> float:
    """Seconds for one step's matrix products (forward, and twice that for the backward) in plain NumPy."""
    import numpy as np

    rng = np.random.default_rng(0)
    n, d, t = config.batch * config.context, config.dim, config.context
    hd = d // config.heads
    a = {k: rng.standard_normal(s).astype(np.float32) for k, s in {
        "x": (n, d), "h": (n, 4 * d), "attn": (d, 3 * d), "proj": (d, d), "fc": (d, 4 * d), "fc2": (4 * d, d),
        "wte": (vocab, d), "oh": (n, vocab), "q": (config.batch, config.heads, t, hd),
        "att": (config.batch, config.heads, t, t)}.items()}  # fmt: skip

    def forward() -> None:
        np.dot(a["oh"], a["wte"])
        for _ in range(config.blocks):
            np.dot(a["x"], a["attn"])
            np.matmul(a["q"], np.swapaxes(a["q"], 2, 3))
            np.matmul(a["att"], a["q"])
            np.dot(a["x"], a["proj"])
            np.dot(a["x"], a["fc"])
            np.dot(a["h"], a["fc2"])
        np.dot(a["x"], a["wte"].T)

    started = time.perf_counter()
    for _ in range(repeats):
        forward()
    return 3 * (time.perf_counter() - started) / repeats


def _full_window_rate(checkpoint, prompt: str, count: int) -> float:
    """Characters per second when every character runs the whole window through the model (no cache)."""
    import numpy as np

    from compute.loom.model import forward
    from compute.loom.train import encode, sample_next

    ids, rng, context = encode(checkpoint, prompt), np.random.default_rng(0), checkpoint.config.context
    started = time.perf_counter()
    for _ in range(count):
        logits = np.asarray(forward(checkpoint.params, np.array([ids[-context:]]), checkpoint.config))[-1]
        ids.append(sample_next(logits, rng, temperature=0.8, top_k=0, top_p=1.0))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 steps: speed and pipeline, not the loss")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of ratios")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 2000, quick 200)")
    args = parser.parse_args()
    os.environ.setdefault("DREAMNET_HOME", tempfile.mkdtemp(prefix="dreamnet-bench-"))

    from compute.loom import Config, corpus_from_path, generate, train

    steps = args.steps or (200 if args.quick else 2000)
    config = Config.from_dict({"dim": 128, "blocks": 4, "heads": 4, "context": 64, "batch": 12, "steps": steps,
                               "lr": 1e-3, "min_lr": 1e-4, "warmup": 100, "eval_every": 250 if steps >= 500 else steps,
                               "eval_batches": 20, "patience": 100, "seed": 1337})  # fmt: skip
    corpus = corpus_from_path("shakespeare")
    last = [0.0]

    def show(p) -> None:
        now = time.perf_counter()
        if p.val_loss is not None or now - last[0] > 30:
            last[0] = now
            val = f" val {p.val_loss:.4f}" if p.val_loss is not None else ""
            print(f"  step {p.step}/{p.steps} loss {p.loss:.4f}{val} {p.tokens_per_s:,.0f} tok/s ETA {p.eta_s:.0f}s",
                  file=sys.stderr, flush=True)  # fmt: skip

    wall0, cpu0 = time.perf_counter(), time.process_time()
    checkpoint = train(corpus, config, progress=show)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    floor = _matmul_floor_s(config, len(corpus.vocab))
    gen0 = time.perf_counter()
    text = generate(checkpoint, "ROMEO:", max_tokens=500, temperature=0.8, seed=0)
    gen_rate = len(text) / (time.perf_counter() - gen0)
    full_rate = _full_window_rate(checkpoint, "ROMEO:", 500)
    step_s = wall / checkpoint.step
    rows = [
        ("configuration", f"4 layers x 4 heads x 128 wide, context 64, batch 12, {checkpoint.step} steps"),
        ("validation loss", f"{checkpoint.best_val:.4f} nats/char (published nanoGPT CPU run: ~{PUBLISHED_VAL_LOSS})"),
        ("final training loss", f"{checkpoint.losses[-1][1]:.4f}"),
        ("training wall time", f"{wall:.1f} s (aim: validation loss <= 1.9 within {AIM_S:.0f} s)"),
        ("training CPU time", f"{cpu:.1f} s (this process; the rest of the wall time went to other work)"),
        ("one step", f"{step_s * 1000:.0f} ms; its matrix products alone in NumPy: {floor * 1000:.1f} ms"),
        (
            "generation",
            f"{gen_rate:,.0f} characters/s with the key/value cache; {full_rate:,.0f} characters/s "
            f"recomputing the window ({gen_rate / full_rate:.1f}x)",
        ),
        ("sample", repr(text[:160])),
    ]
    for name, value in rows:
        print(f"{name:<22} {value}")
    if args.json:
        print(json.dumps({
            "val_loss": round(checkpoint.best_val, 4), "steps": checkpoint.step, "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1), "generate_chars_per_s": round(gen_rate, 1),
            "cached_generation_vs_full_window": round(gen_rate / full_rate, 2),
            "val_loss_vs_published_1_88": round(checkpoint.best_val / PUBLISHED_VAL_LOSS, 3),
            "wall_vs_10_minute_aim": round(wall / AIM_S, 3),
            "step_vs_numpy_matmul_floor": round(step_s / floor, 2),
        }))  # fmt: skip


if __name__ == "__main__":
    main()
