"""Phase 3: summaries shaped like Meta's analytics, what-if comparison, reconciliation, plots."""
