"""Sunshine Conversations (Zendesk) webhooks to canonical events."""
