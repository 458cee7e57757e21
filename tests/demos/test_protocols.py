"""The adapter, streaming, websocket and c10k scenarios show their point, read from events."""

from __future__ import annotations

import pytest
from demo_cache import simulated

from tracer import events as K
from tracer.demos import SCENARIOS, run_demo
from tracer.demos.protocols import held_for_life
from tracer.demos.shapes import in_flight_peak, max_overlap, thread_spans, threads_used

pytestmark = pytest.mark.timeout(120)


def _real(name: str):
    return run_demo(SCENARIOS[name], quick=True)


@pytest.mark.parametrize("mode", ["real", "sim"])
def test_wsgi_on_asgi_runs_every_request_on_one_thread(mode: str) -> None:
    """WsgiToAsgi: one thread, one request at a time; the threads server uses several."""
    demo = _real("wsgi-on-asgi") if mode == "real" else simulated("wsgi-on-asgi")
    adapter, server = demo.recordings
    assert demo.problems() == []
    assert len(threads_used(adapter)) == 1
    assert max_overlap((e.t, e.end) for e in thread_spans(adapter))[0] == 1
    assert len(threads_used(server)) > 1


@pytest.mark.parametrize("mode", ["real", "sim"])
def test_streaming_holds_a_wsgi_thread_for_the_whole_stream(mode: str) -> None:
    """Every WSGI chunk falls inside its request's thread time; ASGI streams interleave."""
    demo = _real("streaming") if mode == "real" else simulated("streaming")
    wsgi, asgi = demo.recordings
    assert demo.problems() == []
    assert held_for_life(wsgi)
    assert in_flight_peak(wsgi) <= 4
    assert in_flight_peak(asgi) >= 2 * in_flight_peak(wsgi)
    assert any(e.kind == K.ASGI_SEND and e.data.get("more_body") for e in asgi.events)


@pytest.mark.parametrize("mode", ["real", "sim"])
def test_websocket_sessions_stay_open_together_on_the_loop(mode: str) -> None:
    """ASGI holds many sessions at once; the WSGI side (always simulated) at most 4."""
    demo = _real("websocket") if mode == "real" else simulated("websocket")
    wsgi, asgi = demo.recordings
    assert demo.problems() == []
    assert wsgi.header["source"] == "simulated"
    assert in_flight_peak(wsgi) == 4
    assert in_flight_peak(asgi) >= 8
    # Simulated or real, the ASGI side opens websocket sessions, not HTTP requests.
    scopes = {e.data.get("scope_type") for e in asgi.events if e.kind == K.REQUEST_START}
    assert scopes - {"lifespan"} == {"websocket"}


def test_c10k_is_simulated_even_when_asked_for_real() -> None:
    """c10k has no real run: 10,000 threads versus one loop thread, both simulated."""
    scenario = SCENARIOS["c10k"]
    assert scenario.simulated_only
    demo = simulated("c10k")
    assert demo.problems() == []
    assert demo.figures["threads"] == 10_000
    assert demo.figures["loop_threads"] == 1
    assert demo.figures["thread_stacks_gib"] == pytest.approx(78.1)


def test_c10k_caption_latencies_are_what_the_run_shows_and_the_check_holds_them() -> None:
    """The caption's figures: 1 s of CPU queued, last request at 1.1 s on both sides, medians
    600 ms (threads) and 1 s (loop); the check rejects recordings where threads do not lead."""
    demo = simulated("c10k")
    figures = demo.figures
    assert figures["cpu_queue_ms"] == pytest.approx(1000)
    assert figures["threads_max_ms"] == pytest.approx(1100) == figures["loop_max_ms"]
    assert figures["threads_p50_ms"] == pytest.approx(600, abs=1)
    assert figures["loop_p50_ms"] == pytest.approx(1000, abs=1)
    for lang, words in (("en", ("1.1 s", "600 ms", "median 1 s")), ("zh", ("1.1 秒", "600 毫秒"))):
        assert all(word in SCENARIOS["c10k"].caption(lang) for word in words)
    threads, loop = demo.recordings
    assert "threads' median latency is not well below the loop's" in demo.scenario.check(
        [loop, loop]
    )


def test_simulated_streaming_sends_what_the_real_app_sends() -> None:
    """Each ASGI stream: 10 chunks with more_body=True, then an empty final body, like
    sample_apps.streaming: 400 more_body sends for 40 streams, simulated as for real."""
    demo = simulated("streaming")
    asgi = demo.recordings[1]
    assert demo.figures["asgi_more_body_sends"] == 400
    finals = [
        e
        for e in asgi.events
        if e.kind == K.ASGI_SEND
        and e.data.get("type") == "http.response.body"
        and not e.data.get("more_body")
    ]
    assert len(finals) == 40 and all(e.data["bytes"] == 0 for e in finals)
