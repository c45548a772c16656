"""Lumbung inventory: stock per outlet and product, reservations, transfers and restocks."""
