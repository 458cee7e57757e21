"""Make the SVG screenshots in this folder from simulated scenarios (stable: fixed seeds).

    python screenshots/make_screenshots.py [--out screenshots]

Each picture is the real replay UI rendered without a terminal (``tracer.tui.app.render_svg``)
or, for the live dashboard, the real ``LiveApp`` fed half of a simulated run. The README shows
them; rerun this script after a visual change and commit the SVGs it writes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from sim import SimConfig, inline_workload, parse_dist, simulate  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402
from tracer.recording import Recording  # noqa: E402
from tracer.tui.app import render_svg  # noqa: E402
from tracer.tui.live import LiveApp, LiveScreen  # noqa: E402
from tracer.tui.svg_cells import offline_svg  # noqa: E402

SIZE = (120, 40)


def scenario(
    model: str, *, blocking: bool = False, requests: int = 24, concurrency: int = 8
) -> Recording:
    """The same workload (2 ms of CPU, ~20 ms awaiting I/O) on a server model; ``blocking``
    adds a 15 ms blocking call (time.sleep in an async handler)."""
    workload = inline_workload(
        cpu=parse_dist("2ms"),
        io=parse_dist("exp:20ms"),
        blocking_io=parse_dist("fixed:15ms") if blocking else None,
    )
    recorder = Recorder()
    config = SimConfig(
        model=model, requests=requests, concurrency=concurrency, workload=workload, seed=7
    )
    simulate(config, recorder=recorder)
    return recorder.recording()


def _first_delayed(recording: Recording) -> int:
    """Lane index of the first request a blocking call delayed (for the detail picture)."""
    from tracer.tui.model import build_model

    model = build_model(recording)
    for index in range(len(model.by_request)):
        if model.by_request[index].req in model.delayed_by:
            return index
    return 0


async def _live_svg(recording: Recording) -> str:
    """The live dashboard halfway through a run: the first half of the events fed as a run
    makes them, in 20 ms steps of its clock, then a snapshot."""
    half = len(recording.events) // 2
    # The dashboard's clock is the run's wall time: here the recording's, advanced step by
    # step, so the picture is the same on every machine and every run.
    clock = [0]
    recorder = Recorder(clock=lambda: clock[0], start_ns=0)
    recorder.header.update(recording.header)
    release = threading.Event()

    def work(stop: threading.Event) -> None:
        release.wait(30)  # the events are fed below, step by step

    app = LiveApp(recorder, work, title=recording.title, total_requests=len(recording.requests()))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(500):
            if isinstance(app.screen, LiveScreen):
                break
            await pilot.pause(0.02)
        fed = recording.events[:half]
        step, start = 20_000_000, 0
        while start < len(fed):
            clock[0] += step
            end = start
            while end < len(fed) and fed[end].end <= clock[0]:
                end += 1
            recorder.extend(fed[start:end])
            recorder.drain()
            app.poll()
            start = end
        await pilot.pause()
        svg = offline_svg(app.export_screenshot(title="gateway-tracer live"))
        release.set()
        app.stop.set()
    return svg


def _demo_shots() -> dict[str, Callable[[], str]]:
    """``trace demo NAME --sim --lang L --screenshot``: every scenario's first screen, en and zh."""
    from tracer.demos import LANGS, SCENARIOS, run_demo

    def shot(name: str, lang: str) -> str:
        demo = run_demo(SCENARIOS[name], simulated=True, lang=lang)
        return render_svg(demo.recordings, size=SIZE, caption=demo.caption, lang=lang)

    return {
        f"demo-{name}-{lang}.svg": (lambda name=name, lang=lang: shot(name, lang))
        for name in SCENARIOS
        for lang in LANGS
    }


def main() -> None:
    """Write every screenshot and list them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--only", default="", metavar="PREFIX", help="only files named PREFIX*")
    args = parser.parse_args()
    threads = scenario("threads")
    loop = scenario("loop")
    blocking = scenario("loop", blocking=True, requests=16)
    shots: dict[str, Callable[[], str]] = {
        "replay-by-request.svg": lambda: render_svg([blocking], size=SIZE),
        "replay-by-worker.svg": lambda: render_svg([blocking], size=SIZE, view="worker"),
        "threads-by-worker.svg": lambda: render_svg([threads], size=SIZE, view="worker"),
        "compare-threads-vs-loop.svg": lambda: render_svg([threads, loop], size=SIZE),
        "detail-pane.svg": lambda: render_svg(
            [blocking], size=SIZE, detail=_first_delayed(blocking)
        ),
        "help.svg": lambda: render_svg([blocking], size=SIZE, keys=["question_mark"]),
        "replay-zh.svg": lambda: render_svg([blocking], size=SIZE, lang="zh"),
        "replay-80x24.svg": lambda: render_svg([blocking], size=(80, 24)),
        "live-dashboard.svg": lambda: asyncio.run(
            _live_svg(scenario("loop", requests=200, concurrency=20))
        ),
    }
    shots.update(_demo_shots())
    for name, make in shots.items():
        if not name.startswith(args.only):
            continue
        path = os.path.join(args.out, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(make())
        print(path)


if __name__ == "__main__":
    main()
