"""Apps the real-server tests serve (imported by the servers from this folder)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Flask, Response

__all__ = ["flask_app", "CHUNKS"]

CHUNKS = 3

flask_app = Flask(__name__)


@flask_app.route("/stream")
def stream() -> Response:
    """A streamed response: ``CHUNKS`` lines, produced 5 ms apart by a generator."""

    def generate() -> Iterator[str]:
        for i in range(CHUNKS):
            if i:
                time.sleep(0.005)
            yield f"chunk {i}\n"

    return Response(generate(), mimetype="text/plain")
