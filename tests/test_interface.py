"""``detect_interface``: WSGI, ASGI 3 or ASGI 2 from an app's signature, on real apps too."""

from __future__ import annotations

import functools
from typing import Any

import fastapi
import flask
import pytest
import starlette.applications
from asgiref.wsgi import WsgiToAsgi

from sample_apps.hello import application, asgi_app
from tracer.errors import InterfaceError
from tracer.interface import ASGI2, ASGI3, WSGI, detect_interface, is_asgi


def wsgi_function(environ: Any, start_response: Any) -> list[bytes]:
    return []


def wsgi_with_option(environ: Any, start_response: Any, debug: bool = False) -> list[bytes]:
    return []


async def asgi3_function(scope: Any, receive: Any, send: Any) -> None:
    pass


def asgi3_returning_coroutine(scope: Any, receive: Any, send: Any) -> Any:
    return asgi3_function(scope, receive, send)


def asgi2_function(scope: Any) -> Any:
    async def instance(receive: Any, send: Any) -> None:
        pass

    return instance


class Asgi2Class:
    """The ASGI 2 class form: instantiated with the scope, then awaited with receive/send."""

    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        pass


class Asgi3Object:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        pass


class WsgiObject:
    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        return []


class WsgiClass:
    """PEP 3333's own example of an app that is a class: the instance is the iterable."""

    def __init__(self, environ: Any, start_response: Any) -> None:
        self.environ = environ

    def __iter__(self) -> Any:
        return iter([])


def vague(*args: Any) -> None:
    pass


@pytest.mark.parametrize(
    "app,expected",
    [
        (application, WSGI),
        (asgi_app, ASGI3),
        (wsgi_function, WSGI),
        (wsgi_with_option, WSGI),
        (WsgiObject(), WSGI),
        (WsgiClass, WSGI),
        (asgi3_function, ASGI3),
        (asgi3_returning_coroutine, ASGI3),
        (Asgi3Object(), ASGI3),
        (Asgi3Object().__call__, ASGI3),
        (functools.partial(asgi3_function), ASGI3),
        (functools.partial(Asgi3Object()), ASGI3),
        (asgi2_function, ASGI2),
        (Asgi2Class, ASGI2),
        (lambda environ, start_response: [], WSGI),
    ],
    ids=lambda value: getattr(value, "__name__", type(value).__name__),
)
def test_detected_from_signature(app: Any, expected: str) -> None:
    """Each form of app is told apart with no hint."""
    assert detect_interface(app) == expected


def test_real_frameworks() -> None:
    """Flask is WSGI; FastAPI, Starlette and asgiref's WSGI adapter are ASGI 3."""
    assert detect_interface(flask.Flask("x")) == WSGI
    assert detect_interface(fastapi.FastAPI()) == ASGI3
    assert detect_interface(starlette.applications.Starlette()) == ASGI3
    assert detect_interface(WsgiToAsgi(application)) == ASGI3


def test_hints_force_or_refine() -> None:
    """wsgi forces WSGI; asgi picks the ASGI version; asgi2/asgi3 force that version."""
    assert detect_interface(asgi3_function, "wsgi") == WSGI
    assert detect_interface(asgi2_function, "asgi") == ASGI2
    assert detect_interface(Asgi2Class, "asgi") == ASGI2
    assert detect_interface(vague, "asgi") == ASGI3
    assert detect_interface(asgi3_returning_coroutine, "asgi") == ASGI3
    assert detect_interface(vague, "asgi2") == ASGI2
    assert detect_interface(vague, "asgi3") == ASGI3
    assert detect_interface(application, "auto") == WSGI


def test_undecidable_and_not_callable() -> None:
    """*args, zero arguments and non-callables each raise InterfaceError naming the fix."""
    with pytest.raises(InterfaceError) as info:
        detect_interface(vague)
    assert str(info.value) == (
        "Cannot tell whether 'vague' is a WSGI or an ASGI app from its signature. "
        "Pass --interface wsgi or --interface asgi."
    )
    with pytest.raises(InterfaceError):
        detect_interface(lambda: None)
    with pytest.raises(InterfaceError) as info:
        detect_interface("app")
    assert str(info.value) == "'app' is not callable, so it is neither a WSGI nor an ASGI app."


def test_undecidable_names_the_callers_way_to_choose() -> None:
    """``choice`` replaces the CLI's --interface sentence (``tracer.instrument`` passes its own
    argument's); the rest of the message stays."""
    with pytest.raises(InterfaceError) as info:
        detect_interface(vague, choice='Pass interface="wsgi".')
    assert str(info.value) == (
        "Cannot tell whether 'vague' is a WSGI or an ASGI app from its signature. "
        'Pass interface="wsgi".'
    )


def test_unknown_hint_rejected() -> None:
    """A hint that is not a choice is an error rather than silently auto."""
    with pytest.raises(InterfaceError) as info:
        detect_interface(application, "cgi")
    assert str(info.value) == (
        'Unknown interface "cgi": use auto, wsgi or asgi (asgi2/asgi3 force a version).'
    )


def test_is_asgi() -> None:
    """is_asgi is true for every ASGI spelling only."""
    assert [is_asgi(name) for name in ("asgi", "asgi2", "asgi3", "wsgi")] == [
        True,
        True,
        True,
        False,
    ]
