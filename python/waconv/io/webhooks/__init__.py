"""Cloud API webhook dumps to canonical events, and canonical events back to webhooks."""
