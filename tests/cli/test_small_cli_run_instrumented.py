"""``trace run`` and ``trace check`` of an app that instruments itself (``tracer.instrument``
at import, with its default in-memory recorder): trace runs the app it wraps, so each request
is recorded once, by trace, and the app's own recorder does not keep every event of the run."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
from cli_helpers import trace_cli

from tracer import events as K
from tracer.recording import load

pytestmark = pytest.mark.timeout(60)

ASGI_SELF_INSTRUMENTED = """
import tracer

async def plain(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

app = tracer.instrument(plain)
"""

WSGI_SELF_INSTRUMENTED = """
import tracer

def plain(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

app = tracer.instrument(plain)
"""

REQUESTS = 12


def _note(spec: str) -> str:
    return (
        f'trace: note: APP "{spec}" is already instrumented (tracer.instrument); the app it '
        "wraps is run instead, so its own recorder records none of these requests."
    )


def _module(tmp_path: Path, name: str, source: str) -> str:
    """``tmp_path/NAME.py`` holding ``source``; its file spec (a name no other test imports)."""
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    sys.modules.pop(name, None)
    return f"{path}:app"


@pytest.mark.parametrize(
    ("source", "interface"),
    [(ASGI_SELF_INSTRUMENTED, "asgi"), (WSGI_SELF_INSTRUMENTED, "wsgi")],
)
def test_a_self_instrumented_app_is_recorded_once_by_trace_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, interface: str
) -> None:
    """Every request has one request.start in trace's recording; the app's own recorder holds
    no event (it held every event of the run: about five a request, for as long as it ran);
    one note says so."""
    name = f"self_instrumented_{interface}_run"
    spec = _module(tmp_path, name, source)
    record = tmp_path / "run.jsonl"

    code, _out, err = trace_cli(
        capsys, "run", spec, "-n", str(REQUESTS), "-c", "3", "--headless", "--record", str(record)
    )

    assert code == 0, err
    own = sys.modules[name].app.recorder
    assert len(own.events) == 0
    assert err.splitlines().count(_note(spec)) == 1
    starts = Counter(
        e.data.get("scope_type", "http") for e in load(record).events if e.kind == K.REQUEST_START
    )
    expected = {"http": REQUESTS}
    if interface == "asgi":
        expected["lifespan"] = 1  # the loop model's lifespan session
    assert dict(starts) == expected
    assert load(record).header["interface"] == interface


def test_trace_check_of_a_self_instrumented_app_checks_the_app_it_wraps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace check`` loads through the same loader: the note (as its own line), a clean
    report of the app it wraps, and nothing in the app's own recorder."""
    name = "self_instrumented_wsgi_check"
    spec = _module(tmp_path, name, WSGI_SELF_INSTRUMENTED)

    code, out, err = trace_cli(capsys, "check", spec)

    assert code == 0, err
    assert out == f"{spec} (wsgi): no violations in 4 requests\n"
    assert err.splitlines() == [_note(spec).replace("trace: note:", "trace check:")]
    assert len(sys.modules[name].app.recorder.events) == 0
