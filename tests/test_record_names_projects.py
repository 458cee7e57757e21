"""A recording's default name says the project: a module named as every project of a framework
names it (Django's ``wsgi``/``asgi``, FastAPI's ``main``) is named with its package, and a
factory named with its call by its name alone."""

from __future__ import annotations

import pytest

from tracer.run import default_record_path


@pytest.mark.parametrize(
    ("app", "name"),
    [
        ("mysite.wsgi:application", "mysite-wsgi"),
        ("mysite.asgi:application", "mysite-asgi"),
        ("app.main:app", "app-main"),
        ("mysite/wsgi.py:application", "mysite-wsgi"),
        ("flaskr:create_app()", "flaskr-create_app"),
        ('flaskr:create_app({"URL": "a:b"})', "flaskr-create_app"),
        ("sample_apps.hello:wsgi_app", "hello-wsgi_app"),
        ("main:app", "main"),
        ("./app.py:app", "app"),
    ],
)
def test_the_default_name_says_the_project(app: str, name: str) -> None:
    assert default_record_path(app, now=0).startswith(f"traces/{name}-1970")
