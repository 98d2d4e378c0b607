"""Watchfloor engine: headless processing, storage and events (never imports Qt)."""
