"""``tracer.loading_projects``: a factory named with its call (``flaskr:create_app()``, as
gunicorn and ``flask --app`` take it), and a module of the app's directory hidden by one of
the same name imported first (``json.py``, ``tracer.py``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tracer
from tracer.errors import AppFormatError
from tracer.loading_projects import factory_call, shadowed_note


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("flaskr:create_app()", ("flaskr:create_app", (), {})),
        ("flaskr:create_app(test_config=None)", ("flaskr:create_app", (), {"test_config": None})),
        ('app:make({"URL": "a:b"}, 2)', ("app:make", ({"URL": "a:b"}, 2), {})),
        ("C:\\apps\\app.py:factory.make(debug=True)", ("C:\\apps\\app.py:factory.make", (), {"debug": True})),
        ("flaskr:create_app", None),
        ("mysite.wsgi:application", None),
    ],
)  # fmt: skip
def test_a_call_is_split_from_app_with_its_literal_arguments(
    spec: str, expected: tuple[str, tuple[object, ...], dict[str, object]] | None
) -> None:
    assert factory_call(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("flaskr:create_app(os.environ)", "must be literals"),
        ("flaskr:create_app(**{})", "must be literals"),
        ("flaskr:1()", 'APP "flaskr:1()" must name the factory and its call, for example '
         '"flaskr:create_app()".'),
        ("flaskr:create_app)", "must name the factory and its call"),
    ],
)  # fmt: skip
def test_a_call_of_anything_else_is_refused_in_one_line(spec: str, message: str) -> None:
    with pytest.raises(AppFormatError) as info:
        factory_call(spec)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_module_hidden_by_one_imported_first_is_named_with_the_file_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``json.py`` beside the app: the standard library's ``json`` was found; the note names
    it and the file form reaching the app's own file (relative to where the command runs)."""
    (tmp_path / "json.py").write_text("app = None\n")
    (tmp_path / "tracer").mkdir()
    (tmp_path / "tracer" / "__init__.py").write_text("app = None\n")
    monkeypatch.chdir(tmp_path)
    assert shadowed_note("json", json, str(tmp_path), "app") == (
        f' Module "json" is {json.__file__}, not ./json.py: a module of that name was imported '
        'first; pass "./json.py:app" (the file form), or rename the file.'
    )
    assert shadowed_note("tracer", tracer, str(tmp_path), "app") == (
        f' Module "tracer" is {tracer.__file__}, not ./tracer/__init__.py: a module of that '
        'name was imported first; rename the package "tracer".'
    )
    assert shadowed_note("os", os, str(tmp_path), "app") == ""  # no os.py here
    assert shadowed_note("json", json, None, "app") == ""
