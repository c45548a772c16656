"""Lumbung books: consignment statements and payments."""
