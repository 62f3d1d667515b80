"""Media missions: images, video, speech and transcodes under the budget governor (docs/media.md).

``base`` (results, faults, PyAV probing, local transcodes), ``pricing`` (per-unit Decimal arithmetic),
``offline`` (renderer, PyAV, espeak-ng), ``openai_media`` (the official SDK), ``livepeer`` (Livepeer Studio) are
pure modules; ``runner`` (the kinds), ``backends`` (which one runs), ``services``, ``views`` and ``api`` use Django.
"""
