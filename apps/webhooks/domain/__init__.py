"""Pure webhook logic: event types, the signed envelope, the retry schedule (no Django imports)."""
