"""Events of a kind this release does not know (one a later release may write): the OTLP
exports ignore them, as docs/recording-format.md says readers do. They make no request of
their own, and they change nothing of a request they name, in a file's export or live."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

import tracer
from sample_apps.hello import asgi_app
from tracer.cli import main
from tracer.otel.live import exporting
from tracer.otel.testing import memory_provider

HEADER: dict[str, Any] = {"format": "gateway-trace", "version": 1, "interface": "asgi"}
FUTURE = "future.kind"


def _event(seq: int, t: int, kind: str, req: Any, data: dict[str, Any], dur: Any = None) -> str:
    row = {"seq": seq, "t": t, "kind": kind, "req": req, "pid": 1, "tid": 1, "thread": "x"}
    return json.dumps({**row, "task": None, "dur": dur, "data": data})


def _export(tmp_path: Path, lines: list[str]) -> dict[int, Any]:
    """Server spans of the otlp-json export of ``lines``, by ``tracer.request_id``."""
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([json.dumps(HEADER), *lines]) + "\n")
    out = tmp_path / "r.json"
    assert main(["export", str(path), "--to", "otlp-json", "-o", str(out)]) == 0
    servers = {}
    for line in out.read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    if span["kind"] == 2:  # SERVER
                        attrs = {a["key"]: a["value"] for a in span["attributes"]}
                        servers[int(attrs["tracer.request_id"]["intValue"])] = span
    return servers


def _recording(*extra: str) -> list[str]:
    """Request 1 from t=0 to t=40; request 2 started at 10, last seen at 30, never ended."""
    start = {"method": "GET", "path": "/", "scope_type": "http"}
    return [
        _event(0, 0, "request.start", 1, start),
        _event(1, 10, "request.start", 2, start),
        _event(2, 20, "sched.step", 2, {"cpu_ns": 5, "awaiting": None}, dur=10),
        _event(3, 40, "request.end", 1, {"status": 200, "bytes_out": 2, "error": None}),
        *extra,
    ]


def test_an_unknown_kind_makes_no_request(tmp_path: Path) -> None:
    """The repro: one event of a future kind naming a request no other event names."""
    plain = _export(tmp_path, _recording())
    future = _event(10**6, 40, FUTURE, 999999, {}, dur=5)
    servers = _export(tmp_path, _recording(future))
    assert sorted(servers) == sorted(plain) == [1, 2]


def test_an_unknown_kind_changes_nothing_of_a_known_request(tmp_path: Path) -> None:
    """Naming request 2 (still open) late in the file: request 2 still ends where the
    recording's known events end (t=40), not at the unknown event's t=500 + 5; and naming
    request 1 after its end leaves it as it was."""
    plain = _export(tmp_path, _recording())
    servers = _export(
        tmp_path,
        _recording(
            _event(4, 500, FUTURE, 2, {"status": 599}, dur=5),
            _event(5, 600, FUTURE, 1, {"error": "timeout"}, dur=5),
        ),
    )
    assert servers[2]["endTimeUnixNano"] == plain[2]["endTimeUnixNano"] == "40"
    assert servers == plain


def test_live_an_unknown_kind_makes_no_span() -> None:
    """``instrument(app, tracer_provider=...)``: an event of an unknown kind on the recorder,
    naming a request of its own and one the app served, adds no span and changes none."""
    provider, exporter = memory_provider()
    rec = tracer.Recorder()
    app = tracer.instrument(asgi_app, recorder=rec, tracer_provider=provider)

    async def get() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await c.get("/one")

    asyncio.run(get())
    (served,) = {e.req for e in rec.events if e.kind == "request.start"}
    rec.emit(FUTURE, 999999, {}, dur=5)
    rec.emit(FUTURE, served, {}, dur=5)
    live = exporting(rec, provider)
    assert live is not None
    live.close()
    spans = exporter.get_finished_spans()
    assert [s.attributes["tracer.request_id"] for s in spans] == [served]
    assert "tracer.incomplete" not in spans[0].attributes
    rec.close()
