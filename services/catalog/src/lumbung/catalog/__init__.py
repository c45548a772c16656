"""Lumbung catalog: products, suppliers, outlets, calendar events and API keys."""
