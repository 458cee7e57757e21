"""``load_app``: every APP form, and each way it fails with its own exact, one-line message."""

from __future__ import annotations

import sys
import sysconfig
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracer.errors import (
    AppAttributeNotFound,
    AppFormatError,
    AppImportFailed,
    AppLoadError,
    AppModuleNotFound,
    AppNotCallable,
    InterfaceError,
    TracerError,
    UsageError,
)
from tracer.loading import LoadedApp, load_app

WSGI_APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hi"]
"""


INSTALLED = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"])
"""Where the modules a test only happened to import first come from (a framework's)."""


def _written_by_a_test(name: str, module: Any) -> bool:
    """Not the tool's own modules nor an installed one: those a test imported first stay
    imported, since dropping them leaves two of their classes about (a later test's pickling
    of ``tracer.servers.ServerConfig`` for a worker process then failed)."""
    if name.partition(".")[0] in ("tracer", "sim"):
        return False
    where = getattr(module, "__file__", None) or ""
    return not where.startswith(INSTALLED)


@pytest.fixture(autouse=True)
def isolated_imports() -> Iterator[None]:
    """Modules written by a test and directories put on sys.path do not outlive it."""
    modules = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        if _written_by_a_test(name, sys.modules[name]):
            del sys.modules[name]
    sys.path[:] = path


def load_error(error: type[TracerError], spec: str, **options: Any) -> str:
    """The message of the ``error`` that ``load_app(spec, **options)`` raises."""
    with pytest.raises(error) as info:
        load_app(spec, **options)
    return str(info.value)


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


# -- the forms that work --------------------------------------------------------------------------


def test_module_colon_attribute(tmp_path: Path) -> None:
    """module:attr imports the module from app_dir and returns the callable, WSGI detected."""
    write(tmp_path, "wsgi_one.py", WSGI_APP)
    loaded = load_app("wsgi_one:application", app_dir=tmp_path)
    assert isinstance(loaded, LoadedApp)
    assert loaded.interface == "wsgi"
    assert loaded.spec == "wsgi_one:application"
    assert loaded.app is sys.modules["wsgi_one"].application


def test_dotted_attribute_and_package_module(tmp_path: Path) -> None:
    """package.module:attr.sub walks attributes after the colon."""
    write(tmp_path, "pkg_two/__init__.py", "")
    write(
        tmp_path,
        "pkg_two/site.py",
        """
        class Holder:
            async def asgi(scope, receive, send):
                pass
        """,
    )
    loaded = load_app("pkg_two.site:Holder.asgi", app_dir=tmp_path)
    assert loaded.interface == "asgi3"
    assert loaded.app is sys.modules["pkg_two.site"].Holder.asgi


def test_file_path_form_with_sibling_imports(tmp_path: Path) -> None:
    """path/to/file.py:attr loads the file; modules next to it import as they would when run."""
    write(tmp_path, "apps/helper_three.py", "GREETING = b'from a sibling'\n")
    write(
        tmp_path,
        "apps/site_three.py",
        """
        from helper_three import GREETING

        def application(environ, start_response):
            start_response("200 OK", [])
            return [GREETING]
        """,
    )
    loaded = load_app(f"{tmp_path}/apps/site_three.py:application", app_dir=None)
    assert loaded.interface == "wsgi"
    assert loaded.app({}, lambda status, headers: None) == [b"from a sibling"]


def test_current_directory_is_importable_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no app_dir given, a module in the current directory is found (uvicorn's default)."""
    write(tmp_path, "cwd_four.py", WSGI_APP)
    monkeypatch.chdir(tmp_path)
    assert load_app("cwd_four:application").interface == "wsgi"


def test_real_framework_apps_detected() -> None:
    """The bundled seed apps: the WSGI function and the ASGI coroutine function."""
    assert load_app("sample_apps.hello:application").interface == "wsgi"
    assert load_app("sample_apps.hello:asgi_app").interface == "asgi3"


def test_flask_and_fastapi_instances(tmp_path: Path) -> None:
    """A Flask app object is WSGI; a FastAPI app object is ASGI 3."""
    write(
        tmp_path,
        "frameworks_five.py",
        """
        import fastapi
        import flask

        web = flask.Flask(__name__)
        api = fastapi.FastAPI()
        """,
    )
    assert load_app("frameworks_five:web", app_dir=tmp_path).interface == "wsgi"
    assert load_app("frameworks_five:api", app_dir=tmp_path).interface == "asgi3"


def test_factory_is_called(tmp_path: Path) -> None:
    """--factory calls the attribute with no arguments and serves what it returns."""
    write(
        tmp_path,
        "factory_six.py",
        WSGI_APP
        + """
def create_app():
    return application
""",
    )
    loaded = load_app("factory_six:create_app", factory=True, app_dir=tmp_path)
    assert loaded.app is sys.modules["factory_six"].application
    assert loaded.interface == "wsgi"


def test_interface_hint_forces_the_choice(tmp_path: Path) -> None:
    """--interface asgi reads a one-argument callable as ASGI 2; wsgi forces WSGI."""
    write(
        tmp_path,
        "double_seven.py",
        """
        def app(scope):
            async def instance(receive, send):
                pass
            return instance
        """,
    )
    assert load_app("double_seven:app", app_dir=tmp_path, interface="asgi").interface == "asgi2"
    assert load_app("double_seven:app", app_dir=tmp_path, interface="wsgi").interface == "wsgi"


# -- the messages, word for word ----------------------------------------------------------------


@pytest.mark.parametrize("spec", ["myapp", "myapp:", ":app", "myapp:app.", "myapp:.app"])
def test_bad_format(spec: str) -> None:
    """Anything but module:attr or file.py:attr says what the form is."""
    assert load_error(AppFormatError, spec) == (
        f'APP "{spec}" must be in the form "<module>:<attribute>" or '
        '"<path/file.py>:<attribute>", for example "myapp:app".'
    )


def test_module_not_found(tmp_path: Path) -> None:
    """A module that does not exist is named, with the fix."""
    assert load_error(AppModuleNotFound, "no_such_module_eight:app", app_dir=tmp_path) == (
        'Could not import module "no_such_module_eight". Run from the directory that holds it, '
        "or pass --app-dir DIR."
    )


def test_file_not_found(tmp_path: Path) -> None:
    """A file path that does not exist is named."""
    assert load_error(AppModuleNotFound, "apps/missing_nine.py:app", app_dir=tmp_path) == (
        'File "apps/missing_nine.py" not found (from APP "apps/missing_nine.py:app"). '
        "Check the path."
    )


def test_app_dir_that_does_not_exist(tmp_path: Path) -> None:
    """An app_dir (--app-dir) that does not exist, or is a file, is said so before any import,
    and is not put on sys.path."""
    missing = tmp_path / "no_dir_nineteen"
    assert load_error(UsageError, "sample_apps.hello:application", app_dir=missing) == (
        f'--app-dir "{missing}" does not exist. Pass the directory that holds the app\'s module.'
    )
    assert str(missing) not in sys.path
    afile = write(tmp_path, "a_file_nineteen.py", WSGI_APP)
    assert load_error(UsageError, "a_file_nineteen:application", app_dir=afile) == (
        f'--app-dir "{afile}" is not a directory. Pass the directory that holds the app\'s module.'
    )


def test_import_error_inside_the_module_carries_its_traceback(tmp_path: Path) -> None:
    """A module that exists but fails on its own import is not "not found": the error is one
    line naming the module and the cause, and carries the app's own traceback without the
    loader's frames."""
    write(
        tmp_path,
        "broken_ten.py",
        """
        def helper():
            import not_installed_anywhere_ten

        helper()
        """,
    )
    with pytest.raises(AppImportFailed) as info:
        load_app("broken_ten:app", app_dir=tmp_path)
    error = info.value
    assert isinstance(error, AppLoadError) and isinstance(error, TracerError)
    assert str(error) == (
        'Importing module "broken_ten" failed: ModuleNotFoundError: '
        "No module named 'not_installed_anywhere_ten'"
    )
    assert "\n" not in str(error)
    assert isinstance(error.__cause__, ModuleNotFoundError)
    lines = error.traceback.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert f'File "{tmp_path / "broken_ten.py"}", line 5, in <module>' in error.traceback
    assert f'File "{tmp_path / "broken_ten.py"}", line 3, in helper' in error.traceback
    assert "importlib" not in error.traceback and "loading.py" not in error.traceback
    assert lines[-1] == "ModuleNotFoundError: No module named 'not_installed_anywhere_ten'"


def test_any_exception_while_importing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A syntax error or a RuntimeError at import time is reported the same way; a relative
    file path is read from the current directory."""
    write(tmp_path, "syntax_eleven.py", "def broken(:\n    pass\n")
    with pytest.raises(AppImportFailed) as info:
        load_app("syntax_eleven:app", app_dir=tmp_path)
    assert str(info.value).startswith('Importing module "syntax_eleven" failed: SyntaxError: ')
    assert "syntax_eleven.py" in info.value.traceback
    write(tmp_path, "raises_eleven.py", "raise RuntimeError('no config\\nsecond line')\n")
    monkeypatch.chdir(tmp_path)
    assert (
        load_error(AppImportFailed, "raises_eleven.py:app")
        == 'Importing file "raises_eleven.py" failed: RuntimeError: no config'
    )


def test_attribute_missing_suggests_the_app(tmp_path: Path) -> None:
    """The missing attribute is named and the module's app-like callable suggested."""
    write(tmp_path, "myapp.py", "import json\n" + WSGI_APP + "\nNAME = 'x'\n")
    assert (
        load_error(AppAttributeNotFound, "myapp:app", app_dir=tmp_path)
        == 'Attribute "app" not found in module "myapp". Try "myapp:application".'
    )


def test_attribute_missing_several_suggestions_aliases_once() -> None:
    """Several apps are listed (an alias of one of them only once)."""
    assert load_error(AppAttributeNotFound, "sample_apps.hello:app") == (
        'Attribute "app" not found in module "sample_apps.hello". '
        'Try "sample_apps.hello:application" or "sample_apps.hello:asgi_app".'
    )


def test_a_misspelt_imported_app_is_suggested_first(tmp_path: Path) -> None:
    """An app the module imported (``from .factory import application``) is not a helper to
    leave out when it is what the user misspelt: it comes first."""
    write(tmp_path, "factory_fourteen.py", WSGI_APP)
    write(
        tmp_path,
        "main_fourteen.py",
        """
        from factory_fourteen import application

        async def other(scope, receive, send):
            pass
        """,
    )
    assert load_error(AppAttributeNotFound, "main_fourteen:aplication", app_dir=tmp_path) == (
        'Attribute "aplication" not found in module "main_fourteen". '
        'Try "main_fourteen:application" or "main_fourteen:other".'
    )


def test_attribute_missing_no_app_in_module(tmp_path: Path) -> None:
    """A module without anything app-like says what to put after the colon."""
    write(tmp_path, "empty_twelve.py", "from json import dumps\nVALUE = 1\n")
    assert load_error(AppAttributeNotFound, "empty_twelve:app", app_dir=tmp_path) == (
        'Attribute "app" not found in module "empty_twelve". '
        "Name the WSGI or ASGI app after the colon."
    )


@pytest.mark.parametrize("made", ["file", "folder"])
def test_attribute_missing_from_a_module_with_no_public_names(tmp_path: Path, made: str) -> None:
    """An empty module, or a folder imported as a namespace package, has no names to suggest
    from: the same one-line error, not difflib's ``n must be > 0``."""
    name = f"bare_{made}_fourteen"
    if made == "file":
        write(tmp_path, f"{name}.py", "")
    else:
        (tmp_path / name).mkdir()
    assert load_error(AppAttributeNotFound, f"{name}:app", app_dir=tmp_path) == (
        f'Attribute "app" not found in module "{name}". Name the WSGI or ASGI app after the colon.'
    )


def test_nested_attribute_missing_suggests_close_names(tmp_path: Path) -> None:
    """For attr.sub the suggestion comes from the object that lacks it."""
    write(
        tmp_path,
        "nested_thirteen.py",
        """
        class Holder:
            application = None
        """,
    )
    assert load_error(
        AppAttributeNotFound, "nested_thirteen:Holder.aplication", app_dir=tmp_path
    ) == (
        'Attribute "Holder.aplication" not found in module "nested_thirteen". '
        'Try "nested_thirteen:Holder.application".'
    )


def test_not_callable(tmp_path: Path) -> None:
    """An attribute that is data, not an app, is named with its type."""
    write(tmp_path, "data_fourteen.py", "app = 'not an app'\n")
    assert load_error(AppNotCallable, "data_fourteen:app", app_dir=tmp_path) == (
        'Attribute "app" of module "data_fourteen" is not callable (it is a str). '
        "Point APP at the WSGI or ASGI app."
    )


def test_factory_failures(tmp_path: Path) -> None:
    """A factory that raises carries its traceback; one that returns data is named."""
    write(
        tmp_path,
        "factories_fifteen.py",
        """
        def raising():
            raise ValueError("missing setting")

        def returns_data():
            return 42
        """,
    )
    with pytest.raises(AppImportFailed) as info:
        load_app("factories_fifteen:raising", factory=True, app_dir=tmp_path)
    assert str(info.value) == (
        'The app factory "factories_fifteen:raising" raised: ValueError: missing setting'
    )
    assert "factories_fifteen.py" in info.value.traceback
    assert load_error(
        AppNotCallable, "factories_fifteen:returns_data", factory=True, app_dir=tmp_path
    ) == (
        'The app factory "factories_fifteen:returns_data" returned an int, which is not '
        "callable. It should return the WSGI or ASGI app."
    )


def test_factory_without_flag_hints_at_it(tmp_path: Path) -> None:
    """A zero-argument function named as the app is most likely a factory: say so."""
    write(
        tmp_path, "factory_sixteen.py", WSGI_APP + "\ndef create_app():\n    return application\n"
    )
    assert load_error(InterfaceError, "factory_sixteen:create_app", app_dir=tmp_path) == (
        '"factory_sixteen:create_app" takes no arguments, so it is neither a WSGI nor an '
        "ASGI app. If it returns the app, pass --factory."
    )


def test_undecidable_interface(tmp_path: Path) -> None:
    """A callable whose signature says nothing (*args) asks for --interface."""
    write(tmp_path, "vague_seventeen.py", "def app(*args):\n    pass\n")
    assert load_error(InterfaceError, "vague_seventeen:app", app_dir=tmp_path) == (
        "Cannot tell whether 'app' is a WSGI or an ASGI app from its signature. "
        "Pass --interface wsgi or --interface asgi."
    )
    assert load_app("vague_seventeen:app", app_dir=tmp_path, interface="wsgi").interface == "wsgi"


def test_bad_interface_choice() -> None:
    """--interface takes auto, wsgi or asgi."""
    assert (
        load_error(UsageError, "sample_apps.hello:application", interface="cgi")
        == '--interface must be one of auto, wsgi, asgi, not "cgi".'
    )


def test_app_object_passes_through() -> None:
    """An app object instead of a string is used as is (the library API's path)."""
    from sample_apps.hello import application

    loaded = load_app(application)
    assert loaded.app is application and loaded.interface == "wsgi"
    assert loaded.spec == "sample_apps.hello:application"


def test_cli_prints_the_apps_traceback_then_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`trace run` on a module that fails on its own import: the app's traceback, then one
    error line, exit code 2; a plain load error stays one line."""
    from tracer.cli import main

    write(tmp_path, "cli_eighteen.py", "import json\nimport not_installed_eighteen\n")
    code = main(["run", "cli_eighteen:app", "--headless", "-n", "1", "--app-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Traceback (most recent call last):\n")
    assert f'File "{tmp_path / "cli_eighteen.py"}", line 2, in <module>' in err
    assert err.endswith(
        'trace: error: Importing module "cli_eighteen" failed: ModuleNotFoundError: '
        "No module named 'not_installed_eighteen'\n"
    )
    code = main(["run", "nowhere_eighteen:app", "--headless", "-n", "1"])
    assert code == 2
    assert capsys.readouterr().err == (
        'trace: error: Could not import module "nowhere_eighteen". Run from the directory '
        "that holds it, or pass --app-dir DIR.\n"
    )


def test_a_misspelt_attribute_beside_a_context_bound_proxy(tmp_path: Path) -> None:
    """Suggesting names looks at every member; Flask's ``request`` proxy raises on any touch
    outside a request, and must not turn a typo into a traceback."""
    write(
        tmp_path,
        "proxied.py",
        "import flask\nfrom flask import request\napp = flask.Flask(__name__)\n",
    )
    assert (
        load_error(AppAttributeNotFound, "proxied:nope", app_dir=tmp_path)
        == 'Attribute "nope" not found in module "proxied". Try "proxied:app".'
    )


def test_a_sample_app_without_its_framework_names_the_extra() -> None:
    """``pip install .`` leaves Flask and FastAPI out: loading a sample app that needs one
    says which extra brings it (a user's own app gets no such hint)."""
    import subprocess

    code = (
        "import sys; sys.modules['fastapi'] = None\n"  # as if it were not installed
        "from tracer.loading import load_app\n"
        "from tracer.errors import AppImportFailed\n"
        "try:\n"
        "    load_app('sample_apps.fastapi_app:app')\n"
        "except AppImportFailed as exc:\n"
        "    print(exc)\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.stdout == (
        'Importing module "sample_apps.fastapi_app" failed: ModuleNotFoundError: import of '
        "fastapi halted; None in sys.modules. The Flask and FastAPI sample apps need it: pip "
        'install "gateway-tracer[frameworks]"\n'
    ), done.stderr
