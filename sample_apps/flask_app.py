"""A Flask app (WSGI): hello, an I/O-bound route, a CPU-bound route and a body echo.

Needs the ``frameworks`` extra (``pip install 'gateway-tracer[frameworks]'``).
Run it with ``trace run sample_apps.flask_app:app --path /io``.
"""

from __future__ import annotations

import time

from flask import Flask, request

from sample_apps.cpu_bound import burn

__all__ = ["app"]

app = Flask(__name__)


@app.get("/")
def index() -> str:
    """Hello."""
    return "Hello, World!"


@app.get("/io")
def io_bound() -> str:
    """Wait ``?ms`` (100) milliseconds with ``time.sleep``."""
    time.sleep(float(request.args.get("ms", 100)) / 1000)
    return "done"


@app.get("/cpu")
def cpu_bound() -> str:
    """Burn ``?ms`` (20) milliseconds of CPU."""
    return str(burn(float(request.args.get("ms", 20))))


@app.post("/echo")
def echo() -> bytes:
    """Send the request body back."""
    return request.get_data()
