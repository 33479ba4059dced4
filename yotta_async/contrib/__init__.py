"""Adapters that plug yotta-async into other frameworks (each behind its own optional extra)."""
