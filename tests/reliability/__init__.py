"""Faults, double submits, real task round trips and races."""
