"""Loom corpora: text in, character vocabulary and id arrays out, with the checks that refuse bad input."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compute.loom.model import LoomError

SHAKESPEARE = Path(__file__).resolve().parent.parent / "data" / "tinyshakespeare" / "input.txt"
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".text")
MAX_CORPUS_BYTES = 64 * 1024 * 1024
VAL_FRACTION = 0.1


@dataclass(frozen=True)
class Corpus:
    text: str
    digest: str  # SHA-256 of the UTF-8 text: the receipt's and the checkpoint's name for the data
    source: str

    @property
    def vocab(self) -> str:
        return "".join(sorted(set(self.text)))


def corpus_from_bytes(data: bytes, *, source: str = "upload") -> Corpus:
    """Decode and check a corpus: refuse empty, binary (NUL bytes, not UTF-8, or mostly control characters)."""
    if not data.strip():
        raise LoomError("empty_corpus", f"The corpus {source} is empty: give some text to learn from.")
    if len(data) > MAX_CORPUS_BYTES:
        raise LoomError("corpus_too_large", f"The corpus {source} is {len(data):,} bytes; the limit is "
                                            f"{MAX_CORPUS_BYTES:,}.")  # fmt: skip
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoomError("binary_corpus", f"The corpus {source} is not UTF-8 text (byte {exc.start} is "
                                         f"{data[exc.start]:#04x}); Loom learns from text.") from exc  # fmt: skip
    control = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t")
    if "\x00" in text or control > len(text) // 100:
        raise LoomError("binary_corpus", f"The corpus {source} holds {control} control characters in "
                                         f"{len(text)}; it looks binary, and Loom learns from text.")  # fmt: skip
    text = text.replace("\r\n", "\n")
    return Corpus(text=text, digest=hashlib.sha256(text.encode()).hexdigest(), source=source)


def corpus_from_path(path: str | Path) -> Corpus:
    """Read a text file, or every text file under a folder (sorted, joined by blank lines); ``shakespeare``
    names the bundled tiny Shakespeare."""
    if str(path) == "shakespeare":
        path = SHAKESPEARE
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise LoomError("empty_corpus", f"The folder {path} holds no text files ({', '.join(TEXT_SUFFIXES)}).")
        return corpus_from_bytes(b"\n\n".join(p.read_bytes() for p in files), source=str(path))
    if not path.is_file():
        raise LoomError("corpus_not_found", f"No corpus at {path}: give a text file, a folder or `shakespeare`.")
    return corpus_from_bytes(path.read_bytes(), source=str(path))


def split(corpus: Corpus, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (train, validation) id arrays: the first 90% and the last 10% of the text, each long enough to
    hold one window of ``context`` characters and its next-character targets."""
    stoi = {c: i for i, c in enumerate(corpus.vocab)}
    ids = np.fromiter((stoi[c] for c in corpus.text), dtype=np.int64, count=len(corpus.text))
    cut = int(len(ids) * (1 - VAL_FRACTION))
    train, val = ids[:cut], ids[cut:]
    need = context + 2
    if len(val) < need or len(train) < need:
        raise LoomError("corpus_too_small", f"The corpus has {len(ids)} characters; with context {context} it needs "
                                            f"at least {need * 10} so that its last tenth can validate.")  # fmt: skip
    return train, val
