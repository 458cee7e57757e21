"""``trace run`` on a Flask project in the tutorial's layout: a ``flaskr`` package whose
``create_app(test_config=None)`` makes the app (a blueprint, the ``instance/`` folder), run from
the project's root. With ``--factory`` it is served; without, it is refused in one line that
says to pass ``--factory`` (taken for an ASGI 2 app, it failed every request)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from cli_helpers import trace_script

from tracer.errors import InterfaceError
from tracer.interface import ASGI2, WSGI, detect_interface

pytest.importorskip("flask")

pytestmark = pytest.mark.timeout(120)

FACTORY = """\
import os

from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev",
        DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"),
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    @app.route("/hello")
    def hello():
        return "Hello, World!"

    from . import blog

    app.register_blueprint(blog.bp)
    app.add_url_rule("/", endpoint="index")
    return app
"""

BLOG = """\
from flask import Blueprint

bp = Blueprint("blog", __name__)


@bp.route("/")
def index():
    return "posts"


@bp.route("/<int:id>/update", methods=("GET", "POST"))
def update(id):
    return f"update {id}"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The tutorial's ``flask-tutorial/flaskr`` package."""
    root = tmp_path / "flask-tutorial"
    (root / "flaskr").mkdir(parents=True)
    (root / "flaskr" / "__init__.py").write_text(FACTORY)
    (root / "flaskr" / "blog.py").write_text(BLOG)
    return root


_trace = trace_script


def test_the_factory_with_the_flag_serves_every_route_of_the_app(project: Path) -> None:
    """``flaskr:create_app --factory``: the blueprint's routes and the app's own, by template;
    the factory made its ``instance/`` folder beside the package, as under ``flask run``."""
    recording = project / "run.jsonl"
    done = _trace(
        project, "run", "flaskr:create_app", "--factory", "-n", "51", "-c", "10", "--headless",
        "--path", "/", "--path", "/hello", "--path", "/3/update", "--record", str(recording),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    routes = Counter(
        (event["data"].get("route"), event["data"]["status"])
        for event in map(json.loads, recording.read_text().splitlines()[1:])
        if event["kind"] == "request.end"
    )
    assert routes == Counter({("/", 200): 17, ("/hello", 200): 17, ("/<int:id>/update", 200): 17})
    assert (project / "instance").is_dir()


def test_the_factory_without_the_flag_is_refused_in_one_line_naming_it(project: Path) -> None:
    """``create_app(test_config=None)`` can be called without arguments: no server calls an
    app so, and served as ASGI 2 each request failed. One line, exit 2, nothing recorded."""
    done = _trace(project, "run", "flaskr:create_app", "-n", "5", "--headless")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "trace: error: 'create_app' can be called without arguments (\"test_config\" has a "
        "default), so it looks like a function that makes the app, not the app. If it returns "
        "the app, pass --factory. If it is the app, pass --interface wsgi or --interface asgi."
    ]
    assert done.stdout == ""
    assert not (project / "traces").exists()


def test_the_refusal_spares_apps_whose_arguments_have_defaults_and_defers_to_the_user() -> None:
    """A function of a defaulted ``scope`` or ``environ`` is taken as its signature says; a
    class and ``--interface`` are never refused; ``instrument()`` words the choice its way."""

    def asgi2(scope=None):  # type: ignore[no-untyped-def]
        return None

    def wsgi(environ=None, start_response=None):  # type: ignore[no-untyped-def]
        return []

    def create_app(config=None, debug=False):  # type: ignore[no-untyped-def]
        return wsgi

    assert detect_interface(asgi2) == ASGI2
    assert detect_interface(wsgi) == WSGI
    assert detect_interface(create_app, "wsgi") == WSGI
    with pytest.raises(InterfaceError) as info:
        detect_interface(create_app, choice="Pass interface=... to instrument().", factory="F.")
    assert str(info.value) == (
        "'create_app' can be called without arguments (\"config\" has a default), so it looks "
        "like a function that makes the app, not the app. F. If it is the app, pass "
        "interface=... to instrument()."
    )
