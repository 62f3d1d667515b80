"""Loom: a small character-level language model trained on the node's own text (CPU, NumPy + autograd).

Pure compute: imports no app. ``compute.loom.train.train`` trains from a :class:`~compute.loom.corpus.Corpus`,
``generate``/``generate_stream`` sample from a :class:`~compute.loom.checkpoint.Checkpoint`, and checkpoints pack
to deterministic bytes that the mesh stores as ``.dreamfile`` artifacts. See docs/loom.md.
"""

from compute.loom.checkpoint import Checkpoint, header_of, unpack
from compute.loom.corpus import Corpus, corpus_from_bytes, corpus_from_path
from compute.loom.model import Config, LoomError
from compute.loom.train import Progress, generate, generate_stream, train

__all__ = [
    "Checkpoint",
    "Config",
    "Corpus",
    "LoomError",
    "Progress",
    "corpus_from_bytes",
    "corpus_from_path",
    "generate",
    "generate_stream",
    "header_of",
    "train",
    "unpack",
]
