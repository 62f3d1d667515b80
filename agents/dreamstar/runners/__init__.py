"""DreamStar's mission runners (``ingest`` and ``generate``; see agents/kinds.py)."""
