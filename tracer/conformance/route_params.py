"""Values for a FastAPI route's path parameters that its validation accepts, read publicly.

``path_param_samples(route, names)`` reads the signatures of the route's endpoint and of every
dependency it declares (``Depends`` in a parameter, the route's and its routers'
``dependencies=[...]``, nested dependencies), as FastAPI itself does, and gives each path
parameter a value of its annotation: the nil UUID for ``uuid.UUID``, ``1.0`` for ``float``, an
enum's first value, a ``Literal``'s first choice, ISO dates and times, ``true``, and a number
inside ``Path(ge=..., le=...)`` bounds; a ``Path(alias=...)`` names the parameter in the path.
Only public objects are read: ``inspect``, ``typing``, ``fastapi.params.Depends`` and
``Path`` (pydantic ``FieldInfo``: ``alias``, ``metadata``) and ``annotated_types``' bounds by
their attribute names. A parameter nothing can be learnt about (an annotation that does not
resolve, a type with no plain value, a signature that cannot be read) is left out, and the
caller probes it with ``1``: discovery never fails on what it cannot read. ``type_sample(kind)``
gives the value of one type alone (Litestar's typed path parameters). Imports nothing of
ours, and nothing of FastAPI's that the app did not import already.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import sys
import types
import typing
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["path_param_samples", "type_sample", "NIL_UUID"]

NIL_UUID = "00000000-0000-0000-0000-000000000000"

_MAX_CALLS = 64
"""Dependency callables read per route at most: a dependency graph is a few levels deep."""

# datetime before date: a datetime is a date too.
_TIME_SAMPLES: tuple[tuple[type, str], ...] = (
    (datetime.datetime, "2000-01-01T00:00:00"),
    (datetime.date, "2000-01-01"),
    (datetime.time, "00:00:00"),
)


def path_param_samples(route: Any, names: Iterable[str]) -> dict[str, str]:
    """Path parameter name -> a value its annotation accepts, for the ``names`` in the path.

    ``route``: a FastAPI route (or the route context FastAPI gives for a route of an included
    router); anything else, or a FastAPI that is not loaded, gives ``{}``."""
    params = sys.modules.get("fastapi.params")
    wanted = set(names)
    if params is None or not wanted:
        return {}
    samples: dict[str, str] = {}
    try:
        for name, annotation, extras in _parameters_of(route, params):
            if name in wanted and name not in samples:
                sample = _sample(annotation, extras)
                if sample is not None:
                    samples[name] = sample
    except Exception:  # a route table of an unexpected shape: what was read so far stands
        pass
    return samples


def type_sample(kind: Any) -> str | None:
    """A value of the type ``kind`` in a URL (``1`` for ``int``, the nil UUID for
    ``uuid.UUID``, an ISO date for ``date``), or None for a type with no plain value (``str``
    takes any): how Litestar's typed parameters (``{item_id:int}``) are filled."""
    try:
        return _sample(kind, [])
    except Exception:  # an odd type object: no value known
        return None


def _attribute(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _parameters_of(route: Any, params: Any) -> Iterator[tuple[str, Any, list[Any]]]:
    """(name in the path, annotation, metadata) of each plain parameter of the endpoint and
    of its dependencies; a parameter that is a dependency is followed, not listed."""
    calls: list[Any] = [_attribute(route, "endpoint")]
    for depends in _attribute(route, "dependencies") or ():
        calls.append(_attribute(depends, "dependency"))
    seen: set[int] = set()
    while calls and len(seen) < _MAX_CALLS:
        call = calls.pop(0)
        if call is None or id(call) in seen:
            continue
        seen.add(id(call))
        for name, annotation, extras in _signature(call):
            depends = next((e for e in extras if isinstance(e, params.Depends)), None)
            if depends is not None:
                # Depends() with no callable: the annotation (a class) is the dependency.
                calls.append(_attribute(depends, "dependency") or annotation)
                continue
            for extra in extras:
                alias = _attribute(extra, "alias") if isinstance(extra, params.Path) else None
                if isinstance(alias, str) and alias:
                    name = alias
            yield name, annotation, extras


def _signature(call: Any) -> list[tuple[str, Any, list[Any]]]:
    """(name, annotation, metadata) of each parameter of ``call``: ``Annotated``'s metadata
    and the default (``Path(...)``, ``Depends(...)``) as metadata; [] when unreadable."""
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError):
        return []
    hints = _hints(call)
    found = []
    for parameter in signature.parameters.values():
        annotation = hints.get(parameter.name, parameter.annotation)
        extras: list[Any] = []
        if typing.get_origin(annotation) is typing.Annotated:
            extras.extend(annotation.__metadata__)
            annotation = annotation.__origin__
        if parameter.default is not inspect.Parameter.empty:
            extras.append(parameter.default)
        found.append((parameter.name, annotation, extras))
    return found


def _hints(call: Any) -> dict[str, Any]:
    """``call``'s resolved annotations (strings of ``from __future__ import annotations``
    evaluated, ``Annotated`` kept); each that does not resolve stays out, so the others
    still count."""
    target = call
    if isinstance(call, type):
        target = _attribute(call, "__init__") or call
    elif not (inspect.isfunction(call) or inspect.ismethod(call)):
        target = _attribute(call, "__call__") or call
    target = inspect.unwrap(target)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:
        pass
    namespace = _attribute(target, "__globals__") or {}
    hints = {}
    for name, text in (_attribute(target, "__annotations__") or {}).items():
        if isinstance(text, str):
            try:
                hints[name] = eval(text, dict(namespace))  # what get_type_hints does, one by one
            except Exception:
                continue
    return hints


def _sample(annotation: Any, extras: list[Any]) -> str | None:
    """A value of ``annotation`` in a URL, inside the bounds ``extras`` set; None: unknown."""
    annotation = _without_none(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        choice = annotation.__args__[0]
        return _text(choice.value if isinstance(choice, enum.Enum) else choice)
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, enum.Enum):
        members = list(annotation)
        return _text(members[0].value) if members else None
    if issubclass(annotation, bool):
        return "true"
    if issubclass(annotation, uuid.UUID):
        return NIL_UUID
    for kind, text in _TIME_SAMPLES:
        if issubclass(annotation, kind):
            return text
    if issubclass(annotation, (int, float, decimal.Decimal)):
        return _number(annotation, extras)
    if issubclass(annotation, str):
        shortest = _bound(extras, "min_length")
        return "1" * int(shortest) if shortest is not None and shortest > 1 else None
    return None


def _without_none(annotation: Any) -> Any:
    """``int | None`` -> ``int``: the first type of a union that is not None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return kinds[0] if kinds else annotation
    return annotation


def _bounds(extras: list[Any]) -> Iterator[Any]:
    """The constraint objects among ``extras``: ``Path(ge=1)`` keeps them in ``metadata``."""
    for extra in extras:
        yield extra
        metadata = _attribute(extra, "metadata")
        if isinstance(metadata, list):
            yield from metadata


def _bound(extras: list[Any], name: str) -> Any:
    for item in _bounds(extras):
        value = _attribute(item, name)
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            return value
    return None


def _number(kind: type, extras: list[Any]) -> str | None:
    """1 (``1.0`` for a float, which Starlette's ``float`` convertor wants with a dot), moved
    inside ``ge``/``gt``/``le``/``lt`` when those exclude it."""
    value: Any = 1
    ge, gt, le, lt = (_bound(extras, name) for name in ("ge", "gt", "le", "lt"))
    step = 1 if issubclass(kind, int) else 0.5
    if ge is not None and value < ge:
        value = ge
    if gt is not None and value <= gt:
        value = gt + step
    if le is not None and value > le:
        value = le
    if lt is not None and value >= lt:
        value = lt - step
    if issubclass(kind, int):
        return str(int(value)) if value == int(value) else None
    return str(float(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
