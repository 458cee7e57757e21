"""A small hand-built recording on disk, with a known wall-clock anchor."""

from __future__ import annotations

from pathlib import Path

from tracer import events as K
from tracer.recorder import Recorder

UNIX_NS = 1_764_100_000_000_000_000


def two_requests(path: Path) -> str:
    """GET /items (200, two sends) and GET /fail (500 after an exception), saved at ``path``."""
    rec = Recorder(
        start_ns=0,
        clock=lambda: 0,
        wall_clock=lambda: UNIX_NS,
        app="shop:app",
        interface="asgi",
        server={"model": "loop"},
    )
    start = {
        "method": "GET",
        "path": "/items",
        "query": "token=[redacted]",
        "http_version": "1.1",
        "scheme": "http",
        "scope_type": "http",
        "headers": [["host", "127.0.0.1:8000"], ["authorization", "[redacted]"]],
    }
    rec.emit(K.REQUEST_START, 1, start, t=1_000, tid=7, thread="MainThread")
    rec.emit(K.SCHED_STEP, 1, {"cpu_ns": 10}, t=1_000, dur=500, tid=7, thread="MainThread")
    rec.emit(K.ASGI_SEND, 1, {"type": "http.response.start", "status": 200}, t=1_100, dur=10, tid=7)
    rec.emit(K.ASGI_SEND, 1, {"type": "http.response.body", "bytes": 2}, t=1_200, dur=10, tid=7)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=2_000, tid=7)
    rec.emit(K.REQUEST_START, 2, {**start, "path": "/fail"}, t=3_000, tid=7, thread="MainThread")
    rec.emit(K.ERROR, 2, {"type": "RuntimeError", "message": "down"}, t=3_500, tid=7)
    rec.emit(K.REQUEST_END, 2, {"status": 500, "error": "RuntimeError"}, t=4_000, tid=7)
    return rec.save(path)


HOSTILE = "".join(map(chr, range(0x20))) + "\x1b[31mRED\x7f\x9b\u202e\ufffe"
"""Every C0 control (NUL, ESC, ...), DEL, a C1 control, a bidi override and a noncharacter:
none may stand in an XML document as it is, and a terminal obeys the controls."""


def hostile_recording(path: Path) -> str:
    """A recording whose header label, app, server model and bookmark label hold ``HOSTILE``
    (as an app's or a hand-edited file's strings may)."""
    rec = Recorder(
        start_ns=0,
        clock=lambda: 0,
        app="app" + HOSTILE,
        interface="asgi",
        server={"model": "loop" + HOSTILE},
        label="label" + HOSTILE,
    )
    rec.emit(K.REQUEST_START, 1, {"method": "GET", "path": "/"}, t=1_000)
    rec.emit(K.SCHED_STEP, 1, {"cpu_ns": 10}, t=1_000, dur=500)
    rec.emit(K.MARK, None, {"label": "mark" + HOSTILE, "caption": "cap" + HOSTILE}, t=1_200)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=2_000)
    return rec.save(path)
