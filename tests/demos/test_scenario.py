"""Every scenario speaks both languages fully: title, caption, side names, bookmark texts."""

from __future__ import annotations

import pytest
from demo_cache import simulated

from tracer.demos import LANGS, SCENARIOS
from tracer.demos.scenario import Runs, Scenario, Side


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_texts_are_complete_in_every_language(name: str) -> None:
    """The same keys in en and zh; one side name per side; Chinese text really is Chinese."""
    scenario = SCENARIOS[name]
    keys = set(scenario.texts["en"])
    assert {"title", "caption"} | {f"side{i}" for i in range(len(scenario.sides))} <= keys
    for lang in LANGS:
        assert set(scenario.texts[lang]) == keys, lang
    for key in ("title", "caption"):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in scenario.texts["zh"][key]), key


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n != "c10k"])
def test_every_bookmark_found_has_a_label_and_caption(name: str) -> None:
    """Each key ``marks`` returns is translated, with a caption, in both languages."""
    scenario = SCENARIOS[name]
    found = scenario.marks(simulated(name).recordings)
    assert found
    for _, _, key, _ in found:
        for lang in LANGS:
            assert scenario.texts[lang].get(key) and scenario.texts[lang].get(f"{key}:caption")


def test_text_falls_back_to_english_then_to_the_key() -> None:
    """A missing translation shows the English text; a missing key shows itself."""
    scenario = Scenario(
        name="x",
        texts={"en": {"title": "T"}, "zh": {}},
        sides=(Side(lambda: Runs(sim=SCENARIOS["c10k"].sides[1].sim)),),
        marks=lambda recs: [],
        check=lambda recs: [],
        figures=lambda recs: {},
    )
    assert scenario.title("zh") == "T" and scenario.text("zh", "nope") == "nope"
    assert scenario.simulated_only
    assert scenario.sides[0].config(quick=True) is None


def test_quick_runs_keep_the_shape_of_the_full_ones() -> None:
    """A reduced run uses the same app and server model as the full one, with fewer requests."""
    for scenario in SCENARIOS.values():
        for side in scenario.sides:
            if side.real is None:
                continue
            quick = side.config(quick=True)
            assert quick is not None and quick.app == side.real.app
            assert quick.server == side.real.server
            assert (quick.requests or 0) <= (side.real.requests or 0)


@pytest.mark.parametrize("lang", LANGS)
def test_no_caption_names_the_colour_of_queued_requests(lang: str) -> None:
    """The figures draw queued requests grey, the terminal UI amber: no text may say either."""
    for scenario in SCENARIOS.values():
        for key, text in scenario.texts[lang].items():
            for colour in ("grey", "gray", "amber", "yellow", "灰", "琥珀", "黄"):
                assert colour not in text.lower(), (scenario.name, key, colour)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_real_run_is_the_simulated_scenario(name: str) -> None:
    """A side that runs for real sends what its simulation sends: the same clients, requests
    and server sizes, so --sim and a real run show one scenario (cpu-gil ran 16 requests for
    real and 40 simulated)."""
    for side in SCENARIOS[name].sides:
        real, sim = side.real, side.sim
        if real is None:
            continue
        assert (real.server, real.concurrency, real.requests) == (
            sim.model,
            sim.concurrency,
            sim.requests,
        )
        assert real.threads in (None, sim.threads) and real.workers in (None, sim.workers)
