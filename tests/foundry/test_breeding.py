"""Breeding is pure and deterministic: same parents and seed give the same child; mutation stays in bounds."""

from __future__ import annotations

from agents.foundry.breeding import Genome, breed, prompt_sections

A = Genome("alpha", 1, "gpt-4.1-mini", "gpt-4.1-nano", 0.7, ("catalog_search", "spot_prices"),
           "You are alpha. Use tools for facts.\n\nAnswer briefly.", 1024, 8)  # fmt: skip
B = Genome("beta", 2, "gpt-4.1", "", None, ("mesh_verify", "spot_prices"),
           "You are beta. Check everything twice. State your sources.", 512, 4)  # fmt: skip


def test_the_same_parents_and_seed_give_the_same_child():
    assert breed(A, B, "s1") == breed(A, B, "s1")


def test_another_seed_gives_another_child():
    children = {breed(A, B, f"s{i}").genome for i in range(8)}
    assert len(children) > 1
    assert len({breed(A, B, f"s{i}").digest for i in range(8)}) == 8


def test_crossover_takes_traits_from_the_parents():
    for i in range(20):
        child = breed(A, B, f"seed-{i}")
        genome = child.genome
        assert genome.model in (A.model, B.model)
        assert "spot_prices" in genome.tools  # shared tools are always kept
        assert set(genome.tools) <= set(A.tools) | set(B.tools)
        parent_sections = set(prompt_sections(A.system_prompt)) | set(prompt_sections(B.system_prompt))
        assert set(prompt_sections(genome.system_prompt)) <= parent_sections
        assert genome.system_prompt
        assert child.mutation["crossover"]["model"] in ("alpha", "beta")


def test_mutation_is_bounded():
    for i in range(50):
        genome = breed(A, B, f"m{i}").genome
        if genome.temperature is not None:
            assert 0 <= genome.temperature <= 2
            assert abs(genome.temperature - 0.7) <= 0.2 + 1e-9
        assert 64 <= genome.max_tokens <= 8192
        assert 1 <= genome.max_turns <= 20
        assert min(A.max_turns, B.max_turns) - 1 <= genome.max_turns <= max(A.max_turns, B.max_turns) + 1


def test_prompt_sections_split_paragraphs_then_sentences():
    assert prompt_sections("One.\n\nTwo. Three.") == ["One.", "Two. Three."]
    assert prompt_sections("One. Two! Three?") == ["One.", "Two!", "Three?"]
    assert prompt_sections("") == []
