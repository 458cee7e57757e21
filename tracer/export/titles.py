"""What the slide exports call their recordings, and in which language they say it.

A figure's and a page's headings (``figure_title``, ``figure_titles``: two recordings that read
the same told apart), a demo's title, and a demo's recordings said as the replay says them in
a language (``said_in``). Shared by ``tracer.export.svg`` and ``tracer.export.html``. Imports
the spine and ``tracer.export`` helpers; ``tracer.demos`` only for a demo's recording.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from tracer.errors import UsageError
from tracer.export.drawing import shown
from tracer.export.legend import LEGENDS
from tracer.recording import Recording

__all__ = [
    "against",
    "demo_title",
    "figure_title",
    "figure_titles",
    "recording_lang",
    "said_in",
    "FULL_WIDTH",
]


FULL_WIDTH = "，；：（）。、！？"
"""Full-width punctuation: Chinese text has no space before or after it."""

_SPACED = re.compile(rf"[ \u00a0]*([{FULL_WIDTH}])[ \u00a0]*")

AGAINST: dict[str, str] = {"en": " vs ", "zh": " 对比 "}
"""Language -> what joins the recordings' titles in a compare's heading."""


def against(titles: Sequence[str], lang: str = "en") -> str:
    """A compare's heading: the recordings' titles joined (``AGAINST``); in Chinese with no
    space beside full-width punctuation ("（模拟）对比 ASGI", not "（模拟） 对比 ASGI")."""
    joined = AGAINST.get(lang, AGAINST["en"]).join(titles)
    return _SPACED.sub(r"\1", joined) if lang == "zh" else joined


def demo_title(recording: Recording) -> str | None:
    """The title of the demo scenario that made ``recording`` (None for other recordings);
    recordings saved before demos stored it fall back to the command that made them. Read
    from the file: as shown (``shown``)."""
    demo = recording.header.get("demo")
    if isinstance(demo, dict) and demo.get("name"):
        return shown(demo.get("title") or f"trace demo {demo['name']}")
    return None


def figure_title(recording: Recording, lang: str = "en") -> str:
    """The recording's title with "(simulated)" said in ``lang``, as shown: its label, app and
    server model come from the file, and a control character in them would make the SVG no
    well-formed XML (``html.escape`` leaves it) or drive a terminal, a long one a huge
    figure (``shown``)."""
    return shown(recording.title_in(lang))


def figure_titles(recordings: Sequence[Recording], lang: str = "en") -> list[str]:
    """Each recording's ``figure_title``, told apart when two read the same (two runs of one
    app on one server, before and after a change): then by file name, ``title (a.jsonl)``;
    by path when the names match too; by number when even those do (one file twice). A file
    name is shown as titles are (``shown``): ``a\x1b[31m.jsonl``."""
    titles = [figure_title(r, lang) for r in recordings]
    if len(set(titles)) == len(titles):
        return titles
    names = [os.path.basename(r.path) if r.path else "" for r in recordings]
    if len(set(names)) < len(names):
        names = [r.path or "" for r in recordings]
    if len(set(names)) < len(names) or not all(names):
        names = [f"{i}" + (f": {name}" if name else "") for i, name in enumerate(names, 1)]
    return [
        f"{title} ({shown(name)})" if titles.count(title) > 1 else title
        for title, name in zip(titles, names, strict=True)
    ]


def recording_lang(recording: Recording) -> str:
    """The language a demo recording was made in (``en`` otherwise)."""
    demo = recording.header.get("demo")
    lang = demo.get("lang") if isinstance(demo, dict) else None
    return lang if lang in LEGENDS else "en"


def said_in(
    recordings: Sequence[Recording], lang: str | None = None
) -> tuple[list[Recording], str, str]:
    """The recordings as the replay shows them in ``lang`` (None: the language the first was
    recorded in): a demo's side names and bookmarks said in it (``tracer.demos.language``),
    the caption that is true of them (``caption_of``: empty when no demo made them) and the
    language. ``UsageError`` for a language there are no texts in.

    The scenarios (and the server models they run) are imported only for a demo's recording,
    as the replay does: other exports never load them.
    """
    if lang is None:
        lang = recording_lang(recordings[0]) if recordings else "en"
    elif lang not in LEGENDS:
        raise UsageError(f'Unknown language "{lang}"; choose one of: {", ".join(LEGENDS)}.')
    if not any(isinstance(recording.header.get("demo"), dict) for recording in recordings):
        return list(recordings), "", lang
    from tracer.demos.language import caption_of, in_language

    return [in_language(r, lang) for r in recordings], caption_of(recordings, lang), lang
