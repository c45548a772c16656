"""The event-day simulator."""
