"""Reusable Qt views, each showing one engine model or query. No threads, no database."""
