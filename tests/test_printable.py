"""Recording strings shown safely: controls escaped, plain text untouched."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape

from tracer.printable import printable


def test_plain_text_is_returned_as_is() -> None:
    text = "/café/日本語 [bold] <b>"
    assert printable(text) is text


def test_terminal_controls_become_visible_escapes() -> None:
    assert printable("/x\x1b]0;PWNED\x07\x1b[2J") == "/x\\x1b]0;PWNED\\x07\\x1b[2J"
    assert printable("a\x9b31mb") == "a\\x9b31mb"  # C1 CSI
    assert printable("\u202eevil") == "\\u202eevil"  # bidi override
    assert printable("a\rb\x7f") == "a\\x0db\\x7f"


def test_newlines_are_kept_only_when_asked() -> None:
    assert printable("a\nb\tc") == "a\\x0ab\\x09c"
    assert printable("a\nb\tc\x1b", newlines=True) == "a\nb\tc\\x1b"


def test_the_result_is_well_formed_xml_text() -> None:
    hostile = "".join(chr(c) for c in range(0x20)) + "\ufffe\ud800\U000e0001"
    ET.fromstring(f"<t>{escape(printable(hostile))}</t>")


def test_a_value_that_is_no_string_is_shown_as_its_str() -> None:
    """A recording read from elsewhere may hold a number where a message belongs."""
    from tracer.printable import printable as shown

    assert shown(1) == "1"
    assert shown(None) == "None"
    assert shown(["\x1b"]) == "['\\x1b']"
