"""The SVG and HTML figures are the same bytes under every Python: no float is written raw.

A coordinate written as Python prints a float (``573.6200000000001``) carries the last bits of
its arithmetic, and those differ between versions: 3.12 changed ``sum()`` of floats, which
``text_width`` uses, and the legend's positions were written unrounded. Every coordinate is
written with at most ``DECIMALS`` decimals, and the legend is laid out so that a last-bit
change in a text width changes nothing.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import tracer.export.legend as legend_module
from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.export import ExportOptions
from tracer.export.drawing import text_width
from tracer.export.html import export_html
from tracer.export.legend import LEGENDS, legend
from tracer.export.svg import export_svg
from tracer.recording import Recording

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
DECIMALS = 1
"""Decimals a figure's numbers are written with at most (``x="70.0"``, as the lanes)."""
LONG = re.compile(rf'[\w:-]+="[^"]*\d\.\d{{{DECIMALS + 1},}}[^"]*"')
"""An attribute holding a number with more decimals than that (the summary table's texts
are figures written by ``tracer.export.numbers``, not coordinates)."""
SCENARIO_NAMES = [name for name in SCENARIOS if name != "c10k"]  # c10k: the same code, slow


def _figure(export: Callable[..., str], recordings: list[Recording]) -> str:
    out = io.StringIO()
    export(recordings[0], ExportOptions(output="-", stdout=out, compare=tuple(recordings[1:])))
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_no_number_in_a_demo_figure_has_more_than_the_decimals(name: str, lang: str) -> None:
    """Every simulated demo's compare, as SVG and as HTML, in English and Chinese."""
    recordings = run_demo(SCENARIOS[name], simulated=True, lang=lang).recordings
    for export in (export_svg, export_html):
        figure = _figure(export, recordings)
        assert 'class="legend"' in figure
        assert LONG.findall(figure) == [], export.__name__


@pytest.mark.parametrize("lang", sorted(LEGENDS))
@pytest.mark.parametrize("width", [400, 700, 1200])
def test_every_legend_entry_is_written_with_the_decimals(lang: str, width: int) -> None:
    """Every entry's swatch and text, on rows of any width."""
    shown = [key for key, _ in LEGENDS[lang]]
    parts, _ = legend(600, width, lang, shown)
    assert len(parts) == len(shown)
    assert LONG.findall("".join(parts)) == []


@pytest.mark.parametrize("lang", sorted(LEGENDS))
@pytest.mark.parametrize("towards", [math.inf, -math.inf])
def test_a_last_bit_change_in_text_widths_changes_no_legend_byte(
    monkeypatch: pytest.MonkeyPatch, lang: str, towards: float
) -> None:
    """As Python 3.12's ``sum()`` may give a text width one unit in the last place away from
    3.11's, the legend is laid out and written the same from widths one step up or down."""
    shown = [key for key, _ in LEGENDS[lang]]
    expected = legend(600, 700, lang, shown)

    def nudged(text: str, size: int) -> float:
        return math.nextafter(text_width(text, size), towards)

    monkeypatch.setattr(legend_module, "text_width", nudged)
    assert legend(600, 700, lang, shown) == expected


def _other_pythons() -> list[str]:
    """Interpreters of Python 3.12 and later that can run the exporters (their dependencies
    installed): on PATH, or installed by pyenv."""
    found = [shutil.which(f"python3.{minor}") for minor in range(12, 16)]
    pyenv = Path.home() / ".pyenv" / "versions"
    if pyenv.is_dir():
        found += [str(p / "bin" / "python") for p in sorted(pyenv.glob("3.1[2-9]*"))]
    usable = []
    for python in dict.fromkeys(p for p in found if p):
        try:
            probe = subprocess.run(
                [python, "-c", "import sys, orjson; assert sys.version_info >= (3, 12)"],
                capture_output=True,
                timeout=30,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            usable.append(python)
    return usable


EXPORT = """
import sys
from tracer.cli import main
sys.exit(main(["export", *sys.argv[1:]]))
"""


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="compares this 3.11 with a 3.12+")
def test_a_figure_is_the_same_bytes_under_python_3_12(tmp_path: Path) -> None:
    """``trace export`` of a simulated demo's recordings to SVG under this Python and under
    each 3.12+ found with the dependencies installed (skipped when there is none)."""
    others = _other_pythons()
    if not others:
        pytest.skip("no Python 3.12 or later with the dependencies installed")
    recordings = save_demo(
        run_demo(SCENARIOS["cpu-gil"], simulated=True, lang="en"), str(tmp_path / "rec")
    )
    ours = tmp_path / "ours.svg"
    assert main(["export", *recordings, "--to", "svg", "-o", str(ours)]) == 0
    for python in others:
        out = tmp_path / "other.svg"
        done = subprocess.run(
            [python, "-c", EXPORT, *recordings, "--to", "svg", "-o", str(out)],
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 0, done.stderr.decode()
        assert out.read_bytes() == ours.read_bytes(), python
