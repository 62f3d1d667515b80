"""Loom checkpoints: a model's weights (and, to resume, its optimiser state) as deterministic bytes.

Layout: ``b"LOOM"``, a big-endian u32 header length, the UTF-8 JSON header (sorted keys), then each tensor's
float32 little-endian bytes in the header's ``tensors`` order. The header names the configuration, the
vocabulary, the corpus digest, the step, the loss history and ``weights_sha256`` (SHA-256 of every tensor byte);
loading recomputes the digest and refuses a checkpoint whose bytes do not match. The same state always packs to
the same bytes, so a checkpoint round-trips bit-exact. The mesh stores these bytes as a ``.dreamfile`` artifact.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field

import numpy as np

from compute.loom.model import F32, Config, LoomError, param_shapes

MAGIC = b"LOOM"
FORMAT = 1
MEDIA_TYPE = "application/x-dreamnet-loom"


@dataclass
class Checkpoint:
    config: Config
    vocab: str
    params: dict[str, np.ndarray]
    corpus_digest: str = ""
    corpus_source: str = ""
    step: int = 0
    losses: list = field(default_factory=list)  # [[step, train loss], ...]
    val_losses: list = field(default_factory=list)  # [[step, validation loss], ...]
    best_val: float | None = None
    stopped: str = ""  # why training ended: "steps", "early_stop", or "" while running
    adam: dict[str, np.ndarray] | None = None  # "m.<name>" and "v.<name>", kept to resume
    rng_state: dict | None = None  # the batch sampler's NumPy bit-generator state, kept to resume
    sample: str = ""

    @property
    def name(self) -> str:
        return f"loom-{self.config.dim}x{self.config.blocks}-{self.corpus_digest[:8]}"

    def weights_sha256(self) -> str:
        digest = hashlib.sha256()
        for _name, array in self._tensors():
            digest.update(np.ascontiguousarray(array, dtype="<f4").tobytes())
        return digest.hexdigest()

    def _tensors(self) -> list[tuple[str, np.ndarray]]:
        items = [(n, self.params[n]) for n in param_shapes(self.config, len(self.vocab))]
        if self.adam is not None:
            items += [(n, self.adam[n]) for n in sorted(self.adam)]
        return items

    def pack(self) -> bytes:
        tensors = self._tensors()
        header = {
            "format": FORMAT, "config": self.config.as_dict(), "vocab": self.vocab,
            "corpus_digest": self.corpus_digest, "corpus_source": self.corpus_source, "step": self.step,
            "losses": self.losses, "val_losses": self.val_losses, "best_val": self.best_val,
            "stopped": self.stopped, "rng_state": self.rng_state, "sample": self.sample,
            "tensors": [[n, list(a.shape)] for n, a in tensors], "weights_sha256": self.weights_sha256(),
        }  # fmt: skip
        head = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        body = b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for _n, a in tensors)
        return MAGIC + struct.pack(">I", len(head)) + head + body


def header_of(data: bytes) -> dict:
    """Return a checkpoint's header without reading its tensors; raise LoomError on a file that is not one."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise LoomError("not_a_checkpoint", "This is not a Loom checkpoint (it does not start with LOOM).")
    (size,) = struct.unpack(">I", data[4:8])
    try:
        header = json.loads(data[8 : 8 + size])
    except ValueError as exc:
        raise LoomError("not_a_checkpoint", f"The checkpoint header is not JSON: {exc}") from exc
    if header.get("format") != FORMAT:
        raise LoomError("not_a_checkpoint", f"Checkpoint format {header.get('format')!r}; this node reads {FORMAT}.")
    return header


def unpack(data: bytes) -> Checkpoint:
    """Read a checkpoint, recomputing its weights digest; raise LoomError ``checkpoint_digest_mismatch`` when the
    bytes are not those the header names."""
    header = header_of(data)
    offset = 8 + struct.unpack(">I", data[4:8])[0]
    arrays: dict[str, np.ndarray] = {}
    for name, shape in header["tensors"]:
        count = int(np.prod(shape)) if shape else 1
        chunk = data[offset : offset + 4 * count]
        if len(chunk) != 4 * count:
            raise LoomError("checkpoint_truncated", f"The checkpoint ends inside tensor {name}.")
        arrays[name] = np.frombuffer(chunk, dtype="<f4").astype(F32).reshape(shape)
        offset += 4 * count
    if offset != len(data):
        raise LoomError("checkpoint_truncated", f"The checkpoint has {len(data) - offset} bytes after its tensors.")
    config = Config(**header["config"])
    params = {n: arrays.pop(n) for n in param_shapes(config, len(header["vocab"]))}
    checkpoint = Checkpoint(
        config=config, vocab=header["vocab"], params=params, corpus_digest=header["corpus_digest"],
        corpus_source=header["corpus_source"], step=header["step"], losses=header["losses"],
        val_losses=header["val_losses"], best_val=header["best_val"], stopped=header["stopped"],
        adam=arrays or None, rng_state=header["rng_state"], sample=header.get("sample", ""),
    )  # fmt: skip
    actual = checkpoint.weights_sha256()
    if actual != header["weights_sha256"]:
        raise LoomError("checkpoint_digest_mismatch", f"The checkpoint's weights hash to {actual[:16]}…, not the "
                                                      f"{header['weights_sha256'][:16]}… its header names: the "
                                                      "file is damaged or was altered.")  # fmt: skip
    return checkpoint
