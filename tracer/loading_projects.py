"""What APP says of a developer's project beyond ``module:attr``, for ``tracer.loading``.

- A factory named with its call, as gunicorn and ``flask --app`` take it (``flaskr:create_app()``,
  ``app:make(debug=True)``): ``factory_call`` splits the attribute from its arguments, which
  must be literals (strings, numbers, ``True``/``False``/``None``, and tuples, lists and dicts
  of them), as gunicorn's are.
- A module of the app's directory that another of the same name hides (``json.py`` beside the
  standard library's ``json``, ``tracer.py`` beside this package), imported before the app's
  could be: ``shadowed_note`` names the module that was found and the file form that reaches
  the app's own file.
- Where a module not found is, when a project's layout says (``src_note``: a ``src/`` layout),
  a package's folder given as a file (``folder_note``), and a module of a package imported
  from inside its folder, whose relative imports then fail (``package_note``).

Imports only ``tracer.errors``.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import types
from typing import Any

from tracer.errors import AppFormatError

__all__ = ["factory_call", "folder_note", "package_note", "shadowed_note", "src_note"]


def factory_call(spec: str) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
    """``(APP without the call, args, kwargs)`` when APP ends with a call of its attribute
    (``flaskr:create_app()``), None when it does not; ``AppFormatError`` for a call that is not
    of a name with literal arguments. The call starts after the first colon whose rest parses
    as one, so a drive's colon before it, or a colon in a string argument, is no trouble."""
    if not spec.endswith(")"):
        return None
    colon = spec.find(":")
    while colon != -1:
        try:
            call = ast.parse(spec[colon + 1 :], mode="eval").body
        except SyntaxError:
            call = None
        name = _dotted(call.func) if isinstance(call, ast.Call) else None
        if isinstance(call, ast.Call) and name is not None:
            return spec[: colon + 1] + name, *_arguments(spec, call)
        colon = spec.find(":", colon + 1)
    raise AppFormatError(
        f'APP "{spec}" must name the factory and its call, for example "flaskr:create_app()".'
    )


def _arguments(spec: str, call: ast.Call) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The literal values of ``call``'s arguments; ``AppFormatError`` for any other."""
    try:
        if any(keyword.arg is None for keyword in call.keywords):
            raise ValueError("**mapping")
        args = tuple(ast.literal_eval(arg) for arg in call.args)
        kwargs = {str(kw.arg): ast.literal_eval(kw.value) for kw in call.keywords}
    except ValueError:
        raise AppFormatError(
            f'The arguments of the factory in APP "{spec}" must be literals (strings, numbers, '
            "True, False, None), as gunicorn's; for others, make the app in a function of your "
            "own and pass --factory."
        ) from None
    return args, kwargs


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def shadowed_note(
    source: str, module: types.ModuleType, app_dir: str | os.PathLike[str] | None, attrs: str
) -> str:
    """A sentence saying that ``module``, imported for ``source``, is not the app's own
    ``source``'s file in ``app_dir`` (which was hidden: a module of its name was imported
    first), and how to reach it; "" when it is, or when ``app_dir`` has no such file."""
    if app_dir is None:
        return ""
    top = source.partition(".")[0]
    directory = os.path.abspath(app_dir)
    candidates = [os.path.join(directory, *source.split(".")) + ".py"]
    candidates.append(os.path.join(directory, top, "__init__.py"))
    local = next((path for path in candidates if os.path.isfile(path)), None)
    found = getattr(module, "__file__", None)
    if local is None or (found is not None and os.path.abspath(found) == local):
        return ""
    where = f"is {found}" if found else "is a built-in module"
    mine = os.path.relpath(local)
    mine = mine if mine.startswith("..") else f"./{mine}"
    if local.endswith(f"{os.sep}__init__.py"):
        reach = f'rename the package "{top}"'
    else:
        reach = f'pass "{mine}:{attrs}" (the file form), or rename the file'
    return (
        f' Module "{source}" {where}, not {mine}: a module of that name was imported first; '
        f"{reach}."
    )


def src_note(name: str, app_dir: str | os.PathLike[str] | None) -> str:
    """How to reach module ``name`` when it is not in the app's directory but in its ``src/``
    folder (a ``src`` layout, not installed); "" when it is not there either."""
    directory = os.path.abspath(app_dir if app_dir is not None else os.curdir)
    top = name.partition(".")[0]
    src = os.path.join(directory, "src")
    if os.path.isdir(os.path.join(src, top)) or os.path.isfile(os.path.join(src, f"{top}.py")):
        return ' It is in "src" (a src layout): pass --app-dir src.'
    return ""


def folder_note(path: str, attrs: str) -> str:
    """The message for APP's file ``path`` that is a package's folder: the module form with
    ``--app-dir`` its parent reaches it."""
    parent = os.path.dirname(os.path.normpath(path)) or os.curdir
    name = os.path.basename(os.path.normpath(path))
    return (
        f'"{path}" is a folder (a package), not a file: pass "{name}:{attrs}" with '
        f"--app-dir {parent}."
    )


def package_note(name: str, exc: BaseException) -> str:
    """A hint for module ``name`` whose relative import failed because it was imported as a
    top-level module from inside its package's folder: the dotted name to run it by from the
    parent folder; "" for any other failure."""
    if not isinstance(exc, ImportError) or "no known parent package" not in str(exc):
        return ""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return ""
    origin = spec.origin if spec is not None else None
    if origin is None:
        return ""
    folder = os.path.dirname(os.path.abspath(origin))
    if not os.path.isfile(os.path.join(folder, "__init__.py")):
        return ""
    package = os.path.basename(folder)
    return (
        f'. "{name}" is part of the package "{package}" (its folder has __init__.py): run it as '
        f'"{package}.{name}" from the folder above, or pass --app-dir ..'
    )
