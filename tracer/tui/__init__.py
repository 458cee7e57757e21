"""The Textual UI: replay, compare and the live dashboard.

Reads ``Recording`` objects only; never imports a shim or a server model (a test enforces it).
Textual is imported by the submodules, so ``import tracer.tui`` itself stays cheap.
"""

from __future__ import annotations

__all__: list[str] = []
