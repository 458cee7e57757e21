"""-H values go out as the UTF-8 bytes typed, as curl sends them: the app of every server sees
those bytes (the raw ASGI header, the environ's latin-1 "bytes in a str" of PEP 3333), and the
recording's ``request.start`` holds the same bytes. A header name must stay a token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tracer import events as K
from tracer.loadgen import build_plan
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)

TYPED = "café 日本"
"""A value outside latin-1: refused before, now sent."""

_APP = """
WANT = {want!r}


async def aapp(scope, receive, send):
    if scope["type"] != "http":
        return
    got = dict(scope["headers"]).get(b"x-name")
    status = 200 if got == WANT else 400
    await send({{"type": "http.response.start", "status": status, "headers": []}})
    await send({{"type": "http.response.body", "body": b""}})


def app(environ, start_response):
    ok = environ.get("HTTP_X_NAME") == WANT.decode("latin-1")
    start_response("200 OK" if ok else "400 Bad Request", [("Content-Length", "0")])
    return [b""]
"""


def _trace(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracer", "run", *argv],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
    )


def test_the_plan_carries_the_utf8_bytes_of_a_value() -> None:
    """The request's value is the UTF-8 bytes as a latin-1 str; a byte that is not UTF-8 on
    the command line (a lone surrogate in argv) is that byte."""
    request = build_plan(headers=[f"X-Name: {TYPED}", "X-Raw: a\udcff"])[0]
    sent = dict(request.headers)
    assert sent["X-Name"].encode("latin-1") == TYPED.encode("utf-8")
    assert sent["X-Raw"].encode("latin-1") == b"a\xff"


@pytest.mark.parametrize(
    ("server", "attr"),
    [("uvicorn", "aapp"), ("gunicorn", "app"), ("loop", "aapp"), ("threads", "app")],
)
def test_every_server_gets_the_bytes_typed(tmp_path: Path, server: str, attr: str) -> None:
    """``trace run -H 'X-Name: café 日本'``: each app answers 200 only when it saw the UTF-8
    bytes, and the recording's header is those bytes (latin-1 text, as the shims record)."""
    if server in ("uvicorn", "gunicorn"):
        pytest.importorskip(server)
    (tmp_path / "utf8_header_app.py").write_text(_APP.format(want=TYPED.encode("utf-8")))
    record = tmp_path / "run.jsonl"
    done = _trace(
        tmp_path, f"utf8_header_app:{attr}", "--server", server, "-H", f"X-Name: {TYPED}",
        "-c", "1", "-n", "3", "--headless", "--json", "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = load(record).events
    starts = [e for e in events if e.kind == K.REQUEST_START and e.data["headers"]]
    served = {e.req for e in starts}  # (not the lifespan's, which has no headers)
    # The in-process models have no client: the app's own status is the answer.
    statuses = [e.data["status"] for e in events if e.kind == K.REQUEST_END and e.req in served]
    assert statuses == [200, 200, 200]
    recorded = [dict(e.data["headers"])["x-name"] for e in starts]
    assert [value.encode("latin-1") for value in recorded] == [TYPED.encode("utf-8")] * 3


@pytest.mark.parametrize("header", ["Nämé: x", "X Name: x", "X-Name"])
def test_a_name_that_is_not_a_token_is_one_line_and_exit_2(tmp_path: Path, header: str) -> None:
    """A name outside RFC 9110's token characters cannot be sent as typed: one line, exit 2,
    before anything starts."""
    done = _trace(tmp_path, "-H", header, "--headless", "-n", "1")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"trace: error: Cannot read the header \"{header}\". Write it as -H 'Name: value'."
    ]
