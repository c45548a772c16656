"""Lumbung dashboard: the live ops dashboard."""
