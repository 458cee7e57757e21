"""Reading the small knobs the sample apps take from their query string (``?ms=20``)."""

from __future__ import annotations

from urllib.parse import parse_qs

__all__ = ["query_number"]


def query_number(query: str | bytes, name: str, default: float) -> float:
    """The number ``name`` in a query string, or ``default`` when absent or malformed."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    values = parse_qs(query).get(name)
    try:
        return float(values[0]) if values else default
    except ValueError:
        return default
