"""The CodeGenerationTeam: a mission kind whose roles (SpecReader, Architect, CodeSmith, Integrator, ContentCraft,
QualityGuard) turn a spec into a gated patch for a registered git workspace. See docs/codegen.md."""
