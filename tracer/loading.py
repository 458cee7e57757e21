"""Turning the APP argument into a callable: ``load_app("myapp:app") -> LoadedApp``.

APP is ``module:attr``, ``module:attr.sub`` or ``path/to/file.py:attr``; ``factory=True`` calls
the attribute to get the app, as an attribute ending with its call does (``flaskr:create_app()``,
literal arguments, as gunicorn takes it: ``tracer.loading_projects``); ``app_dir`` is put first
on ``sys.path`` (the current directory by default, as uvicorn's ``--app-dir``). Each way this can fail has its own ``AppLoadError`` with a
one-line message naming the input and the fix. The one exception is an app whose own code raises
while it is imported: ``AppImportFailed`` carries the app's traceback for the CLI to print.
An app that ``tracer.instrument`` returned is taken for the app it wraps, with a hint saying so.
Imports only ``tracer.errors``, ``tracer.interface`` and ``tracer.loading_projects``.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
import types
from dataclasses import dataclass
from typing import Any

from tracer.errors import (
    AppAttributeNotFound,
    AppFormatError,
    AppImportFailed,
    AppModuleNotFound,
    AppNotCallable,
    InterfaceError,
    UsageError,
)
from tracer.interface import ASGI2, ASGI2_NOTES, WSGI, asgi2_doubt_note, detect_interface
from tracer.loading_projects import (
    factory_call,
    folder_note,
    package_note,
    shadowed_note,
    src_note,
)

__all__ = ["LoadedApp", "load_app", "split_spec", "INTERFACES"]

INTERFACES = ("auto", "wsgi", "asgi")
"""The choices of ``--interface``."""

# Names tried first when suggesting what APP should have said.
_LIKELY_NAMES = ("app", "application", "api", "asgi_app", "wsgi_app", "asgi", "wsgi", "server")


@dataclass(frozen=True, slots=True)
class LoadedApp:
    """An app ready to be served."""

    app: Any
    """The WSGI or ASGI callable (the factory's result with ``factory=True``)."""
    interface: str
    """``"wsgi"``, ``"asgi3"`` or ``"asgi2"``."""
    spec: str
    """The APP argument it came from."""
    hint: str | None = None
    """One line for the user, in English, when APP was already instrumented (the app it wraps
    is run instead) or was taken for ASGI 2 but is likely not an app (a framework's app class,
    a view): ``tracer.interface.asgi2_doubt_note``. Never a refusal."""
    notes: tuple[tuple[str, dict[str, str]], ...] = ()
    """The notes ``hint`` says, as ``(key, values)`` of ``NOTES_EN`` and ``NOTES_ZH``, so that
    ``hint_in`` can say them in Chinese."""

    def hint_in(self, lang: str) -> str | None:
        """``hint`` in ``lang`` (``"en"`` or ``"zh"``; English for any other)."""
        if lang != "zh" or not self.notes:
            return self.hint
        return "".join(NOTES_ZH[key].format(**values) for key, values in self.notes)


NOTES_EN: dict[str, str] = {
    "instrumented": 'APP "{spec}" is already instrumented (tracer.instrument); the app it wraps '
    "is run instead, so its own recorder records none of these requests.",
    **ASGI2_NOTES,
}
"""Key -> the English of a loader's note (``LoadedApp.hint``)."""


NOTES_ZH: dict[str, str] = {
    "instrumented": 'APP "{spec}" 已经被插桩（tracer.instrument）；改为运行它所包装的应用，'
    "因此它自己的记录器不会记录这些请求。",
    "asgi2_class": 'APP "{spec}" 是一个类，它的实例才是 ASGI 应用；它被当作 ASGI 2 应用运行，'
    "每个请求都以该请求的 scope 调用它。请让 APP 指向一个实例（应用对象），"
    "或指向一个创建它的无参数函数并加上 --factory。",
    "asgi2_first": 'APP "{spec}" 被当作 ASGI 2 应用运行，每个请求的 scope 作为它的 "{first}" '
    "参数传入。如果它不是应用本身（而是视图、类或创建应用的函数），请让 APP 指向应用，"
    "或指向一个返回应用的无参数函数并加上 --factory。",
}
"""Key -> the Chinese of a loader's note (``trace demo --lang zh`` says it among its Chinese
lines); the English is ``NOTES_EN``'s."""


def load_app(
    spec: Any,
    *,
    factory: bool = False,
    app_dir: str | os.PathLike[str] | None = ".",
    interface: str = "auto",
) -> LoadedApp:
    """Import the app named by ``spec`` and decide its interface (``--interface auto|wsgi|asgi``).

    ``spec`` may also be an app object already. Raises an ``AppLoadError`` subclass, or
    ``InterfaceError`` when the interface cannot be decided, or ``UsageError`` for a bad
    ``interface`` or an ``app_dir`` that is not an existing directory.
    """
    if interface not in INTERFACES:
        raise UsageError(f'--interface must be one of {", ".join(INTERFACES)}, not "{interface}".')
    if not isinstance(spec, str):
        name = getattr(spec, "__qualname__", type(spec).__qualname__)
        text = f"{getattr(spec, '__module__', '?')}:{name}"
        app = _checked(spec, text, factory, interface)
        return _loaded(app, interface, text)
    call = factory_call(spec)  # "flaskr:create_app()": a factory, whatever --factory says
    source, attrs, is_file = split_spec(spec if call is None else call[0])
    factory = factory or call is not None
    if app_dir is not None:
        directory = os.path.abspath(app_dir)
        if not os.path.isdir(directory):
            what = "is not a directory" if os.path.exists(directory) else "does not exist"
            raise UsageError(
                f'--app-dir "{os.fspath(app_dir)}" {what}. '
                "Pass the directory that holds the app's module."
            )
        if directory not in sys.path:
            sys.path.insert(0, directory)
    if is_file:
        module = _import_file(source, spec, attrs)
        where = f'file "{source}"'
    else:
        module = _import_module(source, app_dir)
        where = f'module "{source}"'
    obj: Any = module
    for index, part in enumerate(attrs.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            parent = ".".join(attrs.split(".")[:index])
            # A module of the app's directory hidden by one imported first (json.py, tracer.py).
            hidden = "" if is_file else shadowed_note(source, module, app_dir, attrs)
            raise AppAttributeNotFound(
                f'Attribute "{attrs}" not found in {where}.'
                + (hidden or _suggestion(obj, source, parent, part))
            ) from None
    if call is not None and (call[1] or call[2]):
        obj = functools.wraps(obj)(functools.partial(obj, *call[1], **call[2]))
    app = _checked(obj, spec, factory, interface, where=where, attrs=attrs)
    return _loaded(app, interface, spec)


def split_spec(spec: str) -> tuple[str, str, bool]:
    """APP's module or file, its attribute path, and whether it names a file (``.py``, or a
    path with either separator); ``AppFormatError`` when it is not ``source:attr``.

    The attribute is after the last colon: a Windows drive's (``C:\\apps\\app.py:app``) comes
    before. An "attribute" holding a separator is a path without one (``C:\\apps\\app.py``).
    """
    source, _, attrs = spec.rpartition(":")
    if (
        not source
        or not attrs
        or "/" in attrs
        or "\\" in attrs
        or any(not part for part in attrs.split("."))
    ):
        raise AppFormatError(
            f'APP "{spec}" must be in the form "<module>:<attribute>" or '
            f'"<path/file.py>:<attribute>", for example "myapp:app".'
        )
    is_file = source.endswith(".py") or "/" in source or "\\" in source or os.sep in source
    return source, attrs, is_file


def _loaded(app: Any, interface: str, spec: str) -> LoadedApp:
    """``app`` with its interface, and a hint when auto-detection took it for ASGI 2 though
    it looks like something else (``--interface asgi`` was the user's own choice).

    An app that ``tracer.instrument`` returned (a module instrumenting itself for its own
    use) is taken for the app it wraps, and the hint says so: served as it is, each request
    was recorded twice, the second time by the app's own recorder, which (in memory, by
    default) kept every event for as long as the command ran."""
    app, known = _unwrapped(app)
    kind = known if known is not None and interface == "auto" else detect_interface(app, interface)
    notes: list[tuple[str, dict[str, str]]] = []
    if known is not None:
        notes.append(("instrumented", {"spec": spec}))
    doubt = asgi2_doubt_note(app) if kind == ASGI2 and interface == "auto" else None
    if doubt is not None:
        notes.append((doubt[0], {"spec": spec, **doubt[1]}))
    hint = " ".join(NOTES_EN[key].format(**values) for key, values in notes) or None
    return LoadedApp(app, kind, spec, hint, tuple(notes))


_SHIMS = (("tracer.shim.wsgi", "WsgiShim"), ("tracer.shim.asgi", "AsgiShim"))
"""The classes ``tracer.instrument`` wraps an app in: module, name."""


def _unwrapped(app: Any) -> tuple[Any, str | None]:
    """The app inside ``app``'s instrumenting shims (``tracer.instrument``, however often),
    and the interface the innermost one calls it by; ``app`` and None when it is no shim."""
    # Looked up, not imported: an instance can exist only once its module was imported, and
    # loading any other app must not import the shims.
    shims: tuple[type, ...] = tuple(
        cls
        for cls in (getattr(sys.modules.get(module), name, None) for module, name in _SHIMS)
        if isinstance(cls, type)
    )
    known: str | None = None
    for _ in range(32):  # a bound: a shim wrapping itself (set by hand) is no app to loop on
        if not shims or not issubclass(type(app), shims):
            break
        known = getattr(app, "asgi_version", WSGI)  # only the ASGI shim has one
        app = app.app
    return app, known


_FRAMEWORKS = frozenset({"flask", "fastapi", "starlette", "werkzeug", "pydantic"})
"""What the ``frameworks`` extra installs (and what they import), for the sample apps' hint."""


def _import_module(name: str, app_dir: str | os.PathLike[str] | None) -> types.ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise AppModuleNotFound(
                f'Could not import module "{name}".'
                + (
                    src_note(name, app_dir)
                    or " Run from the directory that holds it, or pass --app-dir DIR."
                )
            ) from None
        missing = (exc.name or "").partition(".")[0]
        hint = ""
        if name.partition(".")[0] == "sample_apps" and missing in _FRAMEWORKS:
            # The bundled Flask/FastAPI apps need the frameworks extra, which a plain
            # ``pip install .`` leaves out: say which one brings it.
            hint = (
                '. The Flask and FastAPI sample apps need it: pip install "gateway-tracer'
                '[frameworks]"'
            )
        raise _import_failed(exc, f'Importing module "{name}" failed', hint) from exc
    except (Exception, SystemExit) as exc:
        hint = package_note(name, exc)  # "main" of package "app" imported from inside "app/"
        raise _import_failed(exc, f'Importing module "{name}" failed', hint) from exc


def _import_file(path: str, spec: str, attrs: str) -> types.ModuleType:
    full = os.path.abspath(path)
    if os.path.isdir(full):
        raise AppModuleNotFound(folder_note(path, attrs))
    if not os.path.isfile(full):
        raise AppModuleNotFound(f'File "{path}" not found (from APP "{spec}"). Check the path.')
    name = os.path.splitext(os.path.basename(full))[0]
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) != full:
        name = f"_gateway_tracer_app_{name}"  # never shadow a module already imported
    directory = os.path.dirname(full)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # as `python file.py` would: its siblings import
    module_spec = importlib.util.spec_from_file_location(name, full)
    if module_spec is None or module_spec.loader is None:
        raise AppFormatError(f'File "{path}" cannot be imported as Python (from APP "{spec}").')
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise _import_failed(exc, f'Importing file "{path}" failed') from exc
    return module


def _import_failed(exc: BaseException, what: str, hint: str = "") -> AppImportFailed:
    """``AppImportFailed`` with a one-line message (``hint`` at its end) and the app's
    traceback, loader frames cut."""
    summary = traceback.TracebackException.from_exception(exc)
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if not _is_loader_frame(frame.filename)]
    )
    first_line = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    return AppImportFailed(f"{what}: {detail}{hint}", "".join(summary.format()))


_IMPORTLIB_DIR = os.path.dirname(importlib.__file__) + os.sep


def _is_loader_frame(filename: str) -> bool:
    return (
        filename == __file__
        or filename.startswith("<frozen importlib")
        or filename.startswith(_IMPORTLIB_DIR)
    )


def _checked(
    obj: Any,
    spec: str,
    factory: bool,
    interface: str,
    *,
    where: str = "",
    attrs: str = "",
) -> Any:
    """The app itself from the attribute found: called if a factory, checked callable."""
    named = f'Attribute "{attrs}" of {where}' if attrs else f'"{spec}"'
    if not callable(obj):
        raise AppNotCallable(
            f"{named} is not callable (it is {_a(obj)}). Point APP at the WSGI or ASGI app"
            + (", or at a function that returns it." if factory else ".")
        )
    if factory:
        try:
            obj = obj()
        except Exception as exc:
            raise _import_failed(exc, f'The app factory "{spec}" raised') from exc
        if not callable(obj):
            raise AppNotCallable(
                f'The app factory "{spec}" returned {_a(obj)}, which is not callable. '
                "It should return the WSGI or ASGI app."
            )
    elif interface == "auto" and _takes_no_arguments(obj):
        raise InterfaceError(
            f'"{spec}" takes no arguments, so it is neither a WSGI nor an ASGI app. '
            "If it returns the app, pass --factory."
        )
    return obj


def _takes_no_arguments(obj: Any) -> bool:
    if not inspect.isfunction(obj) and not inspect.ismethod(obj):
        return False
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(p.kind not in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in parameters)


def _a(obj: Any) -> str:
    name = type(obj).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _suggestion(obj: Any, source: str, parent: str, missing: str) -> str:
    """' Try "m:a" or "m:b".' naming attributes that exist, or a hint when none fit."""
    prefix = f"{source}:{parent}." if parent else f"{source}:"
    if isinstance(obj, types.ModuleType):
        names = _app_like_names(obj, missing)
    else:
        public = [name for name in dir(obj) if not name.startswith("_")]
        names = difflib.get_close_matches(missing, public, n=3)
    if not names:
        return " Name the WSGI or ASGI app after the colon."
    quoted = [f'"{prefix}{name}"' for name in names]
    if len(quoted) == 1:
        return f" Try {quoted[0]}."
    return f" Try {', '.join(quoted[:-1])} or {quoted[-1]}."


def _app_like_names(module: types.ModuleType, missing: str) -> list[str]:
    """Up to three names in ``module`` bound to something that looks like a WSGI/ASGI app."""
    found: dict[int, str] = {}  # id(app) -> first name, so aliases are suggested once
    members = {name: value for name, value in vars(module).items() if not name.startswith("_")}
    if not members:  # get_close_matches refuses n=0: an empty module (or a folder) has none
        return []
    close = difflib.get_close_matches(missing, list(members), n=len(members), cutoff=0.5)
    # A near-miss of the typed name ("aplication") comes first, even if the module imported
    # it from elsewhere: that is what the user meant.
    typo = set(difflib.get_close_matches(missing, list(members), n=3, cutoff=0.8))
    order = (
        [n for n in close if n in typo]
        + [n for n in _LIKELY_NAMES if n in members]
        + close
        + sorted(members)
    )
    for name in order:
        value = members[name]
        if id(value) in found or not _looks_like_app(
            value, module.__name__, imported_ok=name in typo
        ):
            continue
        found[id(value)] = name
        if len(found) == 3:
            break
    return list(found.values())


def _looks_like_app(value: Any, module_name: str, *, imported_ok: bool = False) -> bool:
    # Looking at a module's members must never fail the load: a context-bound proxy
    # (Flask's ``request``) raises on any touch outside a request.
    try:
        return _app_shaped(value, module_name, imported_ok)
    except Exception:
        return False


def _app_shaped(value: Any, module_name: str, imported_ok: bool) -> bool:
    if isinstance(value, types.ModuleType) or inspect.isclass(value) or not callable(value):
        return False
    if inspect.isfunction(value) and value.__module__ != module_name and not imported_ok:
        return False  # imported helpers (jsonify, render_template) are not the app
    try:
        kind = detect_interface(value)
    except InterfaceError:
        return False
    return kind == WSGI or kind == "asgi3" or not inspect.isfunction(value)
