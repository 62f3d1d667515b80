"""Prime Source Direct: B2B precious-metals procurement (catalog, spot feed, quotes, orders, payments)."""
