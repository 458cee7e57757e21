"""The replay's detail pane writes their figures by ``tracer.figures``' rules,
as the report, the summary panel and the exported page do: a time of unknown size in its
largest unit (``600.0 µs``, ``12.3 ms``, ``1.23 s``), a share as a whole percent, a count
grouped. Read through the real app (its pilot), in English and in Chinese."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.app import ReplayApp
from tracer.tui.detail import DetailPane, detail_text
from tracer.tui.labels import labels
from tracer.tui.model import build_model
from tracer.tui.screen import ReplayScreen

from .pilot_helpers import until

pytestmark = [pytest.mark.anyio]

MS = 1_000_000


def _one_request() -> Recording:
    """One ASGI request of every size of time: queued 600 µs, a 12.34 ms step that blocks the
    loop (half of it on CPU), a 350 ns receive, its body sent from 1.2 s for 34.5 ms (latency
    1.2345 s), and the app runs on until 2.5 s (its last step 60 µs)."""
    start = {"method": "GET", "path": "/f", "interface": "asgi", "scope_type": "http"}
    body = {"type": "http.response.body", "bytes": 2, "more_body": False}
    loop = {"tid": 7, "thread": "loop"}
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/f"}),
        Event(1, 600_000, K.REQUEST_START, 1, **loop, data=start),
        Event(2, 600_000, K.SCHED_STEP, 1, **loop, dur=12_340_000, data={"cpu_ns": 6_170_000}),
        Event(3, 600_000, K.LOOP_BLOCKED, 1, **loop, dur=12_340_000, data={"delayed": []}),
        Event(4, 700_000, K.ASGI_RECEIVE, 1, dur=350, data={"type": "http.request"}),
        Event(5, 1_000 * MS, K.ASGI_SEND, 1, data={"type": "http.response.start", "status": 200}),
        Event(6, 1_200 * MS, K.ASGI_SEND, 1, dur=34_500_000, data=body),
        Event(7, 2_500 * MS - 60_000, K.SCHED_STEP, 1, **loop, dur=60_000, data={}),
        Event(8, 2_500 * MS, K.REQUEST_END, 1, data={"status": 200}),
    ]
    return Recording(make_header(interface="asgi", server={"model": "loop"}), events)


HEAD = {
    "en": "#1 GET /f  → 200  latency 1.23 s  app ran on until +2.5 s",
    "zh": "#1 GET /f  → 200  延迟 1.23 s  响应后应用仍运行至 +2.5 s",
}
PHASES = {
    "en": "time spent: queued 600.0 µs  running 0  blocked loop 12.3 ms  sending 34.5 ms  "
    "waiting (I/O, a lock or the GIL; awaits) 1.19 s  on CPU 50%",
    "zh": "时间分布：排队 600.0 µs  运行 0  事件循环被阻塞 12.3 ms  发送 34.5 ms  "
    "等待（I/O、锁或 GIL，await 挂起） 1.19 s  CPU 占比 50%",
}
DELAYED = {
    "en": "what delayed it: waited for the loop 600.0 µs; blocked the loop for 12.3 ms",
    "zh": "延迟原因：等待事件循环 600.0 µs；阻塞事件循环 12.3 ms",
}
ROWS = [
    # time from arrival, kind, duration: each in its largest unit
    ("+0", "request.queued", ""),
    ("+600.0 µs", "request.start", ""),
    ("+600.0 µs", "sched.step", "12.3 ms"),
    ("+600.0 µs", "loop.blocked", "12.3 ms"),
    ("+700.0 µs", "asgi.receive", "0.35 µs"),
    ("+1.0 s", "asgi.send", ""),
    ("+1.2 s", "asgi.send", "34.5 ms"),
    ("+2.5 s", "sched.step", "60.0 µs"),
    ("+2.5 s", "request.end", ""),
]


def _pane(app: ReplayApp) -> str:
    return str(app.screen.query_one(DetailPane).query_one("#detail-body", Static).render())


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_requests_pane_writes_each_time_in_its_largest_unit(lang: str) -> None:
    """Latency, the moment the app stopped, the time spent, what delayed it and every event
    row: ``figures.duration`` (it said ``latency 1234.50ms``, ``queued 600µs``, ``+0.700ms``);
    the rows' times and durations still end in one column."""
    app = ReplayApp([_one_request()], lang=lang, detail=0)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen) and _pane(app))
        lines = _pane(app).splitlines()
    assert lines[0] == HEAD[lang]
    assert lines[2] == PHASES[lang]
    assert lines[3] == DELAYED[lang]
    rows = lines[5 : 5 + len(ROWS)]
    # Columns: the time ends at cell 13, the kind takes 20 cells, the duration ends at 42.
    said = [(row[:14].strip(), row[14:34].strip(), row[34:44].strip()) for row in rows]
    assert said == ROWS, rows
    assert all(row[12] != " " and row[13] == " " and row[14] != " " for row in rows), rows
    assert all(row[42] != " " == row[43] for row in rows if row[34:44].strip()), rows


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_workers_pane_writes_its_share_busy_time_and_spans_alike(lang: str) -> None:
    """The loop's pane: utilisation as a whole percent, busy time and each span's start and
    length in their largest unit, the cursor's moment too (it said ``busy 12.35ms``,
    ``0.600ms``, ``at the cursor (0ms)``)."""
    app = ReplayApp([_one_request()], lang=lang, view="worker", detail=0)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen) and _pane(app))
        lines = _pane(app).splitlines()
    words = labels(lang)
    colon = words["colon"]
    assert lines[1] == (
        f"{words['utilisation']} 0%  {words['lane_busy']} 12.4 ms  {words['lane_requests']} 1"
    )
    assert lines[2] == f"{words['at_cursor'].format(at='0')}{colon}{words['idle']}"
    spans = [" ".join(row.split()) for row in lines[4:]]
    assert spans == [
        f"600.0 µs #1 12.3 ms {words['blocked']}",
        f"2.5 s #1 60.0 µs {words['running']}",
    ]


def test_events_past_the_pane_are_counted_grouped() -> None:
    """The row that says how many events are not shown groups its count (``1,200``)."""
    loop = {"tid": 7, "thread": "loop"}
    start = {"method": "GET", "path": "/", "interface": "asgi", "scope_type": "http"}
    events = [Event(0, 0, K.REQUEST_START, 1, **loop, data=start)]
    events += [
        Event(i, i * 1_000, K.SCHED_STEP, 1, **loop, dur=500, data={}) for i in range(1, 1_500)
    ]
    events.append(Event(1_500, 2 * MS, K.REQUEST_END, 1, data={"status": 200}))
    model = build_model(Recording(make_header(interface="asgi", server={"model": "loop"}), events))
    for lang in ("en", "zh"):
        last = detail_text(model, model.by_request[0], labels(lang)).plain.splitlines()[-1]
        assert last == f"  … 1,201 {labels(lang)['more_events']}"
