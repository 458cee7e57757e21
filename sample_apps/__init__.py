"""Bundled WSGI and ASGI apps used by demos, docs and tests."""
