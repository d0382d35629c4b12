"""Phase 2 data: markets by date, rate cards, volume tiers (readers and the shipped files)."""
