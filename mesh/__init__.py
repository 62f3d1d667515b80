"""StarBridge mesh: event bus, signed Merkle log, receipts, artifacts, DreamSnail, peers."""
