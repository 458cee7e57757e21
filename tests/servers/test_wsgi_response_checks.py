"""The WSGI models refuse the responses waitress refuses, and answer what waitress answers.

One tiny WSGI app, one path per case, runs through real waitress (in this process, on
127.0.0.1 and a free port) and through the ``threads`` and ``processes`` models. For each case
the status code the client gets from the model, and the one the report counts, is waitress's;
the exception the app let out (or the server's own, for a header that cannot be written) is the
one waitress logs.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import waitress
from model_driver import running, send_all

from tracer import events as K
from tracer.loading import load_app
from tracer.servers import Request
from tracer.summary import request_spans

pytestmark = pytest.mark.timeout(120)

APP_MODULE = "response_checks_app"

# The app under test, written to a file: the ``processes`` model's children import it.
APP_SOURCE = """
import sys


def good(start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def value_crlf(start_response):
    start_response("200 OK", [("X-Note", "a\\r\\nSet-Cookie: stolen=1")])
    return [b"ok"]


def name_lf(start_response):
    start_response("200 OK", [("X-Note\\nX-Other", "a")])
    return [b"ok"]


def value_not_latin1(start_response):
    start_response("200 OK", [("X-Note", "\\u2603")])
    return [b"ok"]


def value_not_latin1_then_write(start_response):
    write = start_response("200 OK", [("X-Note", "\\u2603")])
    write(b"ok")  # the headers go out now: the server's error reaches the app
    return []


def status_crlf(start_response):
    start_response("200 OK\\r\\nX-Evil: 1", [("Content-Type", "text/plain")])
    return [b"ok"]


def status_not_str(start_response):
    start_response(b"200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def status_not_latin1(start_response):
    start_response("200 \\u2603", [("Content-Type", "text/plain")])
    return [b"ok"]


def hop_by_hop(start_response):
    start_response("200 OK", [("Connection", "close")])
    return [b"ok"]


def length_not_a_number(start_response):
    start_response("200 OK", [("Content-Length", "two")])
    return [b"ok"]


def second_start_response(start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"ok"]


def exc_info_after_headers(start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"part"  # the headers go out with it
    try:
        raise KeyError("late")
    except KeyError:
        start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
    yield b"never"


def exc_info_before_headers(start_response):
    # PEP 3333's error handling: the refusal is caught and another response started instead.
    try:
        start_response("200 OK", [("X-Note", "a\\nb")])
    except ValueError:
        start_response("503 Recovered", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"sorry"]


class _CloseStartsAgain:
    def __init__(self, start_response):
        self.start_response = start_response

    def __iter__(self):
        return iter([b"ok"])

    def close(self):
        self.start_response("200 OK", [])  # late: the response is over


def late_start_response(start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return _CloseStartsAgain(start_response)


CASES = {name: case for name, case in list(globals().items()) if callable(case)}
del CASES["_CloseStartsAgain"]


def app(environ, start_response):
    return CASES[environ["PATH_INFO"].strip("/")](start_response)
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request came to."""

    status: int | None
    """The status code the client got (the report's, for a model)."""
    error: str | None
    """The exception the server saw: what the app let out, or the server's own."""


# What waitress 3 does, by case; the models are compared with waitress measured, not with this.
WAITRESS = {
    "good": Outcome(200, None),
    "value_crlf": Outcome(500, "ValueError"),
    "name_lf": Outcome(500, "ValueError"),
    "value_not_latin1": Outcome(500, "UnicodeEncodeError"),
    "value_not_latin1_then_write": Outcome(500, "UnicodeEncodeError"),
    "status_crlf": Outcome(500, "ValueError"),
    "status_not_str": Outcome(500, "AssertionError"),
    "status_not_latin1": Outcome(500, "UnicodeEncodeError"),
    "hop_by_hop": Outcome(500, "AssertionError"),
    "length_not_a_number": Outcome(500, "ValueError"),
    "second_start_response": Outcome(500, "AssertionError"),
    "exc_info_after_headers": Outcome(200, "KeyError"),  # then the connection is cut
    "exc_info_before_headers": Outcome(503, None),
    "late_start_response": Outcome(200, "AssertionError"),
}
CASES = sorted(WAITRESS)


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the app module."""
    folder = tmp_path_factory.mktemp("response_checks")
    (folder / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    return folder


class _Logged(logging.Handler):
    """The exceptions waitress logs while serving, by path."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_path: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[0] is not None:
            path = record.getMessage().rsplit(" ", 1)[-1]
            self.by_path.setdefault(path, record.exc_info[0].__name__)


@contextmanager
def _waitress(app: Any) -> Iterator[int]:
    """Real waitress serving ``app`` on 127.0.0.1 and a free port; closed on exit."""
    server: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, name="waitress-under-test", daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        # Closed on its own loop's thread (a socket closed under select() would break it);
        # the loop returns once nothing is left in its map.
        server.trigger.pull_trigger(server.close)
        thread.join(10)
        server.task_dispatcher.shutdown(timeout=10)
        assert not thread.is_alive()


def _status_from(port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        try:
            response.read()
        except http.client.HTTPException:
            pass  # a response cut short after its status line: the status is what counts
        return response.status
    except (OSError, http.client.HTTPException):
        return None  # no response at all
    finally:
        connection.close()


@pytest.fixture(scope="module")
def waitress_answers(app_dir: Path) -> dict[str, Outcome]:
    """Each case through real waitress: the status the client got, the exception logged."""
    app = load_app(f"{APP_MODULE}:app", app_dir=str(app_dir)).app
    logged = _Logged()
    logger = logging.getLogger("waitress")
    logger.addHandler(logged)
    try:
        with _waitress(app) as port:
            statuses = {case: _status_from(port, f"/{case}") for case in CASES}
    finally:
        logger.removeHandler(logged)
    return {case: Outcome(statuses[case], logged.by_path.get(f"/{case}")) for case in CASES}


@dataclass(frozen=True, slots=True)
class ModelRun:
    """Each case through one model."""

    client: dict[str, Outcome]
    """The status the client got and the error its response carried."""
    report: dict[str, Outcome]
    """The status the recording's first ``request.end`` gives and the first ``error`` event."""
    violations: dict[str, set[str]]
    """The conformance rules each request broke."""


@pytest.fixture(scope="module", params=["threads", "processes"])
def model_answers(request: pytest.FixtureRequest, app_dir: Path) -> ModelRun:
    """Each case through one WSGI model, one request at a time."""
    spec = f"{APP_MODULE}:app"
    with running(request.param, app_spec=spec, app_dir=str(app_dir)) as (model, recorder):
        responses = send_all(model, [Request(path=f"/{case}") for case in CASES], concurrency=1)
    events = recorder.events
    spans = request_spans(events)
    errors: dict[int, str] = {}
    violations: dict[int, set[str]] = {}
    for event in sorted(events, key=lambda e: (e.t, e.seq)):
        if event.kind == K.ERROR and event.req is not None:
            errors.setdefault(event.req, event.data["type"])
        elif event.kind == K.VIOLATION and event.req is not None:
            violations.setdefault(event.req, set()).add(event.data["rule"])
    answered = dict(zip(CASES, responses, strict=True))
    return ModelRun(
        client={case: Outcome(r.status, r.error) for case, r in answered.items()},
        report={
            case: Outcome(spans[r.req].outcome_status, errors.get(r.req))
            for case, r in answered.items()
        },
        violations={case: violations.get(r.req, set()) for case, r in answered.items()},
    )


@pytest.mark.parametrize("case", CASES)
def test_waitress_answers_as_the_table_says(
    case: str, waitress_answers: dict[str, Outcome]
) -> None:
    """The premise, measured: real waitress's status code and logged exception per case."""
    assert waitress_answers[case] == WAITRESS[case]


@pytest.mark.parametrize("case", CASES)
def test_the_model_answers_the_client_as_waitress(
    case: str, waitress_answers: dict[str, Outcome], model_answers: ModelRun
) -> None:
    """The client of the model gets waitress's status code, and the error waitress logged."""
    assert model_answers.client[case] == waitress_answers[case]


@pytest.mark.parametrize("case", CASES)
def test_the_report_counts_the_status_waitress_sent(
    case: str, waitress_answers: dict[str, Outcome], model_answers: ModelRun
) -> None:
    """The recording agrees with the client: its first ``request.end`` has waitress's status
    (a 500 when the server refused the response) and its first ``error`` is waitress's."""
    assert model_answers.report[case] == waitress_answers[case]


@pytest.mark.parametrize(
    "case,rule",
    [
        ("value_crlf", "WSGI-012"),
        ("name_lf", "WSGI-011"),
        ("second_start_response", "WSGI-002"),
        ("value_not_latin1", "WSGI-010"),
        ("status_not_str", "WSGI-004"),
        ("hop_by_hop", "WSGI-013"),
    ],
)
def test_a_refused_response_is_still_a_violation(
    case: str, rule: str, model_answers: ModelRun
) -> None:
    """The server refusing the response does not hide the conformance finding."""
    assert rule in model_answers.violations[case]


@pytest.mark.parametrize(
    "case,error",
    [
        ("second_start_response", "ValueError"),
        ("status_not_str", "TypeError"),
        ("value_not_latin1", "UnicodeEncodeError"),
        ("length_not_a_number", "ValueError"),
    ],
)
def test_wsgi_on_loop_records_the_500_of_a_start_response_asgiref_refused(
    case: str, error: str, app_dir: Path
) -> None:
    """asgiref's ``start_response`` raises into the app, which lets it out: the client gets the
    loop's 500 (as from uvicorn), and the recording's first ``request.end`` says 500 too, not
    the status of the call asgiref took before (or none)."""
    spec = f"{APP_MODULE}:app"
    with running("wsgi-on-loop", app_spec=spec, app_dir=str(app_dir)) as (model, recorder):
        [response] = send_all(model, [Request(path=f"/{case}")], concurrency=1)
    assert (response.status, response.error) == (500, error)
    span = request_spans(recorder.events)[response.req]
    assert (span.outcome_status, span.error) == (500, error)
