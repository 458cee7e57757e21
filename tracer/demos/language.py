"""A demo's recording said in the replay's language, whatever language it was recorded in.

``trace demo NAME --record DIR`` writes the scenario's texts (side name, caption, bookmark
labels and captions) in the language of that run, and names the scenario and side in the
header (``demo.name``, ``demo.side``) and each bookmark by its ``key``. ``in_language`` gives
a copy of such a recording with those texts taken from the scenario again, in the language
asked for; ``caption_of`` gives the caption pane's text for the recordings of a replay (or of
an exported page): the scenario's caption only for its sides in its order, else what each
recording shown is. Texts no known scenario wrote (a user's own marks, a scenario this
version does not have, one read from a scenario file) keep what was recorded. Imports the scenarios (so ``tracer.run`` and
``sim``); never the UI or the exporters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracer import events as K
from tracer.demos import SCENARIOS
from tracer.demos.scenario import Scenario
from tracer.events import Event
from tracer.recording import Recording

__all__ = ["caption_of", "demo_of", "in_language", "WORDS"]


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "top": "Top: ",
        "bottom": "Bottom: ",
        "nth": "{}: ",
        "real": " (real)",
        "simulated": " (simulated)",
        "stop": ".",
        "space": " ",
    },
    "zh": {
        "top": "上：",
        "bottom": "下：",
        "nth": "{}：",
        "real": "（真实运行）",
        "simulated": "（模拟）",
        "stop": "。",
        "space": "",
    },
}
"""Language -> the words ``caption_of`` puts around side names when it says what each
recording is (the scenario's own captions say "Top:"/"上：" the same way)."""


def demo_of(recording: Recording) -> tuple[Scenario, int | None] | None:
    """The scenario that made ``recording`` and the index of its side (None when the header
    does not say which, or says one the scenario does not have); None for a recording no
    known scenario made."""
    demo = recording.header.get("demo")
    name = demo.get("name") if isinstance(demo, dict) else None
    # A scenario file's recording (``file``) is no built-in's, even of the same name.
    if isinstance(demo, dict) and "file" in demo:
        return None
    scenario = SCENARIOS.get(name) if isinstance(name, str) else None
    if scenario is None:
        return None
    # The header counts sides from 1 (NAME-1.jsonl).
    side = _side_number(demo) if isinstance(demo, dict) else None
    if side is not None and side <= len(scenario.sides):
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
    """The caption pane's text for a replay of ``recordings``, in ``lang``: true of what is
    shown. Empty when none is a demo's recording.

    The scenario's caption ("Top: ... Bottom: ...") only when the recordings are exactly its
    sides in its order (side 1 on top); a scenario this version does not know: the caption it
    recorded, for its sides 1, 2... in order. Any other choice (one side alone, the real run
    of a side beside its simulation, the sides swapped, two scenarios) says what each one is:
    its side's name, real or simulated, and what that side shows (said once when both show
    the same side), or the scenario's title where the texts say nothing of the side.
    """
    shown = [_shown(recording, lang) for recording in recordings]
    if all(s is None for s in shown):
        return ""
    whole = _whole_scenario(recordings, lang)
    if whole is not None:
        return whole
    words = WORDS.get(lang, WORDS["en"])
    if len(recordings) == 1:
        places = [""]
    elif len(recordings) == 2:
        places = [words["top"], words["bottom"]]
    else:
        places = [words["nth"].format(i) for i in range(1, len(recordings) + 1)]
    sides = {s.side for s in shown if s is not None}
    # One side twice (a real run and its simulation, or two runs): what it shows, said once.
    once = len(recordings) > 1 and None not in shown and len(sides) == 1
    lines = []
    for place, recording, said in zip(places, recordings, shown, strict=True):
        if said is None:  # a plain recording beside a demo's: its title says what it is
            lines.append(f"{place}{recording.title_in(lang)}")
            continue
        source = words["simulated" if recording.header.get("source") == "simulated" else "real"]
        line = f"{place}{said.name}{source}{words['stop']}"
        if said.about and not once:
            line += f"{words['space']}{said.about}"
        lines.append(line)
    if once and shown[0] is not None and shown[0].about:
        lines.append(shown[0].about)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Side:
    """A demo's recording as a caption names it."""

    side: tuple[str, int | None]
    """The scenario's name and the side (from 1; None when the header does not say)."""
    name: str
    """The side's name (or the scenario's title when the side is not known)."""
    about: str
    """What the side shows (or the scenario's title when its texts do not say); may be empty."""


def _shown(recording: Recording, lang: str) -> _Side | None:
    """How ``caption_of`` names ``recording`` in ``lang``; None for no demo's recording."""
    demo = recording.header.get("demo")
    if not isinstance(demo, dict):
        return None
    found = demo_of(recording)
    recorded_label = recording.header.get("label")
    if found is None:
        # A scenario this version does not have: what its recording says of itself.
        name = str(demo.get("name") or "")
        recorded_title = demo.get("title")
        title = recorded_title if isinstance(recorded_title, str) else ""
        label = recorded_label if isinstance(recorded_label, str) and recorded_label else title
        about = title if title != label else ""
        return _Side((name, _side_number(demo)), label or name, about)
    scenario, index = found
    title = scenario.title(lang)
    if index is None:
        return _Side((scenario.name, None), title, "")
    about = scenario.about(lang, index) or title
    return _Side((scenario.name, index + 1), scenario.text(lang, f"side{index}"), about)


def _whole_scenario(recordings: Sequence[Recording], lang: str) -> str | None:
    """The scenario's caption when ``recordings`` are its sides 1, 2... in order (a scenario
    this version does not know: its recorded caption, for two sides or more); else None."""
    demos: list[dict[str, Any]] = [
        demo for r in recordings if isinstance(demo := r.header.get("demo"), dict)
    ]
    if len(demos) != len(recordings):
        return None
    names = {demo.get("name") for demo in demos}
    numbers = [_side_number(demo) for demo in demos]
    if len(names) != 1 or numbers != list(range(1, len(recordings) + 1)):
        return None
    found = demo_of(recordings[0])
    if found is not None:
        return found[0].caption(lang) if len(recordings) == len(found[0].sides) else None
    caption = demos[0].get("caption")
    # Its number of sides is not known: one side alone may be half of a compare.
    return caption if isinstance(caption, str) and len(recordings) > 1 else None


def _side_number(demo: dict[str, Any]) -> int | None:
    """The header's side (from 1), None when it names none (a bool is an int too, and no side)."""
    side = demo.get("side")
    return side if isinstance(side, int) and not isinstance(side, bool) and side >= 1 else None


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
