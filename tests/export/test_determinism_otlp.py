"""``--to otlp-json`` ids come from the header fields that identify the run, nothing else.

docs/export.md names them: ``source``, ``app``, ``interface``, ``server``, ``load``, ``clock``
and a demo side's ``demo.name``/``demo.side``. Who wrote the file (``host``, ``tool_version``,
``process``, ``writer``) and the language of its texts (``label``, ``demo.lang``, its caption
and title) leave the ids as they are; another clock anchor (another real run) changes them.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tracer.demos import SCENARIOS, run_demo
from tracer.export import ExportOptions
from tracer.export.otlp import export_otlp_json, recording_seed
from tracer.recording import Recording, make_header

pytestmark = pytest.mark.timeout(60)

DOC = Path(__file__).resolve().parents[2] / "docs" / "export.md"

RUN = make_header(
    source="traced",
    app="shop:app",
    interface="asgi",
    server={"model": "loop", "threads": 1, "workers": 1},
    load={"concurrency": 4, "requests": 20, "seed": None},
    monotonic_ns=71_828_712_826_516,
    unix_ns=1_795_805_128_956_070_950,
)


def _seed(header: dict) -> bytes:
    return recording_seed(Recording(header=header))


def test_who_wrote_the_file_does_not_change_the_ids() -> None:
    """The same run's header as written on another machine, by another release or process,
    finished or not: one seed."""
    others = [
        {**RUN, "host": {"python": "3.12.1", "platform": "darwin", "cpus": 1}},
        {k: v for k, v in RUN.items() if k != "host"},
        {**RUN, "tool_version": "9.9.9"},
        {**RUN, "process": {"pid": 4242, "ppid": 1}},
        {**RUN, "writer": "open"},
        {**RUN, "writer": "done"},
    ]
    assert {_seed(header) for header in others} == {_seed(RUN)}


def test_another_clock_anchor_another_run_changes_the_ids() -> None:
    """Two real runs of one command start at different instants: different seeds. So do a
    different load, server model or app."""
    changed = [
        {**RUN, "clock": {**RUN["clock"], "unix_ns": RUN["clock"]["unix_ns"] + 1}},
        {**RUN, "clock": {**RUN["clock"], "monotonic_ns": RUN["clock"]["monotonic_ns"] + 1}},
        {**RUN, "load": {**RUN["load"], "seed": 7}},
        {**RUN, "server": {**RUN["server"], "model": "threads"}},
        {**RUN, "app": "shop:other"},
        {**RUN, "source": "simulated"},
    ]
    seeds = {_seed(header) for header in changed}
    assert len(seeds) == len(changed) and _seed(RUN) not in seeds


def test_a_demo_side_is_told_apart_by_scenario_and_side_not_language() -> None:
    demo = {"name": "cpu-gil", "side": 1, "lang": "en", "caption": "c", "title": "t"}
    side = {**RUN, "demo": demo, "label": "4 threads"}
    zh = {**side, "demo": {**demo, "lang": "zh", "caption": "说明", "title": "标题"}}
    assert _seed({**zh, "label": "4 个线程"}) == _seed(side)
    assert _seed({**side, "demo": {**demo, "side": 2}}) != _seed(side)
    assert _seed({**side, "demo": {**demo, "name": "sync-vs-async"}}) != _seed(side)


def _ids(recording: Recording) -> list[str]:
    """Every trace, span and instance id of ``recording``'s ``otlp-json`` export, in order."""
    out = io.StringIO()
    export_otlp_json(recording, ExportOptions(output="-", stdout=out))
    text = out.getvalue()
    assert text
    ids = re.findall(r'"(?:traceId|spanId|parentSpanId)":"([0-9a-f]*)"', text)
    for line in text.splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for attribute in resource["resource"]["attributes"]:
                if attribute["key"] == "service.instance.id":
                    ids.append(attribute["value"]["stringValue"])
    return ids


def test_the_english_and_chinese_recordings_of_a_simulated_demo_share_their_ids() -> None:
    """``trace demo cpu-gil --sim`` in en and in zh: the same events, so the same ids; its two
    sides have ids of their own."""
    en = run_demo(SCENARIOS["cpu-gil"], simulated=True, lang="en").recordings
    zh = run_demo(SCENARIOS["cpu-gil"], simulated=True, lang="zh").recordings
    assert en[0].header["demo"]["lang"] == "en" and zh[0].header["demo"]["lang"] == "zh"
    for side in (0, 1):
        assert _ids(en[side]) == _ids(zh[side])
    assert not set(_ids(en[0])) & set(_ids(en[1]))


def test_the_document_names_the_hashed_fields() -> None:
    """docs/export.md's otlp-json paragraph names each field the ids are derived from."""
    from tracer.export.otlp import DEMO_FIELDS, RUN_FIELDS

    text = " ".join(DOC.read_text(encoding="utf-8").split())
    start = text.index("`--to otlp-json` is reproducible")
    paragraph = text[start : text.index("Spans sent to a collector", start)]
    for name in (*RUN_FIELDS, *(f"demo.{field}" for field in DEMO_FIELDS)):
        assert f"`{name}`" in paragraph, name
