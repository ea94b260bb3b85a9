"""Deterministic TA packages and safe unpacking of uploaded archives."""
