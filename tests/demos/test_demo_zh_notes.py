"""``trace demo --lang zh``: the loader's note on a real side is said in Chinese too.

A scenario side whose app instruments itself (``app = tracer.instrument(...)``) gets the
loader's "already instrumented" note on stderr; under ``--lang zh`` it is said with the demo's
own Chinese words (``trace：注意：``), in English otherwise. The ASGI 2 hints that share the
line have their Chinese too; ``trace run`` and every other caller stay English.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main
from tracer.loading import load_app
from tracer.servers.job import notes_language, say_load_hint

pytestmark = pytest.mark.timeout(60)

SELF_INSTRUMENTED = """import tracer


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


app = tracer.instrument(_app)
"""


def _scenario(folder: Path, module: str) -> Path:
    """A one-side scenario file whose real side serves ``module:app`` (instrumented by itself)."""
    (folder / f"{module}.py").write_text(SELF_INSTRUMENTED, encoding="utf-8")
    lesson = folder / "inst.toml"
    lesson.write_text(
        f"""title = "Instrumented"
caption = "Top: an app that instruments itself."
[zh]
title = "已插桩"
caption = "上：一个自己插桩的应用。"
[[side]]
name = "threads"
zh = {{ name = "线程" }}
model = "threads"
threads = 2
concurrency = 2
requests = 4
app = "{module}:app"
workload = "blocking"
""",
        encoding="utf-8",
    )
    return lesson


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if "tracer.instrument" in line]


def test_a_chinese_demo_says_the_instrumented_note_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The note is one line in the demo's Chinese words, and no stderr line is English."""
    lesson = _scenario(tmp_path, "selfinst_zh_note")
    assert main(["demo", "--scenario", str(lesson), "--lang", "zh", "--headless"]) == 0
    err = capsys.readouterr().err
    assert _notes(err) == [
        'trace：注意：APP "selfinst_zh_note:app" 已经被插桩（tracer.instrument）；'
        "改为运行它所包装的应用，因此它自己的记录器不会记录这些请求。"
    ]
    assert [line for line in err.splitlines() if line.startswith("trace: ")] == []
    assert notes_language() == "en"  # the demo's language ends with the demo


def test_an_english_demo_says_the_instrumented_note_in_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = _scenario(tmp_path, "selfinst_en_note")
    assert main(["demo", "--scenario", str(lesson), "--headless"]) == 0
    assert _notes(capsys.readouterr().err) == [
        'trace: note: APP "selfinst_en_note:app" is already instrumented (tracer.instrument); '
        "the app it wraps is run instead, so its own recorder records none of these requests."
    ]


ASGI2_APPS = """class Instances:
    async def __call__(self, scope, receive, send):
        pass


def view(request):
    pass
"""


def test_the_asgi2_hints_have_their_chinese(tmp_path: Path) -> None:
    """Both ASGI 2 hints: the English is ``LoadedApp.hint``, the Chinese ``hint_in("zh")``."""
    (tmp_path / "asgi2_zh_hints.py").write_text(ASGI2_APPS, encoding="utf-8")
    cls = load_app("asgi2_zh_hints:Instances", app_dir=str(tmp_path))
    view = load_app("asgi2_zh_hints:view", app_dir=str(tmp_path))
    assert cls.hint is not None and cls.hint.startswith('APP "asgi2_zh_hints:Instances" is a')
    assert cls.hint_in("en") == cls.hint
    assert cls.hint_in("zh") == (
        'APP "asgi2_zh_hints:Instances" 是一个类，它的实例才是 ASGI 应用；它被当作 ASGI 2 '
        "应用运行，每个请求都以该请求的 scope 调用它。请让 APP 指向一个实例（应用对象），"
        "或指向一个创建它的无参数函数并加上 --factory。"
    )
    assert view.hint_in("zh") == (
        'APP "asgi2_zh_hints:view" 被当作 ASGI 2 应用运行，每个请求的 scope 作为它的 '
        '"request" 参数传入。如果它不是应用本身（而是视图、类或创建应用的函数），请让 APP '
        "指向应用，或指向一个返回应用的无参数函数并加上 --factory。"
    )


def test_the_note_keeps_english_outside_a_chinese_demo(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``say_load_hint`` says the English line by default (``trace run``, real servers)."""
    say_load_hint("x")
    say_load_hint("y", "zh")
    say_load_hint(None, "zh")
    assert capsys.readouterr().err.splitlines() == ["trace: note: x", "trace：注意：y"]
