"""Text extraction: txt, Markdown, HTML and PDF bytes to plain text whose headings are Markdown ``#`` lines.

Pure module: imports nothing from Django. PDF text comes from pypdf (a maintained, pure-Python reader: no system
library, no subprocess); HTML goes through the standard library's parser.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from dreamnet.errors import DomainError

# media type -> file name extensions it is recognised by
MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "text/plain": (".txt", ".text"),
    "text/markdown": (".md", ".markdown"),
    "text/html": (".html", ".htm"),
    "application/pdf": (".pdf",),
}


class ExtractError(DomainError):
    """The bytes are not a readable document of the type they claim (corrupt, binary, or empty)."""

    code = "corrupt_file"


def media_type_for(name: str) -> str | None:
    """Return the supported media type of a file name by its extension, or None when unsupported."""
    lowered = name.lower()
    return next((mt for mt, exts in MEDIA_TYPES.items() if lowered.endswith(exts)), None)


def extract_text(content: bytes, media_type: str) -> str:
    """Return the document's text, headings as ``#`` lines, whitespace tidied; raise ExtractError when unreadable.

    Raises ValueError for a media type this module does not handle (callers check with :func:`media_type_for`).
    """
    if media_type == "application/pdf":
        text = _pdf(content)
    elif media_type in ("text/plain", "text/markdown"):
        text = _decode(content)
    elif media_type == "text/html":
        text = _html(_decode(content))
    else:
        raise ValueError(f"Unsupported media type {media_type!r}.")
    text = _tidy(text)
    if not text:
        raise ExtractError("The document has no text to index.")
    return text


def _decode(content: bytes) -> str:
    if b"\x00" in content:
        raise ExtractError("The file holds binary data (NUL bytes), not text.")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractError(f"The file is not UTF-8 text (bad byte at offset {exc.start}).") from None


def _pdf(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not content.startswith(b"%PDF-"):
        raise ExtractError("The file does not start with a PDF header (%PDF-).")
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise ExtractError(f"The PDF cannot be read: {exc}") from None
    if not any(p.strip() for p in pages):
        raise ExtractError("The PDF has no extractable text (a scan needs OCR first).")
    return "\n\n".join(pages)


_BLOCKS = {"p", "div", "section", "article", "li", "ul", "ol", "br", "tr", "table", "blockquote", "pre", "header",
           "footer", "main", "aside", "nav", "dd", "dt", "figcaption"}  # fmt: skip
_SKIPPED = {"script", "style", "head", "template", "noscript", "svg"}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.heading: int | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIPPED:
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.heading = int(tag[1])
            self.parts.append("\n\n" + "#" * self.heading + " ")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self.heading = None
            self.parts.append("\n\n")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        # a heading stays on its one line, whatever the markup's line breaks
        self.parts.append(re.sub(r"\s+", " ", data) if self.heading else data)


def _html(markup: str) -> str:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _tidy(text: str) -> str:
    """Normalise newlines, strip trailing spaces, collapse runs of blank lines and spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
