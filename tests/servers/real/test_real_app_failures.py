"""The status a failing app's request ends with is the one its client got, on real servers.

WSGI: a failure before any body chunk is the server's 500 (the headers were still held back), a
later one keeps the status already sent. After an empty chunk only, the servers differ: waitress
holds the headers back (PEP 3333) and sends a 500, gunicorn has sent them; the recording keeps
the app's status there. ASGI: a failure before ``http.response.start`` is the server's 500."""

from __future__ import annotations

import pytest
from real_helpers import HERE, run_real

from tracer import events as K
from tracer.client import ClientConfig

pytestmark = pytest.mark.timeout(90)

PATHS = ("/call", "/first", "/empty-then", "/after-bytes", "/close")
RECORDED = {"/call": 500, "/first": 500, "/empty-then": 200, "/after-bytes": 200, "/close": 200}
CLIENT_GOT = {
    "waitress": {**RECORDED, "/empty-then": 500},
    "gunicorn": RECORDED,
}


@pytest.mark.parametrize("server", ["waitress", "gunicorn"])
def test_the_recorded_status_is_what_the_client_got(server: str) -> None:
    """One request per failure point: ``request.end`` has the client's status and the error."""
    run = run_real(
        server, "real_wsgi_failures:app", ClientConfig(concurrency=1, requests=len(PATHS),
        paths=PATHS), app_dir=HERE,
    )  # fmt: skip
    path_of = {e.req: e.data["path"] for e in run.kinds(K.CLIENT_SEND)}
    got = {path_of[e.req]: e.data["status"] for e in run.kinds(K.CLIENT_RESPONSE)}
    ends = {path_of[e.req]: e.data for e in run.kinds(K.REQUEST_END) if e.req in path_of}
    recorded = {path: end["status"] for path, end in ends.items()}
    assert got == CLIENT_GOT[server]
    assert recorded == RECORDED
    assert {path: end["error"] for path, end in ends.items()} == dict.fromkeys(
        PATHS, "RuntimeError"
    )


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_an_asgi_app_that_raises_before_its_response_is_recorded_as_the_servers_500(
    server: str,
) -> None:
    """Raised before ``http.response.start``: the server's 500, recorded as such; raised after
    it: the client has the app's 200 (its body cut short), and so does the recording."""
    paths = ("/before", "/after-start")
    run = run_real(
        server, "real_asgi_failures:app", ClientConfig(concurrency=1, requests=2, paths=paths),
        app_dir=HERE,
    )  # fmt: skip
    path_of = {e.req: e.data["path"] for e in run.kinds(K.CLIENT_SEND)}
    got = {path_of[e.req]: e.data["status"] for e in run.kinds(K.CLIENT_RESPONSE)}
    ends = {path_of[e.req]: e.data for e in run.kinds(K.REQUEST_END) if e.req in path_of}
    assert got == {"/before": 500, "/after-start": 200}
    assert {path: end["status"] for path, end in ends.items()} == got
    assert {end["error"] for end in ends.values()} == {"RuntimeError"}


ENDED_WITHOUT_A_START = ("/body-before-start", "/unknown-message", "/returns", "/cancels")


@pytest.mark.parametrize(
    ("server", "refusal"), [("uvicorn", "RuntimeError"), ("hypercorn", "UnexpectedMessageError")]
)
def test_an_asgi_app_that_ends_without_a_response_start_is_recorded_as_the_servers_500(
    server: str, refusal: str
) -> None:
    """A body or unknown message before any start (the server's send raises, the app lets it
    out), a return without a response, a ``CancelledError`` the app raised itself: the server
    answers 500, and the recording says so, with the app's error."""
    run = run_real(
        server, "real_asgi_failures:app", ClientConfig(concurrency=1,
        requests=len(ENDED_WITHOUT_A_START), paths=ENDED_WITHOUT_A_START), app_dir=HERE,
    )  # fmt: skip
    path_of = {e.req: e.data["path"] for e in run.kinds(K.CLIENT_SEND)}
    got = {path_of[e.req]: e.data["status"] for e in run.kinds(K.CLIENT_RESPONSE)}
    ends = {path_of[e.req]: e.data for e in run.kinds(K.REQUEST_END) if e.req in path_of}
    assert got == dict.fromkeys(ENDED_WITHOUT_A_START, 500)
    assert {path: end["status"] for path, end in ends.items()} == got
    assert {path: end["error"] for path, end in ends.items()} == {
        "/body-before-start": refusal,
        "/unknown-message": refusal,
        "/returns": None,
        "/cancels": "CancelledError",
    }


LEN_PATHS = ("/raises", "/negative", "/not-an-int")


def test_a_body_whose_len_fails_is_recorded_as_waitress_500() -> None:
    """waitress asks the body's ``len()`` for a Content-Length before it sends the headers: a
    ``__len__`` that raises, or returns what ``len()`` refuses (a negative number, not an int),
    gets the client a 500, and the recording has that status and the app's error."""
    run = run_real(
        "waitress", "real_len_failures:app", ClientConfig(concurrency=1, requests=len(LEN_PATHS),
        paths=LEN_PATHS), app_dir=HERE,
    )  # fmt: skip
    path_of = {e.req: e.data["path"] for e in run.kinds(K.CLIENT_SEND)}
    got = {path_of[e.req]: e.data["status"] for e in run.kinds(K.CLIENT_RESPONSE)}
    ends = {path_of[e.req]: e.data for e in run.kinds(K.REQUEST_END) if e.req in path_of}
    errors = {path_of[e.req]: e.data["type"] for e in run.kinds(K.ERROR) if e.req in path_of}
    names = {"/raises": "LookupError", "/negative": "ValueError", "/not-an-int": "TypeError"}
    assert got == dict.fromkeys(LEN_PATHS, 500)
    assert {path: end["status"] for path, end in ends.items()} == got
    assert {path: end["error"] for path, end in ends.items()} == names
    assert errors == names
