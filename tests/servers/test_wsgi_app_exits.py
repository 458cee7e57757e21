"""WSGI apps that raise ``SystemExit`` or ``KeyboardInterrupt`` on the in-process models: the
recording says what the client got (a 500 before any body) and every request ends, even when
the exception comes from looking up the response's ``close`` (a property)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from model_driver import by_kind, running, send_all

from tracer import events as K
from tracer.servers import Request

pytestmark = pytest.mark.timeout(90)

MODELS = ["threads", "wsgi-on-loop", "processes"]

_APPS = '''
import sys


class CloseAttrExits:
    """An empty body whose ``close`` attribute (a property) raises SystemExit."""

    def __iter__(self):
        return self

    def __next__(self):
        raise StopIteration

    @property
    def close(self):
        raise SystemExit("close attr")


def close_attr(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return CloseAttrExits()


def exits_after_start(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise SystemExit(0)


def exits_before_start(environ, start_response):
    sys.exit(3)


def interrupted(environ, start_response):
    raise KeyboardInterrupt
'''


def _app_dir(tmp_path: Path, model: str) -> tuple[str, str]:
    """A module of the apps, named per model (the parent imports it too), and its folder."""
    name = "wsgi_exits_" + model.replace("-", "_")
    (tmp_path / f"{name}.py").write_text(_APPS)
    return name, str(tmp_path)


def _http_ends(events: list[Any]) -> dict[int, list[dict[str, Any]]]:
    """req -> the data of its request.end events (lifespan requests left out)."""
    starts = {e.req for e in by_kind(events, K.REQUEST_START) if e.data["scope_type"] == "http"}
    ends: dict[int, list[dict[str, Any]]] = {req: [] for req in starts}
    for event in by_kind(events, K.REQUEST_END):
        if event.req in ends:
            ends[event.req].append(event.data)
    return ends


@pytest.mark.parametrize("model", MODELS)
def test_a_close_property_raising_system_exit_ends_the_request_with_the_error(
    tmp_path: Path, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The response's ``close`` is a property that raises SystemExit: each request ends once,
    and where the server looks ``close`` up (threads, processes) the error is recorded with
    the property's line and the server sees the SystemExit (its 500). asgiref never closes
    a response (WSGI-022). No finaliser lets the exception out ("Exception ignored")."""
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    module, app_dir = _app_dir(tmp_path, model)
    with running(model, app_spec=f"{module}:close_attr", app_dir=app_dir) as (m, recorder):
        responses = send_all(m, [Request()] * 4, concurrency=2)
    events = recorder.events
    ends = _http_ends(events)
    assert len(ends) == 4 and all(len(each) == 1 for each in ends.values())
    errors = by_kind(events, K.ERROR)
    if model == "wsgi-on-loop":
        assert [(r.status, r.error) for r in responses] == [(200, None)] * 4
        assert errors == []
        assert [e.data["rule"] for e in by_kind(events, K.VIOLATION)] == ["WSGI-022"] * 4
        assert {(d["error"], d["close_called"]) for (d,) in ends.values()} == {(None, False)}
    else:
        assert [(r.status, r.error) for r in responses] == [(500, "SystemExit")] * 4
        assert {(d["error"], d["close_called"]) for (d,) in ends.values()} == {("SystemExit", True)}
        assert sorted(e.req for e in errors) == sorted(ends)
        line = _APPS.splitlines().index('        raise SystemExit("close attr")') + 1
        where = f"{tmp_path / module}.py:{line}"
        assert {(e.data["type"], e.data["where"]) for e in errors} == {("SystemExit", where)}
        assert by_kind(events, K.VIOLATION) == []
    assert unraisable == []


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("attr", "error"),
    [
        ("exits_after_start", "SystemExit"),
        ("exits_before_start", "SystemExit"),
        ("interrupted", "KeyboardInterrupt"),
    ],
)
def test_system_exit_and_keyboard_interrupt_before_any_body_end_as_the_500_sent(
    tmp_path: Path, model: str, attr: str, error: str
) -> None:
    """SystemExit (after start_response, or sys.exit before it) and KeyboardInterrupt before
    any body: the model answers 500, and the recorded end says 500 too, as for a ValueError
    (it said the app's 200, or no status)."""
    module, app_dir = _app_dir(tmp_path, model)
    with running(model, app_spec=f"{module}:{attr}", app_dir=app_dir) as (m, recorder):
        responses = send_all(m, [Request()] * 2, concurrency=2)
    assert [(r.status, r.error) for r in responses] == [(500, error)] * 2
    ends = _http_ends(recorder.events)
    assert (
        sorted((d["status"], d["error"]) for each in ends.values() for d in each)
        == [(500, error)] * 2
    )
    assert [e.data["type"] for e in by_kind(recorder.events, K.ERROR)] == [error] * 2
