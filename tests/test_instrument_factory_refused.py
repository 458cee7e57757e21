"""``tracer.instrument`` refuses a factory (a function callable without arguments) in the
library's words: the CLI's message names ``--factory``, an option a library caller has not."""

from __future__ import annotations

import pytest

import tracer
from tracer.errors import InterfaceError


def create_app(test_config: dict[str, str] | None = None) -> object:
    return test_config


def test_a_factory_given_to_instrument_is_refused_in_the_library_s_words() -> None:
    with pytest.raises(InterfaceError) as caught:
        tracer.instrument(create_app, recorder=tracer.Recorder())
    message = str(caught.value)
    assert "If it returns the app, instrument what it returns." in message
    assert 'pass interface="wsgi" or interface="asgi" to instrument().' in message
    assert "--" not in message


def test_the_interface_given_by_hand_takes_it_as_the_app() -> None:
    traced = tracer.instrument(create_app, recorder=tracer.Recorder(), interface="wsgi")
    assert traced is not create_app
