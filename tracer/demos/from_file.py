"""A teacher's own demonstration: ``trace demo --scenario FILE`` reads a ``Scenario`` from TOML.

The file gives a title and a caption (in English, and in Chinese under ``[zh]``) and one or two
``[[side]]`` tables (``tracer.demos.file_sides``): each a simulation, deterministic, and
optionally a real app. Bookmarks are found in the recordings as the built-in scenarios find
theirs: on each side, the first request that waited to be served (``queue``) and the first
time the event loop was blocked (``blocked``); a side showing neither gets the moment the most
requests were in flight (``overlap``), each said in the tool's words or in the file's own
(``[bookmarks.<key>]``, ``tracer.demos.file_bookmarks``). The figures are each side's peak in flight, median
latency and, on a loop, its blocked steps. A file states no expected shape, so none is
checked. Imports ``tracer.demos``' builders and shapes, and ``sim`` through the sides.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from tracer.demos.build import moment
from tracer.demos.file_bookmarks import BOOKMARKS, read_bookmarks
from tracer.demos.file_sides import read_side, text_value
from tracer.demos.scenario import Moment, Runs, Scenario, Side
from tracer.demos.shapes import blocked, first_wait, in_flight_peak, latency_ms, peak_moment
from tracer.errors import UsageError
from tracer.recording import Recording
from tracer.toml_file import read_toml

__all__ = ["load_scenario", "speaks", "BOOKMARKS", "TOP_KEYS"]

TOP_KEYS = ("name", "title", "caption", "zh", "bookmarks", "side")
"""The top-level keys of a scenario file, in the order messages list them."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A scenario's name: it names the recordings (``NAME-1.jsonl``), so a file name's characters."""


def speaks(scenario: Scenario, lang: str) -> bool:
    """Whether ``scenario`` has its own title and caption in ``lang`` (else English is shown)."""
    return "title" in scenario.texts.get(lang, {})


def load_scenario(path: str) -> Scenario:
    """The scenario of the TOML file ``path``; ``UsageError`` (one line) naming the file and
    the key, or the line and column, when it is not one."""
    data = read_toml(path, noun="Scenario", give="give the path of a scenario TOML file")
    where = f'scenario "{path}"'
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise UsageError(
            f"{where}: unknown top-level key {unknown[0]!r}; expected name, title, caption, "
            "[zh], [bookmarks.<key>], [[side]]."
        )
    name = _name(data, where, path)
    en = _head(data, where)
    zh = _zh(data, where)
    sides_data = data.get("side")
    if isinstance(sides_data, dict):
        raise UsageError(f"{where}: side is a single table; write each as [[side]] (two brackets).")
    if not isinstance(sides_data, list) or not 1 <= len(sides_data) <= 2:
        count = len(sides_data) if isinstance(sides_data, list) else 0
        raise UsageError(
            f"{where}: a scenario shows one or two sides, not {count}; give one or two [[side]] "
            "tables."
        )
    folder = os.path.dirname(os.path.abspath(path))
    sides = []
    # The bookmarks are said in every language (the file's words, else the tool's); the
    # file's title and caption fall back to English where it gives none (``Scenario.text``).
    marks = read_bookmarks(data, where)
    texts = {lang: {**marks[lang], **head} for lang, head in (("en", en), ("zh", zh or {}))}
    for index, table in enumerate(sides_data):
        side = read_side(table, f"{where}, side {index + 1}", folder, name)
        for lang, said in side.texts.items():
            texts[lang][f"side{index}"] = said["name"]
            if "about" in said:
                texts[lang][f"about{index}"] = said["about"]
        sides.append(Side(partial(_given, side.runs)))
    return Scenario(
        name=name,
        texts=texts,
        sides=tuple(sides),
        marks=_marks,
        check=lambda recs: [],
        figures=_figures(tuple(s.sim.model for s in sides)),
        source=path,
    )


def _given(runs: Runs) -> Runs:
    """A side's runs, made already (a file is checked whole before anything runs)."""
    return runs


def _name(data: dict[str, Any], where: str, path: str) -> str:
    """The ``name`` key, or the file's name without ``.toml``: it names the recordings."""
    if "name" not in data:
        stem = os.path.splitext(os.path.basename(path))[0]
        if _NAME.fullmatch(stem):
            return stem
        raise UsageError(
            f'{where}: the file name "{stem}" cannot name its recordings; add name = "lesson" '
            "(letters, digits, '.', '_', '-')."
        )
    name = data["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UsageError(
            f"{where}: name must be 1 to 64 letters, digits, '.', '_' or '-' (it names the "
            f"recordings, NAME-1.jsonl), starting with a letter or digit, not {name!r}."
        )
    return name


def _head(data: dict[str, Any], where: str) -> dict[str, str]:
    """The English title and caption (both required)."""
    for key in ("title", "caption"):
        if key not in data:
            raise UsageError(f'{where}: missing key "{key}"; add {key} = "..." at the top.')
    title = text_value(data, "title", where, line=True)
    caption = text_value(data, "caption", where, line=False)
    assert title is not None and caption is not None  # present: checked above
    return {"title": title, "caption": caption}


def _zh(data: dict[str, Any], where: str) -> dict[str, str] | None:
    """The ``[zh]`` title and caption, or None when the file has no Chinese."""
    if "zh" not in data:
        return None
    zh = data["zh"]
    if not isinstance(zh, dict):
        raise UsageError(f'{where}: zh must be a table: [zh] with title = "..." and caption.')
    wrong = sorted(set(zh) - {"title", "caption"})
    if wrong:
        raise UsageError(
            f"{where}, [zh]: unknown key {wrong[0]!r}; expected title, caption (a side's "
            "Chinese name goes in its own zh table)."
        )
    return _head(zh, f"{where}, [zh]")


def _marks(recs: Sequence[Recording]) -> list[Moment]:
    """Per side: the first wait and the first blocked loop; else the peak of requests."""
    found: list[Moment] = []
    for index, recording in enumerate(recs):
        waited = first_wait(recording)
        stalls = blocked(recording)
        found += moment(index, waited, "queue")
        if stalls:
            stall = stalls[0]
            found += moment(index, (stall.req, stall.t) if stall.req else stall.t, "blocked")
        if waited is None and not stalls:
            found += moment(index, peak_moment(recording), "overlap")
    return found


def _figures(models: tuple[str, ...]) -> Any:
    """The figures of a file's sides: ``sideN_max_in_flight``, ``sideN_p50_ms`` and, for a
    loop, ``sideN_loop_blocked``."""

    def figures(recs: Sequence[Recording]) -> dict[str, float]:
        found: dict[str, float] = {}
        for number, (recording, model) in enumerate(zip(recs, models, strict=True), 1):
            found[f"side{number}_max_in_flight"] = in_flight_peak(recording)
            found[f"side{number}_p50_ms"] = latency_ms(recording)
            if model == "loop":
                found[f"side{number}_loop_blocked"] = len(blocked(recording))
        return found

    return figures
