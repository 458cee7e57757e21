"""``request.end``'s ``route`` for Flask: the rule of the request's ``url_rule``.

Werkzeug's ``Request`` puts itself in ``environ["werkzeug.request"]`` when made, and Flask's
router leaves the matched ``werkzeug.routing.Rule`` on it as ``url_rule``; its ``rule`` is the
template (``/items/<int:item_id>``). Without it, every item of a Flask app was a row of its own
in the report's latency by route.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flask
import httpx
import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

TEMPLATE = "/items/<int:item_id>"

FLASK_APP = '''\
"""A Flask app with a parametrised route."""

from flask import Flask

app = Flask(__name__)


@app.get("/items/<int:item_id>")
def item(item_id: int) -> str:
    return str(item_id)


@app.get("/")
def index() -> str:
    return "hello"
'''


def ends(rec: Recorder) -> list[dict[str, Any]]:
    """The data of every ``request.end`` recorded, in order."""
    return [event.data for event in rec.events if event.kind == K.REQUEST_END]


def flask_app(*, propagate: bool = False) -> flask.Flask:
    """A Flask app with a typed converter, a blueprint with a prefix, and a route that raises
    (answered 500 by Flask, or, with ``propagate``, passed on to the server)."""
    app = flask.Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = propagate

    @app.get(TEMPLATE)
    def item(item_id: int) -> str:
        return str(item_id)

    @app.get("/boom/<n>")
    def boom(n: str) -> str:
        raise RuntimeError(n)

    users = flask.Blueprint("users", __name__, url_prefix="/users")

    @users.get("/<name>")
    def user(name: str) -> str:
        return name

    app.register_blueprint(users)
    return app


def test_flask_route_is_its_url_rule() -> None:
    """A real Flask app through ``tracer.instrument``: the matched rule is the route (a
    blueprint's prefix included, kept when the view raises and Flask answers 500); a 404 and
    a 405 have none."""
    rec = Recorder()
    app = tracer.instrument(flask_app(), recorder=rec)
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        assert [client.get(f"/items/{n}").text for n in (1, 2, 500)] == ["1", "2", "500"]
        assert client.get("/users/ann").text == "ann"
        assert client.get("/items/x").status_code == 404
        assert client.post("/items/1").status_code == 405
        assert client.get("/boom/7").status_code == 500
    assert [(end["status"], end.get("route")) for end in ends(rec)] == [
        (200, TEMPLATE),
        (200, TEMPLATE),
        (200, TEMPLATE),
        (200, "/users/<name>"),
        (404, None),
        (405, None),
        (500, "/boom/<n>"),
    ]


def test_a_flask_exception_passed_to_the_server_has_no_route() -> None:
    """With ``PROPAGATE_EXCEPTIONS`` (Flask's debug and testing modes) a view's exception
    leaves the app without a response started, and Flask has taken its request out of the
    environ by then: that request has no route, the others of the app keep theirs."""
    rec = Recorder()
    app = tracer.instrument(flask_app(propagate=True), recorder=rec)
    transport = httpx.WSGITransport(app=app, raise_app_exceptions=False)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        with pytest.raises(RuntimeError):
            client.get("/boom/7")
        assert client.get("/items/1").text == "1"
    assert [(end["status"], end.get("route")) for end in ends(rec)] == [
        (500, None),
        (200, TEMPLATE),
    ]


class OddRequest:
    """An object in ``environ["werkzeug.request"]`` whose ``url_rule`` raises."""

    @property
    def url_rule(self) -> Any:
        raise LookupError("no rule")


class OddRule:
    """A ``url_rule`` whose ``rule`` raises."""

    @property
    def rule(self) -> str:
        raise LookupError("no rule")


@pytest.mark.parametrize(
    "value",
    [
        OddRequest(),
        object(),
        SimpleNamespace(url_rule=None),
        SimpleNamespace(url_rule=OddRule()),
        SimpleNamespace(url_rule=SimpleNamespace(rule=b"/x")),
        SimpleNamespace(url_rule=SimpleNamespace(rule="")),
    ],
    ids=["url-rule-raises", "no-url-rule", "none", "rule-raises", "bytes-rule", "empty-rule"],
)
def test_an_odd_werkzeug_request_is_no_route(value: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Whatever sits under the key (a plain Werkzeug request has no ``url_rule``): the request
    ends as usual, without a route, and the shim reports no failure of its own."""

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        env["werkzeug.request"] = value
        start_response("200 OK", [])
        return [b"ok"]

    rec = Recorder()
    with caplog.at_level(logging.WARNING, logger="tracer"):
        transport = httpx.WSGITransport(app=tracer.instrument(app, recorder=rec))
        with httpx.Client(transport=transport, base_url="http://testserver") as client:
            assert client.get("/").text == "ok"
    (end,) = ends(rec)
    assert (end["status"], "route" in end) == (200, False)
    assert not caplog.records


def test_a_flask_run_reports_the_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trace run app.py:app --headless`` of a Flask app: the report's latency by route has
    one row for the items, named by the template, beside the path of the route without one."""
    (tmp_path / "items_app.py").write_text(FLASK_APP)
    monkeypatch.chdir(tmp_path)
    paths = [arg for n in (1, 2, 3) for arg in ("--path", f"/items/{n}")]
    argv = ["run", f"{tmp_path / 'items_app.py'}:app", "--headless", "-n", "8", "-c", "2"]
    assert main([*argv, *paths, "--path", "/", "--record", str(tmp_path / "r.jsonl")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Latency by route"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    rows = [line.split("│")[1:3] for line in lines[start:end] if line.startswith("│")]
    assert {route.strip(): int(count) for route, count in rows} == {TEMPLATE: 6, "/": 2}, out
