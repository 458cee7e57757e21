"""Replay screenshots name an installed monospace font first (tracer.tui.svg_cells).

Rich writes ``font-family: Fira Code, monospace``: a renderer that reads only the first family
(cairosvg) falls back to a proportional font when Fira Code is not installed, and the axis
labels drift away from their ticks.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tracer.recording import Recording
from tracer.tui.app import render_svg

pytestmark = pytest.mark.timeout(60)

_MATRIX = re.compile(r"\.[\w-]+-matrix \{\s*font-family: ([^;]*);")


def _families(svg: str) -> list[str]:
    (found,) = _MATRIX.findall(svg)
    return [family.strip().strip('"') for family in found.split(",")]


@pytest.mark.parametrize(
    ("lang", "first"), [("en", "DejaVu Sans Mono"), ("zh", "WenQuanYi Zen Hei Mono")]
)
def test_the_screenshot_names_a_monospace_font_first(
    loop_rec: Recording, lang: str, first: str
) -> None:
    """A Chinese screenshot puts a monospace family with CJK glyphs first."""
    families = _families(render_svg([loop_rec], size=(100, 30), lang=lang))
    assert families[0] == first
    assert families[-1] == "monospace"
    assert "Fira Code" in families  # still used where it is installed


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="no fontconfig")
def test_the_first_family_is_monospaced_where_it_is_installed(loop_rec: Recording) -> None:
    """Where fontconfig knows the first family, it picks a monospaced font for it (spacing
    100), as it would not for Fira Code when that is not installed."""
    first = _families(render_svg([loop_rec], size=(100, 30)))[0]
    found = subprocess.run(
        ["fc-match", "-f", "%{family}|%{spacing}", first],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    family, _, spacing = found.partition("|")
    if first not in family:
        pytest.skip(f"{first} is not installed here")
    assert spacing == "100"
