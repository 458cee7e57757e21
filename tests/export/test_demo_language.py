"""``--to html`` and ``--to svg`` of a demo's recordings say its texts as the replay does: side
names, bookmarks and caption in the language asked for (``lang``; by default the language the
first recording was made in), whatever language each was recorded in."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.errors import UsageError
from tracer.export import ExportOptions
from tracer.export.html import export_html
from tracer.export.svg import export_svg
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)

GIL = SCENARIOS["cpu-gil"]


def _saved(tmp_path: Path, lang: str) -> list[str]:
    """``trace demo cpu-gil --sim --lang LANG --record DIR``'s two files."""
    return save_demo(run_demo(GIL, simulated=True, lang=lang), str(tmp_path / lang))


def _html(first: str, second: str | None = None, lang: str | None = None) -> str:
    out = io.StringIO()
    compare = (load(second),) if second else ()
    options = ExportOptions(output="-", stdout=out, compare=compare)
    # Without a language, as ``trace export`` calls it.
    export_html(load(first), options, lang=lang) if lang else export_html(load(first), options)
    return out.getvalue()


def _svg_texts(first: str, second: str, lang: str | None = None) -> list[str]:
    out = io.StringIO()
    options = ExportOptions(output="-", stdout=out, compare=(load(second),))
    export_svg(load(first), options, lang=lang)
    return [t for t in ET.fromstring(out.getvalue()).itertext() if t.strip()]


def _texts(lang: str, *keys: str) -> list[str]:
    return [GIL.text(lang, key) for key in keys]


def test_an_english_recording_exports_as_a_chinese_page(tmp_path: Path) -> None:
    """``lang="zh"`` of English recordings: the page's language, title, caption, side names
    and bookmarks in Chinese; none of the English texts left."""
    first, second = _saved(tmp_path, "en")
    page = _html(first, second, lang="zh")
    assert '<html lang="zh">' in page and f"<h1>{GIL.title('zh')}</h1>" in page
    assert f'<p class="caption">{GIL.caption("zh")}</p>' in page
    for text in _texts("zh", "side0", "side1", "gil", "gil:caption", "cores", "cores:caption"):
        assert text in page, text
    for text in _texts("en", "title", "side0", "side1", "gil", "cores"):
        assert text not in page, text


def test_an_english_recording_exports_as_a_chinese_figure(tmp_path: Path) -> None:
    """``lang="zh"`` for the SVG figure: Chinese lane headings, bookmark labels and legend."""
    first, second = _saved(tmp_path, "en")
    texts = _svg_texts(first, second, lang="zh")
    headings = [t for t in texts if "：sim:" in t]
    assert [h.split("：")[0] for h in headings] == _texts("zh", "side0", "side1")
    assert set(_texts("zh", "gil", "cores")) <= set(texts)
    assert "排队" in texts and "queued" not in texts
    assert not set(_texts("en", "side0", "side1", "gil", "cores")) & {
        t.split(":")[0] for t in texts
    }


def test_a_chinese_recording_exports_in_english_when_asked(tmp_path: Path) -> None:
    """And the other way: recorded in Chinese, exported with ``lang="en"``."""
    first, second = _saved(tmp_path, "zh")
    page = _html(first, second, lang="en")
    assert '<html lang="en">' in page and f"<h1>{GIL.title('en')}</h1>" in page
    assert f'<p class="caption">{GIL.caption("en")}</p>' in page
    assert "线程" not in page


def test_recordings_in_two_languages_export_in_the_first_ones(tmp_path: Path) -> None:
    """No ``lang``: the first recording's language for the whole page, the other recording's
    side name and bookmarks said again in it (they were in the language it was made in)."""
    zh_first, _ = _saved(tmp_path, "zh")
    _, en_second = _saved(tmp_path, "en")
    page = _html(zh_first, en_second)
    assert '<html lang="zh">' in page and f'<p class="caption">{GIL.caption("zh")}</p>' in page
    for text in _texts("zh", "side1", "cores", "cores:caption"):
        assert text in page, text
    for text in _texts("en", "side1", "cores", "cores:caption"):
        assert text not in page, text


def test_one_side_exports_with_its_own_caption(tmp_path: Path) -> None:
    """One side alone: its name, simulated, and what it shows; not the caption of two sides."""
    _, second = _saved(tmp_path, "en")
    page = _html(second, lang="zh")
    expected = f"{GIL.text('zh', 'side1')}（模拟）。{GIL.texts['zh']['about1']}"
    assert f'<p class="caption">{expected}</p>' in page
    assert "上：" not in page


def test_an_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    """A language no text is written in: one ``UsageError`` naming the choices."""
    first, second = _saved(tmp_path, "en")
    with pytest.raises(UsageError, match=r'Unknown language "fr"; choose one of: en, zh\.'):
        _html(first, second, lang="fr")


def test_the_export_command_keeps_the_recorded_language(tmp_path: Path) -> None:
    """``trace export A B --to svg`` (no language asked for) of Chinese recordings: Chinese
    texts, as before."""
    first, second = _saved(tmp_path, "zh")
    out = tmp_path / "x.svg"
    assert main(["export", first, second, "--to", "svg", "-o", str(out)]) == 0
    texts = list(ET.fromstring(out.read_text(encoding="utf-8")).itertext())
    assert set(_texts("zh", "gil", "cores")) <= set(texts) and "排队" in texts


def test_a_plain_recording_exports_without_the_scenarios(tmp_path: Path) -> None:
    """No demo header: the exporters never import the scenarios (nor the server models)."""
    plain = tmp_path / "plain.jsonl"
    assert main(["sim", "-n", "3", "--record", str(plain)]) == 0
    code = (
        "import io, sys; from tracer.export import ExportOptions; "
        "from tracer.export.html import export_html; from tracer.recording import load; "
        f"export_html(load({str(plain)!r}), ExportOptions(output='-', stdout=io.StringIO()), "
        "lang='zh'); assert 'tracer.demos' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_export_command_says_them_in_lang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace export A B --to html --lang zh`` of English recordings: a Chinese page; --lang
    with a target that writes the texts as recorded (otlp-json) is one line and exit 2."""
    first, second = _saved(tmp_path, "en")
    out = tmp_path / "x.html"
    assert main(["export", first, second, "--to", "html", "--lang", "zh", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert f'<p class="caption">{GIL.caption("zh")}</p>' in page
    assert GIL.caption("en") not in page
    capsys.readouterr()
    code = main(["export", first, "--to", "otlp-json", "--lang", "zh", "-o", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--lang is for --to html, svg or perfetto" in err
