"""Chunking: split extracted text by headings, then long sections by size with overlap.

Pure module: imports nothing from Django. Deterministic: the same text and limits give the same chunks, so
re-ingesting is reproducible. Spans are character offsets into the text that was chunked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class Piece:
    heading: str
    text: str
    start: int
    end: int


def sections(text: str) -> list[tuple[str, int, int]]:
    """Return (heading, body start, body end) for each heading's section; text before the first heading has the
    heading ""."""
    found = list(HEADING.finditer(text))
    out = []
    if not found or found[0].start() > 0:
        out.append(("", 0, found[0].start() if found else len(text)))
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        out.append((match.group(2).strip(), match.end(), end))
    return out


def _break_at(text: str, start: int, hard_end: int, floor: int) -> int:
    """Return the best end in (floor, hard_end]: a paragraph break, else a sentence end, else a space."""
    window = text[floor:hard_end]
    for pattern in (r"\n\s*\n", r"[.!?][\"')\]]?\s", r"\s"):
        ends = [m.end() for m in re.finditer(pattern, window)]
        if ends:
            return floor + ends[-1]
    return hard_end


def chunk_text(text: str, *, max_chars: int = 1200, overlap: int = 200) -> list[Piece]:
    """Split ``text`` into pieces of at most ``max_chars`` characters: one or more per heading section, a long
    section in windows that overlap by about ``overlap`` characters and end at a paragraph, sentence or word
    boundary when one lies in the window's second half. Whitespace-only sections give no piece."""
    if max_chars < 1 or not 0 <= overlap < max_chars:
        raise ValueError("max_chars must be positive and overlap in [0, max_chars).")
    pieces: list[Piece] = []
    for heading, start, end in sections(text):
        pos = start
        while pos < end:
            hard_end = min(end, pos + max_chars)
            stop = hard_end if hard_end == end else _break_at(text, pos, hard_end, pos + max_chars // 2)
            _append(pieces, heading, text, pos, stop)
            if stop >= end:
                break
            nxt = max(pos + 1, stop - overlap)
            # start the overlap on a word boundary so no piece begins mid-word
            space = text.find(" ", nxt, stop)
            pos = space + 1 if 0 <= space < stop - 1 and nxt > pos + 1 else nxt
    return pieces


def _append(pieces: list[Piece], heading: str, text: str, start: int, end: int) -> None:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped:
        return
    lead = len(raw) - len(raw.lstrip())
    begin = start + lead
    pieces.append(Piece(heading, stripped, begin, begin + len(stripped)))
