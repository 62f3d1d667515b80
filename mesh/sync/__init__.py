"""Node-to-node sync: content-defined chunks, the file formats, the encrypted channel, Portals and Signals.

The modules here that carry bytes (``chunks``, the formats, the channel) import nothing from Django, so the
``dream`` command and a second node can use them without a configured project.
"""
