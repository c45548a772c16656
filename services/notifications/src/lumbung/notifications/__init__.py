"""Lumbung notifications: restock alerts to suppliers and alerts to ops."""
