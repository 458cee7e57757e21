"""The detail pane's words: word order and punctuation per language, and why a starved
block did not run said from its data (another thread, or a busy machine)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Static

from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.model import build_model

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _starved(rec: Recording, descheduled_share: float | None) -> Recording:
    """``rec`` with its ``loop.blocked`` marked starved; ``descheduled_share``: the part of the
    block its thread waited on a run queue (``descheduled_ns``), None to leave it out."""
    events = []
    for e in rec.events:
        if e.kind == "loop.blocked":
            data = {**e.data, "starved": True, "others_busy": 0.9}
            if descheduled_share is not None:
                data["descheduled_ns"] = int((e.dur or 0) * descheduled_share)
            e = e._replace(data=data)
        events.append(e)
    return Recording(rec.header, events)


async def _pane(rec: Recording, lang: str, req: int) -> str:
    """The detail pane's text for request ``req``, opened with enter as a reader would."""
    app = ReplayApp([rec], lang=lang)
    async with app.run_test(size=(160, 40)) as pilot:
        screen: Any = app.screen
        screen.timeline.select(screen.timeline.lanes.index_of(req))
        await pilot.press("enter")
        await pilot.pause()
        return str(screen.query_one("#detail-body", Static).render())


def _block_and_victim(rec: Recording) -> tuple[int, int]:
    block = build_model(rec).blocked[0]
    return block.req, block.data["delayed"][0]


BUSY = {"en": "waiting for a CPU: the machine was busy", "zh": "在等待 CPU：机器正忙"}
THREADS = {"en": "waiting on other threads: the GIL or a lock", "zh": "在等待其他线程：GIL 或锁"}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_block_that_waited_for_a_cpu_says_the_machine_was_busy(
    loop_rec: Recording, lang: str
) -> None:
    """descheduled_ns over half the block: its victim reads "waiting for a CPU", not "the GIL
    or a lock"; its culprit that its thread waited for a CPU rather than ran."""
    rec = _starved(loop_rec, 0.8)
    culprit, victim = _block_and_victim(rec)
    text = await _pane(rec, lang, victim)
    assert BUSY[lang] in text and THREADS[lang] not in text, text
    own = await _pane(rec, lang, culprit)
    assert ("CPU" in own and "machine was busy" in own) if lang == "en" else "机器正忙" in own
    assert ("the GIL, or a lock" not in own) if lang == "en" else "GIL，或它们持有的锁" not in own


@pytest.mark.parametrize("share", [None, 0.3])
async def test_a_block_starved_by_other_threads_keeps_its_label(
    loop_rec: Recording, share: float | None
) -> None:
    """No descheduled_ns, or under half the block: still "waiting on other threads"."""
    rec = _starved(loop_rec, share)
    _, victim = _block_and_victim(rec)
    text = await _pane(rec, "en", victim)
    assert THREADS["en"] in text and BUSY["en"] not in text, text


async def test_chinese_detail_word_order_and_punctuation(loop_rec: Recording) -> None:
    """Chinese: "事件循环被 #3 占用" (not "事件循环被占用 #3"), full-width colons after the
    headings and a full-width semicolon between reasons; English unchanged."""
    culprit, victim = _block_and_victim(loop_rec)
    zh = await _pane(loop_rec, "zh", victim)
    assert f"事件循环被 #{culprit} 占用 " in zh and "事件循环被占用" not in zh, zh
    for heading in ("作用域：", "时间分布：", "延迟原因："):
        assert heading in zh, zh
    assert ": " not in zh.split("\n事件")[0].replace("µs", ""), zh  # no ASCII colon in the head
    assert "; " not in zh
    en = await _pane(loop_rec, "en", victim)
    assert f"loop held by #{culprit} " in en and "what delayed it: " in en, en


async def test_the_status_line_says_the_view_with_a_full_width_colon(loop_rec: Recording) -> None:
    """视图：按请求, and v: 视图：按工作线程 (every lane of that view is a thread)."""
    app = ReplayApp([loop_rec], lang="zh")
    async with app.run_test(size=(120, 30)) as pilot:
        status = app.screen.query_one("#status", Static)
        assert "视图：按请求" in str(status.render())
        await pilot.press("v")
        await pilot.pause()
        assert "视图：按工作线程" in str(status.render())


def test_a_worker_lane_says_at_the_cursor_in_full_width_brackets(loop_rec: Recording) -> None:
    """A worker's pane: "光标处（0）：" in Chinese, "at the cursor (0): " in English."""
    from tracer.tui.detail import detail_text
    from tracer.tui.labels import labels

    model = build_model(loop_rec)
    lane = model.by_worker[0]
    assert "\n光标处（0）：" in detail_text(model, lane, labels("zh"), 0).plain
    assert "\nat the cursor (0): " in detail_text(model, lane, labels("en"), 0).plain
