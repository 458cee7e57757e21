"""Running a scenario: bookmarks as mark events, saved recordings, --sim identical run to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_cache import simulated

from tracer import events as K
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.demos.runner import with_marks
from tracer.errors import UsageError
from tracer.events import Event
from tracer.recording import Recording, load

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_sim_runs_are_identical_run_to_run(name: str, tmp_path: Path) -> None:
    """Two --sim runs of a scenario write byte-identical recordings."""
    first = save_demo(simulated(name), str(tmp_path / "a"))
    second = save_demo(run_demo(SCENARIOS[name], simulated=True), str(tmp_path / "b"))
    assert len(first) == len(SCENARIOS[name].sides)
    for a, b in zip(first, second, strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()


def test_saved_recordings_load_back_with_their_bookmarks(tmp_path: Path) -> None:
    """NAME-1.jsonl and NAME-2.jsonl hold the side label, demo name and mark events."""
    demo = simulated("blocking-call", "zh")
    paths = save_demo(demo, str(tmp_path / "rec"))
    assert [Path(p).name for p in paths] == ["blocking-call-1.jsonl", "blocking-call-2.jsonl"]
    loaded = load(paths[0])
    assert loaded.header["demo"] == {
        "name": "blocking-call",
        "side": 1,
        "lang": "zh",
        "caption": SCENARIOS["blocking-call"].caption("zh"),
        "title": "async def 里的阻塞调用",
    }
    assert loaded.header["label"] == "async def 中的 time.sleep"
    marks = [e for e in loaded.events if e.kind == K.MARK]
    assert [m.data["key"] for m in marks] == ["blocked", "next"]
    assert marks[0].data["label"] == "事件循环被阻塞"
    first_block = next(e for e in loaded.events if e.kind == K.LOOP_BLOCKED)
    assert marks[0].t == max(first_block.t, 1)


def test_every_mark_has_its_own_time_after_zero() -> None:
    """The cursor starts at 0 and jumps to later marks: marks of both sides never coincide."""
    for name in SCENARIOS:
        if name == "c10k":
            continue
        times = [e.t for r in simulated(name).recordings for e in r.events if e.kind == K.MARK]
        assert times and all(t > 0 for t in times) and len(set(times)) == len(times), name


def test_with_marks_keeps_time_order_and_unique_seqs() -> None:
    """Marks slot in by time and get sequence numbers after every existing event."""
    rec = Recording(
        {}, [Event(seq=1, t=0, kind=K.REQUEST_START), Event(seq=2, t=10, kind=K.REQUEST_END)]
    )
    marked = with_marks(rec, [(5, {"label": "here"})])
    assert [e.kind for e in marked.events] == [K.REQUEST_START, K.MARK, K.REQUEST_END]
    assert marked.events[1].seq == 3 and rec.events[1].kind == K.REQUEST_END


def test_an_unwritable_record_folder_is_a_usage_error(tmp_path: Path) -> None:
    """--record under a file fails with a message naming the folder."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="--record folder"):
        save_demo(simulated("sync-vs-async"), str(blocker / "sub"))
