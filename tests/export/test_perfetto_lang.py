"""``trace export --to perfetto --lang en|zh``: a demo's recording said in one language, its
trace's title wholly in it and its bookmarks' labels and captions from the scenario in it;
without ``--lang``, the language the recording was made in. A simulation is the same run in
either language, so a Chinese recording exported in English is the English one's trace, byte
for byte, and the other way round."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo

pytestmark = pytest.mark.timeout(60)

SCENARIO = SCENARIOS["sync-vs-async"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Language -> the first side of the simulated demo, recorded in it."""
    found = {}
    for lang in ("en", "zh"):
        folder = tmp_path_factory.mktemp(lang)
        found[lang] = save_demo(run_demo(SCENARIO, simulated=True, lang=lang), str(folder))[0]
    return found


def _export(
    capsys: pytest.CaptureFixture[str], path: str, out: Path, *lang: str
) -> tuple[bytes, str]:
    """The trace file's bytes and the command's stderr."""
    capsys.readouterr()
    assert main(["export", path, "--to", "perfetto", "-o", str(out), *lang]) == 0
    return out.read_bytes(), capsys.readouterr().err


def _said(trace: bytes) -> tuple[str, list[tuple[str, str, str]]]:
    """The trace's title and each bookmark's (key, name, caption)."""
    found: dict[str, Any] = json.loads(trace)
    marks = [e for e in found["traceEvents"] if e.get("cat") == K.MARK]
    return found["otherData"]["title"], [
        (m["args"]["key"], m["name"], m["args"]["caption"]) for m in marks
    ]


def _expected(lang: str) -> tuple[str, list[tuple[str, str, str]]]:
    """What the scenario says in ``lang``: the first side's title, and its bookmark."""
    side = SCENARIO.text(lang, "side0")
    title = (
        f"{side}：sim:io · WSGI threads（模拟）"
        if lang == "zh"
        else f"{side}: sim:io · WSGI threads (simulated)"
    )
    key = "queue"  # the first side's one bookmark: a request waits for a thread
    marks = [(key, SCENARIO.text(lang, key), SCENARIO.text(lang, f"{key}:caption"))]
    return title, marks


def test_a_chinese_recording_says_its_title_and_bookmarks_in_chinese(
    recorded: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``--lang``: the side's name with "：" and "（模拟）", not half English."""
    trace, err = _export(capsys, recorded["zh"], tmp_path / "zh.json")
    assert _said(trace) == _expected("zh")
    assert err.startswith("trace：")  # the command's own line is Chinese too


@pytest.mark.parametrize("made,asked", [("zh", "en"), ("en", "zh")])
def test_lang_says_a_recording_in_the_other_language(
    recorded: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    made: str,
    asked: str,
) -> None:
    """``--lang`` is taken, and the trace is that of the recording made in that language."""
    trace, err = _export(capsys, recorded[made], tmp_path / "asked.json", "--lang", asked)
    native, _ = _export(capsys, recorded[asked], tmp_path / "native.json")
    assert _said(trace) == _expected(asked)
    assert trace == native
    assert err.startswith("trace：" if asked == "zh" else "trace: wrote ")


def test_lang_with_a_target_that_writes_texts_as_recorded_is_refused(
    recorded: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OTLP JSON keeps a bookmark's label as recorded: ``--lang`` is refused in one line,
    naming the targets that take it."""
    capsys.readouterr()
    out = tmp_path / "spans.json"
    argv = ["export", recorded["zh"], "--to", "otlp-json", "-o", str(out), "--lang", "en"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        "trace: error: --lang is for --to html, svg or perfetto; --to otlp-json writes the "
        "texts as recorded.\n"
    )
    assert not out.exists()


def test_a_recording_no_demo_made_is_titled_in_lang_without_loading_the_demos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A simulation's own recording: "(simulated)" said in ``lang``, nothing else to say;
    the scenarios (and the server models they run) are never imported for it."""
    plain = tmp_path / "plain.jsonl"
    assert main(["sim", "-n", "3", "--record", str(plain)]) == 0
    trace, _ = _export(capsys, str(plain), tmp_path / "zh.json", "--lang", "zh")
    english, _ = _export(capsys, str(plain), tmp_path / "en.json")
    title = json.loads(trace)["otherData"]["title"]
    assert title.endswith("（模拟）") and "simulated" not in title
    assert json.loads(english)["otherData"]["title"] == title.replace("（模拟）", " (simulated)")
    code = (
        "import io, sys; from tracer.export import ExportOptions; "
        "from tracer.export.perfetto import export_perfetto; "
        "from tracer.export.stream import RecordingFile; "
        f"export_perfetto(RecordingFile({str(plain)!r}), "
        "ExportOptions(output='-', stdout=io.StringIO()), lang='zh'); "
        "assert 'tracer.demos' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
