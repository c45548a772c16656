"""Plumbing shared by every Lumbung service; no business rules live here."""
