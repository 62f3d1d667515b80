"""Agent missions: LLM providers, budget governor, durable missions, foundry, DreamStar, codegen."""
