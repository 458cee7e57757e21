"""``trace run`` on a Django project as ``django-admin startproject`` lays it out, run from the
project's root: ``mysite.wsgi:application`` in process and ``mysite.asgi:application`` under
uvicorn, the tutorial's ``polls`` app routed with ``include()``; the recording names each
request's route template and ``trace summary`` shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("django")

pytestmark = pytest.mark.timeout(120)

VIEWS = """\
from django.http import HttpResponse


def index(request):
    return HttpResponse("Hello, world. You're at the polls index.")


def detail(request, question_id):
    return HttpResponse("You're looking at question %s." % question_id)
"""

POLLS_URLS = """\
from django.urls import path

from . import views

app_name = "polls"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:question_id>/", views.detail, name="detail"),
]
"""

SITE_URLS = """\
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("polls/", include("polls.urls")),
    path("admin/", admin.site.urls),
]
"""

PATHS = ("--path", "/polls/", "--path", "/polls/5/", "--path", "/admin/")


def _env() -> dict[str, str]:
    """The environment without DJANGO_SETTINGS_MODULE: the project's wsgi.py sets it."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _python(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=90
    )


@pytest.fixture(scope="module")
def mysite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``startproject mysite`` + ``startapp polls`` project with the tutorial's two views."""
    root = tmp_path_factory.mktemp("django_project") / "mysite"
    root.mkdir()
    made = _python(root, "-m", "django", "startproject", "mysite", str(root))
    assert made.returncode == 0, made.stderr
    made = _python(root, "manage.py", "startapp", "polls")
    assert made.returncode == 0, made.stderr
    (root / "polls" / "views.py").write_text(VIEWS)
    (root / "polls" / "urls.py").write_text(POLLS_URLS)
    (root / "mysite" / "urls.py").write_text(SITE_URLS)
    return root


def _routes(recording: Path) -> tuple[Counter[str | None], Counter[int]]:
    """Each answered request's route and status (``request.end``; uvicorn's lifespan, which
    Django refuses, has no status), counted."""
    routes: Counter[str | None] = Counter()
    statuses: Counter[int] = Counter()
    for line in recording.read_text().splitlines()[1:]:  # the header first
        event = json.loads(line)
        data = event.get("data") or {}
        if event["kind"] == "request.end" and data.get("status") is not None:
            routes[data.get("route")] += 1
            statuses[data["status"]] += 1
    return routes, statuses


@pytest.mark.parametrize(
    ("app", "server"),
    [("mysite.wsgi:application", ()), ("mysite.asgi:application", ("--server", "uvicorn"))],
    ids=["wsgi-in-process", "asgi-uvicorn"],
)
def test_a_startproject_site_runs_from_its_root_with_its_route_templates(
    mysite: Path, tmp_path: Path, app: str, server: tuple[str, ...]
) -> None:
    """The project's own module sets DJANGO_SETTINGS_MODULE; every request is answered (the
    admin's redirect to its login page included) and named after its ``path()`` route, the
    ``include()`` prefix joined, as OpenTelemetry's Django instrumentation names it."""
    recording = tmp_path / "run.jsonl"
    done = _python(
        mysite, "-m", "tracer", "run", app, *server, "-n", "51", "-c", "10", "--headless",
        *PATHS, "--record", str(recording),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    routes, statuses = _routes(recording)
    assert routes == Counter({"polls/": 17, "polls/<int:question_id>/": 17, "admin/": 17})
    assert statuses == Counter({200: 34, 302: 17})
    summary = _python(mysite, "-m", "tracer", "summary", str(recording))
    assert summary.returncode == 0, summary.stderr
    table = summary.stdout.split("Latency by route (ms)")[1]
    for route in ("polls/", "polls/<int:question_id>/", "admin/"):
        assert f"│ {route} " in table
