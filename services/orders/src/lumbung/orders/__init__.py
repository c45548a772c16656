"""Lumbung orders: orders and their life cycle against inventory."""
