"""``trace run`` from a project's root as ``trace`` runs it (the current directory first on the
import path, not the interpreter's ``-m`` one): a factory named with its call, as gunicorn
and ``flask --app`` take it, and an app module named like one imported before it (the
standard library's ``json``, this package ``tracer``), refused in one line naming the file
form; a ``trace.py`` (the standard library's name, and the command's) runs in either form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import trace_script

pytestmark = pytest.mark.timeout(120)

WSGI = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""

FACTORY = (
    WSGI
    + """

def create_app(test_config=None, name="x"):
    assert test_config in (None, {"URL": "a:b"}) and name == "x", (test_config, name)
    return app
"""
)


_trace = trace_script


@pytest.mark.parametrize(
    "app", ["flaskr:create_app()", 'flaskr:create_app({"URL": "a:b"})', "./flaskr.py:create_app()"]
)
def test_a_factory_named_with_its_call_is_served(tmp_path: Path, app: str) -> None:
    (tmp_path / "flaskr.py").write_text(FACTORY)
    done = _trace(tmp_path, "run", app, "-n", "3", "-c", "1", "--headless", "--json",
                  "--record", str(tmp_path / "run.jsonl"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == {"200": 3}


def test_a_call_with_other_arguments_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "flaskr.py").write_text(FACTORY)
    done = _trace(tmp_path, "run", "flaskr:create_app(os.environ)", "-n", "1", "--headless")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        'trace: error: The arguments of the factory in APP "flaskr:create_app(os.environ)" must '
        "be literals (strings, numbers, True, False, None), as gunicorn's; for others, make the "
        "app in a function of your own and pass --factory."
    ]


@pytest.mark.parametrize("name", ["json", "tracer"])
def test_a_module_named_like_one_imported_first_is_refused_naming_the_file_form(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / f"{name}.py").write_text(WSGI)
    done = _trace(tmp_path, "run", f"{name}:app", "-n", "1", "--headless")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    found = line.split(f'Module "{name}" is ')[1].split(",")[0]
    assert line == (
        f'trace: error: Attribute "app" not found in module "{name}". Module "{name}" is '
        f"{found}, not ./{name}.py: a module of that name was imported first; pass "
        f'"./{name}.py:app" (the file form), or rename the file.'
    )
    assert Path(found).resolve() != (tmp_path / f"{name}.py").resolve()
    done = _trace(tmp_path, "run", f"./{name}.py:app", "-n", "1", "--headless",
                  "--record", str(tmp_path / "run.jsonl"))  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("app", ["trace:app", "./trace.py:app"])
def test_an_app_module_named_trace_runs(tmp_path: Path, app: str) -> None:
    (tmp_path / "trace.py").write_text(WSGI)
    done = _trace(tmp_path, "run", app, "-n", "2", "--headless", "--record",
                  str(tmp_path / "run.jsonl"))  # fmt: skip
    assert done.returncode == 0, done.stderr
