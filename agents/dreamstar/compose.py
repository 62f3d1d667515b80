"""Generation prompts and citations: the numbered-sources prompt, citation parsing, and the offline writer.

Pure module: imports nothing from Django. The offline provider recognises a DreamStar request by :data:`TAG`, the
first line of its system message, and answers with :func:`offline_answer`: an extractive text built only from
the numbered sources, each sentence cited, labelled as offline output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TAG = "[dreamstar.generate]"
FORMATS = {
    "summary": "a concise summary (one short paragraph, then key points as a list)",
    "article": "a short article with a title, an introduction and sections",
    "product_copy": "product copy: a headline, a one-paragraph pitch and benefit bullets",
}
OFFLINE_LABEL = "[offline provider]"
OFFLINE_FOOTER = (
    "Written by DreamNet's offline rule-based provider from the cited sources; no language model was called."
)
CITATION = re.compile(r"\[(\d{1,3})\]")
_SOURCE = re.compile(r"^\[(\d{1,3})\] (.*)$")


@dataclass(frozen=True)
class Source:
    number: int
    title: str
    text: str


def system_message(agent_prompt: str) -> str:
    """Return the system message: the tag line, the agent's own prompt, and the citation rules."""
    return "\n".join(
        [
            TAG,
            agent_prompt.strip(),
            "Write only from the numbered sources in the user message. After every sentence that uses a source, "
            "cite it as [n] with its number. Never cite a number that is not listed; if the sources do not cover "
            "the brief, say so.",
        ]
    )


def user_message(*, prompt: str, fmt: str, sources: list[Source]) -> str:
    """Return the user message: the format, the brief, then one block per numbered source."""
    lines = [f"Format: {fmt} ({FORMATS[fmt]})", f"Brief: {' '.join(prompt.split())}", "", "Sources:"]
    for source in sources:
        lines.append(f"[{source.number}] {source.title}")
        lines.append(" ".join(source.text.split()))
    return "\n".join(lines)


def parse_user_message(message: str) -> tuple[str, str, list[Source]]:
    """Return (format, brief, sources) from a message :func:`user_message` wrote."""
    fmt = brief = ""
    sources: list[Source] = []
    lines = message.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Format: ") and not fmt:
            fmt = line[len("Format: ") :].split(" ", 1)[0]
        elif line.startswith("Brief: ") and not brief:
            brief = line[len("Brief: ") :]
        elif (match := _SOURCE.match(line)) and i + 1 < len(lines):
            sources.append(Source(int(match.group(1)), match.group(2), lines[i + 1]))
            i += 1
        i += 1
    return fmt, brief, sources


def citations_check(text: str, allowed: set[int]) -> tuple[str, list[int], list[int]]:
    """Return (text with unknown citations removed, cited numbers in first-use order, dropped numbers).

    A citation ``[n]`` whose n is not in ``allowed`` points at nothing that was retrieved: it is removed from the
    text and reported, so a stored generation cites ingested chunks only.
    """
    cited: list[int] = []
    dropped: list[int] = []

    def keep(match: re.Match) -> str:
        number = int(match.group(1))
        if number in allowed:
            if number not in cited:
                cited.append(number)
            return match.group(0)
        if number not in dropped:
            dropped.append(number)
        return ""

    cleaned = CITATION.sub(keep, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned), cited, dropped


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "in", "is", "it", "of", "on", "or",
     "that", "the", "this", "to", "was", "what", "with"]
)  # fmt: skip


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 2]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def offline_answer(system: str, user: str) -> str:
    """Compose a labelled, extractive answer from the numbered sources in ``user``; every point cites [n].

    Picks, per source, the sentence sharing most words with the brief (ties: the earliest), so the same request
    always gives the same text.
    """
    fmt, brief, sources = parse_user_message(user)
    wanted = set(_WORD.findall(brief.lower())) - _STOP
    picks: list[tuple[int, str]] = []
    for source in sources:
        sentences = _sentences(source.text) or [source.text]
        best = max(sentences, key=lambda s: (len(wanted & set(_WORD.findall(s.lower()))), -sentences.index(s)))
        picks.append((source.number, _clip(best, 400)))
    title = {"summary": "Summary", "article": "Article", "product_copy": "Product copy"}.get(fmt, "Summary")
    lines = [f"{OFFLINE_LABEL} {title}: {brief}", ""]
    if not picks:
        lines.append("No ingested source matches this brief, so nothing can be written with citations.")
    elif fmt == "article":
        lines.append(f"{picks[0][1]} [{picks[0][0]}]")
        for number, sentence in picks[1:]:
            title_of = next(s.title for s in sources if s.number == number)
            lines += ["", f"## {title_of or 'Source ' + str(number)}", "", f"{sentence} [{number}]"]
    elif fmt == "product_copy":
        lines.append(f"**{picks[0][1]}** [{picks[0][0]}]")
        lines += [""] + [f"- {sentence} [{number}]" for number, sentence in picks[1:]]
    else:
        lines.append(f"{picks[0][1]} [{picks[0][0]}]")
        if len(picks) > 1:
            lines += ["", "Key points:"] + [f"- {sentence} [{number}]" for number, sentence in picks[1:]]
    lines += ["", OFFLINE_FOOTER]
    return "\n".join(lines)
