"""WSGI-023's message names CONTENT_LENGTH as the environ gave it: a number, empty or absent."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tracer.conformance import WsgiChecker


def _messages(environ: dict[str, Any], read: int) -> list[str]:
    found: list[str] = []

    def report(rule_id: str, message: str, **data: Any) -> None:
        if rule_id == "WSGI-023":
            found.append(message)

    checker = WsgiChecker({"wsgi.input": io.BytesIO(), **environ}, report)
    checker.input_read(read)
    return found


@pytest.mark.parametrize(
    ("environ", "ending"),
    [
        ({}, "read 7 bytes, no CONTENT_LENGTH"),
        ({"CONTENT_LENGTH": ""}, "read 7 bytes, CONTENT_LENGTH is empty"),
        ({"CONTENT_LENGTH": "0"}, "read 7 bytes, CONTENT_LENGTH is 0"),
        ({"CONTENT_LENGTH": "5"}, "read 7 bytes, CONTENT_LENGTH is 5"),
    ],
)
def test_the_message_says_what_the_environ_held(environ: dict[str, Any], ending: str) -> None:
    """An absent or empty CONTENT_LENGTH is not called 0; a number is given as it is."""
    (message,) = _messages(environ, 7)
    assert message.endswith(": " + ending), message


def test_a_read_within_the_length_is_no_finding() -> None:
    """Reading exactly CONTENT_LENGTH, or nothing when there is none, is fine."""
    assert _messages({"CONTENT_LENGTH": "7"}, 7) == []
    assert _messages({}, 0) == []
    assert _messages({"CONTENT_LENGTH": ""}, 0) == []
