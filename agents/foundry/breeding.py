"""Deterministic crossover and bounded mutation of two agents' traits.

Pure module: imports nothing from Django. Every random choice comes from one ``random.Random`` seeded with the
SHA-256 of the parents' slugs and versions and the seed, so the same parents and seed always give the same
child, on any machine.

Crossover takes the model (with its fallback), the temperature and the limits from one parent or the other, the
tools as a seeded mix of both parents' tools, and the system prompt as a recombination of both parents' prompt
sections (paragraphs, or sentences when a prompt has one paragraph). Mutation jitters the numeric traits within
bounds and re-orders the prompt sections; each change is written to the mutation record.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import Any

TEMPERATURE_JITTER = 0.2  # at most this much either way, then clamped to [0, 2]
LIMIT_JITTER = 0.1  # max_tokens and max_turns move by at most 10 % (at least 1 turn)
MAX_TOKENS_BOUNDS = (64, 8192)
MAX_TURNS_BOUNDS = (1, 20)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Genome:
    """The heritable traits of an agent."""

    slug: str
    version: int
    model: str
    fallback_model: str
    temperature: float | None
    tools: tuple[str, ...]
    system_prompt: str
    max_tokens: int
    max_turns: int


@dataclass(frozen=True)
class Offspring:
    genome: Genome
    digest: str  # hex SHA-256 of the breeding inputs; names the child
    mutation: dict[str, Any] = field(default_factory=dict)


def breeding_digest(a: Genome, b: Genome, seed: str) -> str:
    """Return the hex digest that seeds the generator (parent order matters; callers order them)."""
    text = f"{a.slug}@{a.version}|{b.slug}@{b.version}|{seed}"
    return hashlib.sha256(text.encode()).hexdigest()


def prompt_sections(prompt: str) -> list[str]:
    """Split a system prompt into sections: its paragraphs, or its sentences when it has one paragraph."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", prompt) if p.strip()]
    if len(paragraphs) > 1:
        return paragraphs
    return [s.strip() for s in _SENTENCE.split(prompt.strip()) if s.strip()]


def breed(a: Genome, b: Genome, seed: str, *, slug: str = "") -> Offspring:
    """Return the child of ``a`` and ``b`` for ``seed``: crossover, then a bounded mutation."""
    digest = breeding_digest(a, b, seed)
    rng = random.Random(int(digest, 16))  # noqa: S311  (reproducible breeding, not secrecy)
    record: dict[str, Any] = {"seed": seed, "digest": digest, "crossover": {}, "mutation": {}}

    def pick(name: str) -> Genome:
        parent = a if rng.random() < 0.5 else b
        record["crossover"][name] = parent.slug
        return parent

    model_parent = pick("model")
    temperature = pick("temperature").temperature
    limits_parent = pick("limits")
    tools = _mix_tools(rng, a.tools, b.tools)
    record["crossover"]["tools"] = list(tools)

    sections_a, sections_b = prompt_sections(a.system_prompt), prompt_sections(b.system_prompt)
    sections = _recombine(rng, sections_a, sections_b)
    record["crossover"]["prompt_sections"] = len(sections)

    if temperature is not None:
        jittered = round(min(2.0, max(0.0, temperature + rng.uniform(-TEMPERATURE_JITTER, TEMPERATURE_JITTER))), 2)
        record["mutation"]["temperature"] = [temperature, jittered]
        temperature = jittered
    max_tokens = _jitter(rng, limits_parent.max_tokens, MAX_TOKENS_BOUNDS)
    max_turns = _jitter(rng, limits_parent.max_turns, MAX_TURNS_BOUNDS)
    record["mutation"]["max_tokens"] = [limits_parent.max_tokens, max_tokens]
    record["mutation"]["max_turns"] = [limits_parent.max_turns, max_turns]
    if len(sections) > 1:
        order = list(range(len(sections)))
        rng.shuffle(order)
        sections = [sections[i] for i in order]
        record["mutation"]["prompt_order"] = order

    child = Genome(
        slug=slug or f"hybrid-{digest[:10]}",
        version=1,
        model=model_parent.model,
        fallback_model=model_parent.fallback_model,
        temperature=temperature,
        tools=tools,
        system_prompt="\n\n".join(sections),
        max_tokens=max_tokens,
        max_turns=max_turns,
    )
    return Offspring(child, digest, record)


def _mix_tools(rng: random.Random, a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """Keep the tools both parents share; keep each tool only one parent has with even odds."""
    shared = [t for t in a if t in b]
    single = [t for t in (*a, *b) if (t in a) != (t in b)]
    kept = shared + [t for t in single if rng.random() < 0.5]
    return tuple(sorted(set(kept)))


def _recombine(rng: random.Random, a: list[str], b: list[str]) -> list[str]:
    """Take each section position from one parent or the other (a parent's extra sections with even odds)."""
    sections: list[str] = []
    for i in range(max(len(a), len(b))):
        options = [s for s in (a[i] if i < len(a) else None, b[i] if i < len(b) else None) if s]
        if len(options) == 1 and rng.random() < 0.5 and sections:
            continue
        choice = options[0] if len(options) == 1 else options[rng.random() < 0.5]
        if choice not in sections:
            sections.append(choice)
    return sections


def _jitter(rng: random.Random, value: int, bounds: tuple[int, int]) -> int:
    step = max(1, round(value * LIMIT_JITTER))
    return min(bounds[1], max(bounds[0], value + rng.randint(-step, step)))
