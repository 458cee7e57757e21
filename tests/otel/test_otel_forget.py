"""``SpanModel.forget``: what a streamed export calls at a request's last event, so the model
lets go of the ended request's end and of late work its app never ended, with the spans
already made unchanged; and the export, which uses it, reaches into no private table."""

from __future__ import annotations

import inspect
from typing import Any

from otel_recordings import LOOP, LOOP_TID, UNIX_NS, label, recorder, start_data

from tracer import events as K
from tracer.events import Event
from tracer.export import otlp
from tracer.otel.sink import make_sink
from tracer.otel.spans import ABANDONED, SpanModel
from tracer.otel.testing import memory_provider

TIMEOUT = {"status": None, "bytes_in": 0, "bytes_out": 0, "error": "timeout"}
APP_END = {"status": 200, "bytes_in": 0, "bytes_out": 5, "error": None}
SEND = {"type": "http.response.body", "bytes": 5, "more_body": False}


def _timed_out() -> tuple[list[Event], list[Event]]:
    """An in-process timeout: the request and its model's end at 900 ns (the client gave up),
    then the app's late send and its own end; split there."""
    rec = recorder()
    rec.emit(K.REQUEST_QUEUED, 1, {"method": "GET", "path": "/slow"}, t=0, tid=LOOP_TID)
    rec.emit(K.REQUEST_START, 1, start_data(path="/slow"), t=100, tid=LOOP_TID, thread=LOOP)
    rec.emit(K.REQUEST_END, 1, TIMEOUT, t=900, tid=LOOP_TID)
    rec.emit(K.ASGI_SEND, 1, SEND, t=1_500, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 1, APP_END, t=2_000, tid=LOOP_TID)
    events = rec.recording().events
    return events[:3], events[3:]


def _model() -> tuple[SpanModel, Any]:
    provider, exporter = memory_provider()
    return SpanModel(make_sink(provider), base_ns=UNIX_NS), exporter


def _names(exporter: Any) -> list[str]:
    return [label(span) for span in exporter.get_finished_spans()]


def test_without_forget_the_apps_end_makes_the_abandoned_work() -> None:
    """The control: the model keeps the end it emitted the request at, and the app's own end
    then makes its abandoned work."""
    ended, late = _timed_out()
    model, exporter = _model()
    model.feed(ended)
    model.feed(late)
    assert _names(exporter) == ["queued", "GET /slow", ABANDONED]


def test_a_forgotten_request_keeps_no_end_for_abandoned_work() -> None:
    """Forgotten at its (supposed) last event, the request's end is let go: what comes after
    makes nothing, and the spans made before stay as they were."""
    ended, late = _timed_out()
    model, exporter = _model()
    model.feed(ended)
    before = _names(exporter)
    model.forget(1)
    model.feed(late)
    model.finish_all()
    assert before == _names(exporter) == ["queued", "GET /slow"]


def test_forget_drops_late_work_still_waiting_for_the_apps_end() -> None:
    """Late work already held (the app's send) is dropped, as ``finish_all`` drops work whose
    app never ended it: the app's end fed after it makes no abandoned work."""
    ended, late = _timed_out()
    model, exporter = _model()
    model.feed(ended + late[:1])
    model.forget(1)
    model.feed(late[1:])
    assert _names(exporter) == ["queued", "GET /slow"]


def test_a_forgotten_id_stays_ended() -> None:
    """Events of the id fed after ``forget`` never start a request of their own."""
    ended, _ = _timed_out()
    model, exporter = _model()
    model.feed(ended)
    model.forget(1)
    model.feed(ended)
    model.finish_all()
    assert _names(exporter) == ["queued", "GET /slow"]
    assert model.open_requests == 0


def test_forgetting_an_open_or_unknown_request_changes_nothing() -> None:
    """A request still open is left to ``finish_all`` (emitted incomplete); an id never fed
    is no error."""
    ended, _ = _timed_out()
    model, exporter = _model()
    model.feed(ended[:2])
    model.forget(1)
    model.forget(99)
    assert model.open_requests == 1
    model.finish_all()
    (server,) = [s for s in exporter.get_finished_spans() if label(s) == "GET /slow"]
    assert server.attributes["tracer.incomplete"] is True


def test_the_export_forgets_through_the_public_call() -> None:
    """``tracer.export.otlp`` uses ``SpanModel.forget``, never the model's private tables."""
    source = inspect.getsource(otlp)
    assert "model.forget(" in source
    assert "_ended" not in source and "_late" not in source
