"""simulate(): the header of a simulated recording, determinism, and a summary that matches the events."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import MODEL_NAMES, SimConfig, load_workload, simulate
from sim.simulation import SIM_EPOCH_NS
from tracer import events as K
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.recording import load
from tracer.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
MIXED = load_workload(ROOT / "sim" / "workloads" / "mixed.toml")


def _record(path: Path, config: SimConfig) -> bytes:
    recorder = Recorder(path, clock=lambda: 0, wall_clock=lambda: SIM_EPOCH_NS, start_ns=0)
    simulate(config, recorder=recorder)
    recorder.close()
    return path.read_bytes()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    """Two runs with one seed write byte-identical recordings; another seed writes another."""
    config = SimConfig(model="loop", workload=MIXED, concurrency=20, requests=300, seed=7)
    first = _record(tmp_path / "a.jsonl", config)
    second = _record(tmp_path / "b.jsonl", config)
    other = _record(tmp_path / "c.jsonl", config.with_value("seed", 8))
    assert first == second
    assert first != other


def test_header_of_a_simulated_recording(tmp_path: Path) -> None:
    """source simulated, app sim:<workload>, interface, server and load, a fixed clock."""
    config = SimConfig(model="threads", threads=8, workload=MIXED, rate=50.0, requests=20)
    _record(tmp_path / "r.jsonl", config)
    header = load(tmp_path / "r.jsonl").header
    assert header["source"] == "simulated"
    assert header["app"] == "sim:mixed"
    assert header["interface"] == "wsgi"
    assert header["server"] == {"model": "threads", "threads": 8, "workers": 1}
    assert header["load"] == {"rate": 50.0, "requests": 20, "seed": 0}
    assert header["clock"] == {"monotonic_ns": 0, "unix_ns": SIM_EPOCH_NS}


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_summary_matches_the_recording(model: str) -> None:
    """The stats-only summary equals tracer.summary.summarize of the recorded events."""
    config = SimConfig(model=model, workers=2, workload=MIXED, concurrency=15, requests=400, seed=2)
    recorder = Recorder()
    result = simulate(config, recorder=recorder)
    assert result.summary == summarize(recorder.recording())
    assert result.summary == simulate(config).summary  # recording changes nothing
    assert result.events == len(recorder.events)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_request_has_a_full_lifecycle(model: str) -> None:
    """Each request: queued <= start <= end, exactly one of each, and a response body."""
    recorder = Recorder()
    simulate(
        SimConfig(model=model, workload=MIXED, concurrency=8, requests=100, seed=4),
        recorder=recorder,
    )
    for req, events in recorder.recording().requests().items():
        kinds = [e.kind for e in events]
        for kind in (K.REQUEST_QUEUED, K.REQUEST_START, K.REQUEST_END):
            assert kinds.count(kind) == 1, (req, kinds)
        times = {e.kind: e.t for e in events}
        assert times[K.REQUEST_QUEUED] <= times[K.REQUEST_START] <= times[K.REQUEST_END]
        end = [e for e in events if e.kind == K.REQUEST_END][0]
        assert end.data["status"] == 200 and end.data["bytes_out"] > 0


def test_duration_limits_sending() -> None:
    """-z: no request arrives after the duration; those in flight finish."""
    result = simulate(SimConfig(concurrency=4, requests=None, duration_ns=1_000_000_000))
    stats = result.stats
    assert stats is not None
    assert max(stats.queued) < 1_000_000_000 <= max(stats.ended)
    assert result.summary["completed"] == 40  # 4 threads x 10 rounds of 100 ms


def test_think_time_slows_a_closed_loop() -> None:
    """Clients that pause 100 ms between requests send half as often as clients that do not."""
    from sim.dist import Fixed

    busy = simulate(SimConfig(threads=10, concurrency=10, requests=200))
    thinking = simulate(
        SimConfig(threads=10, concurrency=10, requests=200, think=Fixed(100_000_000))
    )
    assert busy.summary["rps"] == 100.0
    # 20 rounds of 100 ms work + 100 ms pause, but no pause after the last: 200 in 3.9 s.
    assert thinking.summary["wall_s"] == 3.9 and thinking.summary["rps"] == 51.3


@pytest.mark.parametrize(
    "options,says",
    [
        ({"model": "fibers"}, 'Unknown model "fibers"'),
        ({"threads": 0}, "--threads must be"),
        ({"rate": -1.0}, "--rate must be"),
        ({"requests": None}, "Give -n"),
        ({"requests": 0}, "-n must be 1 or more"),
    ],
)
def test_bad_config(options: dict[str, object], says: str) -> None:
    """A bad SimConfig is a UsageError naming the field."""
    with pytest.raises(UsageError, match=says):
        simulate(SimConfig(**options))  # type: ignore[arg-type]


def test_paused_gc_restores_the_collector() -> None:
    """The collector is off inside ``paused_gc`` and back as it was after, even on error."""
    import gc

    from tracer.gc_pause import paused_gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
