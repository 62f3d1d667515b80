"""The Atlas Agent Foundry: telemetry traits, hybrid agents bred from proven ones, evaluation against their
parents on the same cases, promotion of the better ones, and their lineage."""
