"""Mesh peers: other DreamNet nodes this node watches, and witnesses for its own log.

``witness`` (C2SP tlog-witness request bodies and tlog-cosignature/v1 lines), ``scoring`` (trust arithmetic)
and ``http`` (the outbound client) import nothing from Django; ``services`` holds the writes, ``forms`` the
console forms.
"""
