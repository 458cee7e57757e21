"""The caption of a demo's recordings says what is shown: the scenario's "Top: ... Bottom: ..."
only for its sides in its order, else each recording's side, real or simulated, and what that
side shows, in the replay's language (``tracer.demos.language.caption_of``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from demo_cache import simulated

from tracer.cli import main
from tracer.cli.replay import in_language
from tracer.demos import LANGS, SCENARIOS, run_demo, save_demo
from tracer.demos.language import caption_of
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)

COMPARED = [("blocking-call", 1), ("cpu-gil", 1), ("sync-vs-async", 2)]
"""The comparisons of a real run's side with its simulation that were captioned as the whole
scenario (README's "real/ vs sim/")."""


@cache
def _folders(name: str, root: str) -> tuple[str, str]:
    """``trace demo NAME --record real/`` (the reduced real runs) and ``--sim --record sim/``."""
    real = save_demo(run_demo(SCENARIOS[name], quick=True), f"{root}/{name}/real")
    sim = save_demo(simulated(name), f"{root}/{name}/sim")
    return str(Path(real[0]).parent), str(Path(sim[0]).parent)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("captions"))


def _said(name: str, side: int, lang: str) -> tuple[str, str]:
    """A side's name and what it shows, in ``lang``."""
    texts = SCENARIOS[name].texts[lang]
    return texts[f"side{side - 1}"], texts.get(f"about{side - 1}", "")


def _svg_text(path: Path) -> str:
    return "".join(ET.fromstring(path.read_text(encoding="utf-8")).itertext()).replace("\xa0", " ")


@pytest.mark.parametrize(("name", "side"), COMPARED)
def test_a_real_side_beside_its_simulation_is_captioned_as_such(
    root: str, tmp_path: Path, name: str, side: int
) -> None:
    """``trace replay real/NAME-k.jsonl sim/NAME-k.jsonl --screenshot``: the caption names the
    side on top as real and below as simulated, then says what the side shows; the scenario's
    "Top: ... Bottom: ..." (of two different sides) is nowhere."""
    real, sim = _folders(name, root)
    files = [f"{real}/{name}-{side}.jsonl", f"{sim}/{name}-{side}.jsonl"]
    side_name, about = _said(name, side, "en")
    expected = f"Top: {side_name} (real).\nBottom: {side_name} (simulated).\n{about}"
    assert in_language([load(f) for f in files], "en")[1] == expected
    shot = tmp_path / "x.svg"
    assert main(["replay", *files, "--screenshot", str(shot)]) == 0
    text = _svg_text(shot)
    assert f"Top: {side_name} (real)." in text and f"Bottom: {side_name} (simulated)." in text
    assert SCENARIOS[name].caption("en")[:60] not in text


@pytest.mark.parametrize(("name", "side"), COMPARED)
def test_the_html_export_of_a_real_side_and_its_simulation_says_the_same(
    root: str, tmp_path: Path, name: str, side: int
) -> None:
    """``trace export real/NAME-k.jsonl sim/NAME-k.jsonl --to html``: the page's caption is the
    replay's, a line each."""
    real, sim = _folders(name, root)
    files = [f"{real}/{name}-{side}.jsonl", f"{sim}/{name}-{side}.jsonl"]
    page = tmp_path / "x.html"
    assert main(["export", *files, "--to", "html", "-o", str(page)]) == 0
    side_name, about = _said(name, side, "en")
    caption = f"Top: {side_name} (real).<br>\nBottom: {side_name} (simulated).<br>\n{about}"
    html = page.read_text(encoding="utf-8").replace("&#x27;", "'")
    assert f'<p class="caption">{caption}</p>' in html


def test_chinese_real_and_simulated_sides(root: str) -> None:
    """In Chinese: 上/下, 真实运行/模拟, the side's Chinese description."""
    real, sim = _folders("blocking-call", root)
    recordings = [load(f"{real}/blocking-call-1.jsonl"), load(f"{sim}/blocking-call-1.jsonl")]
    name, about = _said("blocking-call", 1, "zh")
    assert (
        caption_of(recordings, "zh") == f"上：{name}（真实运行）。\n下：{name}（模拟）。\n{about}"
    )


@pytest.mark.parametrize("lang", LANGS)
def test_the_sides_in_its_order_keep_the_scenarios_caption(lang: str) -> None:
    """Side 1 on top and side 2 below, as ``trace demo`` shows them: the scenario's caption."""
    for name in SCENARIOS:
        recordings = simulated(name).recordings
        assert caption_of(recordings, lang) == SCENARIOS[name].caption(lang), name


@pytest.mark.parametrize("lang", LANGS)
def test_swapped_sides_are_each_named_with_what_they_show(lang: str) -> None:
    """Side 2 on top of side 1: each position names its side and says what it shows."""
    one, two = simulated("sync-vs-async").recordings
    (name1, about1), (name2, about2) = (
        _said("sync-vs-async", 1, lang),
        _said("sync-vs-async", 2, lang),
    )
    if lang == "en":
        expected = f"Top: {name2} (simulated). {about2}\nBottom: {name1} (simulated). {about1}"
    else:
        expected = f"上：{name2}（模拟）。{about2}\n下：{name1}（模拟）。{about1}"
    assert caption_of([two, one], lang) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_one_side_alone_is_described_by_itself(lang: str) -> None:
    """One recording: its side's name, simulated, and what that side shows; never "Top:"."""
    for name in SCENARIOS:
        for side, recording in enumerate(simulated(name).recordings, 1):
            side_name, about = _said(name, side, lang)
            said = "（模拟）。" if lang == "zh" else " (simulated). "
            assert caption_of([recording], lang) == f"{side_name}{said}{about}", (name, side)


def test_sides_of_two_scenarios_are_each_described() -> None:
    """Side 1 of one scenario over side 2 of another: neither scenario's caption."""
    top = simulated("blocking-call").recordings[0]
    bottom = simulated("cpu-gil").recordings[1]
    (n1, a1), (n2, a2) = _said("blocking-call", 1, "en"), _said("cpu-gil", 2, "en")
    assert caption_of([top, bottom], "en") == (
        f"Top: {n1} (simulated). {a1}\nBottom: {n2} (simulated). {a2}"
    )


def test_a_plain_recording_beside_a_demos_side_is_named_by_its_title(tmp_path: Path) -> None:
    """A recording no demo made, below side 1 of a demo: not the scenario's "Bottom: ..."."""
    plain = tmp_path / "plain.jsonl"
    assert main(["sim", "-n", "3", "--record", str(plain)]) == 0
    other = load(str(plain))
    top = simulated("blocking-call").recordings[0]
    n1, a1 = _said("blocking-call", 1, "en")
    assert caption_of([top, other], "en") == (
        f"Top: {n1} (simulated). {a1}\nBottom: {other.title_in('en')}"
    )


def test_a_side_without_a_description_is_described_by_the_title(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Texts that say nothing of a side (an older scenario's): the scenario's title instead."""
    scenario = SCENARIOS["blocking-call"]
    texts = {lang: dict(scenario.texts[lang]) for lang in LANGS}
    for lang in LANGS:
        del texts[lang]["about0"]
    bare = replace(scenario, texts=texts)
    assert bare.about("en", 0) is None and bare.about("zh", 0) is None
    monkeypatch.setitem(SCENARIOS, "blocking-call", bare)
    recording = simulated("blocking-call").recordings[0]
    assert caption_of([recording], "zh") == (
        f"{scenario.text('zh', 'side0')}（模拟）。{scenario.title('zh')}"
    )


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_side_is_described_in_every_language(name: str) -> None:
    """``about0``/``about1``: what each side shows, in each language (Chinese really Chinese)."""
    scenario = SCENARIOS[name]
    for lang in LANGS:
        for side in range(len(scenario.sides)):
            about = scenario.about(lang, side)
            assert about, (lang, side)
            if lang == "zh":
                assert any("\u4e00" <= ch <= "\u9fff" for ch in about), side
            assert "Top" not in about and "Bottom" not in about and "上：" not in about


def test_simulated_http_sides_do_not_read_what_the_real_apps_never_read() -> None:
    """The real sides' sample apps never call ``receive()`` on an HTTP request: their
    simulations record no ``asgi.receive`` either (a websocket session still receives)."""
    from tracer import events as K
    from tracer.demos import run_demo

    for name in ("sync-vs-async", "blocking-call", "streaming", "websocket"):
        demo = run_demo(SCENARIOS[name], simulated=True, lang="en")
        for recording in demo.recordings:
            kinds = {
                (event.data.get("type"), event.kind)
                for event in recording.events
                if event.kind == K.ASGI_RECEIVE
            }
            assert ("http.request", K.ASGI_RECEIVE) not in kinds, name
    ws = run_demo(SCENARIOS["websocket"], simulated=True, lang="en")
    assert any(e.kind == K.ASGI_RECEIVE for r in ws.recordings for e in r.events)
