"""Adapters: tables in and out (pandas, Arrow, polars), Cloud API webhooks, Sunshine, files."""
