"""A demo's recording said in the replay's language, whatever language it was recorded in.

``trace demo NAME --record DIR`` writes the scenario's texts (side name, caption, bookmark
labels and captions) in the language of that run, and names the scenario and side in the
header (``demo.name``, ``demo.side``) and each bookmark by its ``key``. ``in_language`` gives
a copy of such a recording with those texts taken from the scenario again, in the language
asked for; ``caption_of`` gives the caption pane's text for the recordings of a replay. Texts
no known scenario wrote (a user's own marks, a scenario this version does not have) keep what
was recorded. Imports the scenarios (so ``tracer.run`` and ``sim``); never the UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracer import events as K
from tracer.demos import SCENARIOS
from tracer.demos.scenario import Scenario
from tracer.events import Event
from tracer.recording import Recording

__all__ = ["caption_of", "demo_of", "in_language"]


def demo_of(recording: Recording) -> tuple[Scenario, int | None] | None:
    """The scenario that made ``recording`` and the index of its side (None when the header
    does not say which, or says one the scenario does not have); None for a recording no
    known scenario made."""
    demo = recording.header.get("demo")
    name = demo.get("name") if isinstance(demo, dict) else None
    scenario = SCENARIOS.get(name) if isinstance(name, str) else None
    if scenario is None:
        return None
    side = demo.get("side") if isinstance(demo, dict) else None
    # The header counts sides from 1 (NAME-1.jsonl); a bool is an int too, and no side.
    if isinstance(side, int) and not isinstance(side, bool) and 1 <= side <= len(scenario.sides):
        return scenario, side - 1
    return scenario, None


def in_language(recording: Recording, lang: str) -> Recording:
    """``recording`` with its scenario's texts in ``lang``: the side's name (the header's
    ``label``, which titles it), the header's ``demo`` caption and title, and the label and
    caption of every bookmark whose ``key`` is one of the scenario's. Returned unchanged when
    no known scenario made it; the events themselves are shared, only marks are remade."""
    found = demo_of(recording)
    if found is None:
        return recording
    scenario, side = found
    header = dict(recording.header)
    header["demo"] = {
        **header["demo"],
        "lang": lang,
        "caption": scenario.caption(lang),
        "title": scenario.title(lang),
    }
    if side is not None:
        header["label"] = scenario.text(lang, f"side{side}")
    events = [
        _mark_in(event, scenario, lang) if event.kind == K.MARK else event
        for event in recording.events
    ]
    return Recording(
        header=header, events=events, truncated=recording.truncated, path=recording.path
    )


def caption_of(recordings: Sequence[Recording], lang: str) -> str:
    """The caption pane's text for a replay of ``recordings``: each scenario's caption in
    ``lang`` (a recording of a scenario this version does not know: the caption it recorded),
    once per scenario, in the order the recordings are shown; empty when none is a demo's."""
    captions: list[str] = []
    for recording in recordings:
        found = demo_of(recording)
        if found is not None:
            caption = found[0].caption(lang)
        else:
            demo = recording.header.get("demo")
            recorded = demo.get("caption") if isinstance(demo, dict) else None
            caption = recorded if isinstance(recorded, str) else ""
        if caption and caption not in captions:
            captions.append(caption)
    return "\n".join(captions)


def _mark_in(event: Event, scenario: Scenario, lang: str) -> Event:
    """A bookmark of the scenario's (its ``key`` names one) with its texts in ``lang``; any
    other mark as recorded."""
    data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
    key = data.get("key")
    # A bookmark key has a label and a caption; "title", "caption", "side0"... have no caption.
    if not isinstance(key, str) or f"{key}:caption" not in scenario.texts["en"]:
        return event
    texts = {
        "label": scenario.text(lang, key),
        "caption": scenario.text(lang, f"{key}:caption"),
    }
    return event._replace(data={**data, **texts})
