"""``asgi.receive`` / ``asgi.send``: the task that made the call, calls that raised, file sends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from shim_asgi_apps import call, http_scope
from starlette.responses import FileResponse

import tracer
from tracer import events as K

pytestmark = pytest.mark.timeout(60)


def _record(app: Any, **extra: Any) -> tracer.Recorder:
    rec = tracer.Recorder()
    asyncio.run(call(tracer.instrument(app, recorder=rec), **extra))
    return rec


def _calls(rec: tracer.Recorder) -> list[tuple[str, Any, str | None, Any]]:
    return [
        (e.kind, e.data.get("type"), e.task, e.data.get("raised"))
        for e in rec.events
        if e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)
    ]


async def sends_from_a_child(scope: dict[str, Any], receive: Any, send: Any) -> None:
    async def child() -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hi"})

    await asyncio.create_task(child(), name="child")


def test_a_call_made_by_another_task_of_the_request_names_that_task() -> None:
    """The request's calls made from a child task are on the child's lane, as its steps."""
    rec = _record(sends_from_a_child)
    assert _calls(rec) == [
        (K.ASGI_RECEIVE, "http.request", "child", None),
        (K.ASGI_SEND, "http.response.start", "child", None),
        (K.ASGI_SEND, "http.response.body", "child", None),
    ]
    root = next(e.task for e in rec.events if e.kind == K.REQUEST_START)
    assert root != "child"


async def times_out_receiving(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()  # the request body
    try:
        await asyncio.wait_for(receive(), 0.001)  # nothing more comes: cancelled
    except TimeoutError:
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_a_cancelled_receive_is_recorded_with_how_it_ended() -> None:
    """``await receive()`` cancelled while waiting is one ``asgi.receive`` too, with no type and
    ``raised: CancelledError``, in the order the calls began."""
    calls = _calls(_record(times_out_receiving))
    assert [(kind, mtype, raised) for kind, mtype, _, raised in calls] == [
        (K.ASGI_RECEIVE, "http.request", None),
        (K.ASGI_RECEIVE, None, "CancelledError"),
        (K.ASGI_SEND, "http.response.start", None),
        (K.ASGI_SEND, "http.response.body", None),
    ]


def test_a_send_the_server_refused_says_what_it_raised() -> None:
    """A server ``send`` that raises (the client left): the attempt is recorded with
    ``raised``, and the app sees the server's exception itself."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    gone = OSError("client went away")

    async def send(message: dict[str, Any]) -> None:
        raise gone

    rec = tracer.Recorder()
    with pytest.raises(OSError) as raised:
        asyncio.run(tracer.instrument(app, recorder=rec)(http_scope(), receive, send))
    assert raised.value is gone
    assert [(k, t, r) for k, t, _, r in _calls(rec)] == [
        (K.ASGI_SEND, "http.response.start", "OSError")
    ]


def test_a_pathsend_counts_the_files_size_and_ends_the_response(tmp_path: Path) -> None:
    """Starlette's ``FileResponse`` with the ``http.response.pathsend`` extension: the send's
    ``bytes`` and ``request.end``'s ``bytes_out`` are the file's size, and it is the last body
    message (``more_body`` false)."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"z" * 12345)
    rec = _record(FileResponse(path), extensions={"http.response.pathsend": {}})
    sends = [e.data for e in rec.events if e.kind == K.ASGI_SEND]
    assert [(d["type"], d["bytes"], d["more_body"]) for d in sends] == [
        ("http.response.start", None, None),
        ("http.response.pathsend", 12345, False),
    ]
    end = next(e for e in rec.events if e.kind == K.REQUEST_END)
    assert end.data["bytes_out"] == 12345


async def sends_missing_and_counted_files(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.pathsend", "path": "/nonexistent/gateway-tracer"})
    with open(__file__, "rb") as file:
        await send({"type": "http.response.zerocopysend", "file": file, "count": 7})
        await send({"type": "http.response.zerocopysend", "file": file, "offset": 10})


def test_file_sends_count_what_they_send_and_never_fail() -> None:
    """A ``pathsend`` of a file that cannot be read has no ``bytes`` (the recording goes on);
    a ``zerocopysend`` counts its ``count``, else the file from ``offset`` to its end."""
    rec = _record(sends_missing_and_counted_files)
    size = Path(__file__).stat().st_size
    sends = [(e.data["type"], e.data["bytes"]) for e in rec.events if e.kind == K.ASGI_SEND]
    assert sends[1:] == [
        ("http.response.pathsend", None),
        ("http.response.zerocopysend", 7),
        ("http.response.zerocopysend", size - 10),
    ]
    end = next(e for e in rec.events if e.kind == K.REQUEST_END)
    assert end.data["bytes_out"] == 7 + size - 10
