"""How fast the replay UI opens and draws on a big recording.

    python bench/tui_frames.py [--requests 10000] [--repeats 3] [--frames 40] [--clock cpu|wall]

(counts positive; a usage mistake is one line and exit code 2)

For a 10,000-request recording (~100,000 events) of each shape (ASGI loop, WSGI threads):

- open: read the file as ``trace replay`` does (``open_recordings``), derive the lanes
  (``build_model``), mount the app and draw the first frame;
- frame: one full 200x50 frame after a pan or a zoom (state change, every visible lane
  re-rendered through ``render_line``, the screen composited and turned into terminal output),
  in the by-request and by-worker views, zoomed out (whole run) and zoomed in; plus a frame
  where nothing moved but the cursor (rows come from the strip cache);
- memory: the process's peak resident size.

Prints medians of several repeats and the ratio to the targets (open < 2 s, median frame
< 16 ms, memory < 300 MB). The machine is shared: read medians, not single runs.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_cli import Parser, positive_int, run_child  # noqa: E402

from tracer.recording import Recording  # noqa: E402
from tracer.tui.app import ReplayApp, open_recordings  # noqa: E402
from tracer.tui.examples import loop_example, threads_example  # noqa: E402
from tracer.tui.model import build_model  # noqa: E402
from tracer.tui.screen import ReplayScreen  # noqa: E402
from tracer.tui.viewport import Viewport  # noqa: E402

SIZE = (200, 50)
TARGET_OPEN_S = 2.0
TARGET_FRAME_MS = 16.0
TARGET_MEMORY_MB = 300.0
CLOCK = "cpu"
"""``cpu``: time.process_time (the UI's own work, less disturbed by other load on a shared
machine); ``wall``: time.perf_counter. Set with ``--clock``."""


def write(recording: Recording, path: str) -> None:
    """Save a recording as JSON Lines."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(recording.header) + "\n")
        for event in recording.events:
            handle.write(json.dumps(event.to_dict()) + "\n")


def frame(screen: ReplayScreen, action: Callable[[], None]) -> float:
    """Apply ``action`` and draw one full frame as the terminal would get it; seconds."""
    console = screen.app.console
    start = time.perf_counter() if CLOCK == "wall" else time.process_time()
    action()
    strips = screen._compositor.render_strips()
    output = "".join(strip.render(console) for strip in strips)
    elapsed = (time.perf_counter() if CLOCK == "wall" else time.process_time()) - start
    assert output
    return elapsed


async def measure(path: str, frames: int) -> dict[str, float]:
    """Open the file in the UI, then time frames of each interaction."""
    clock = time.perf_counter if CLOCK == "wall" else time.process_time
    t0 = clock()
    (recording,) = open_recordings([path])  # as `trace replay` reads it
    t_load = clock() - t0
    t1 = clock()
    _ = build_model(recording).summary
    t_model = clock() - t1
    t2 = clock()
    app = ReplayApp([recording])
    results: dict[str, float] = {"load_s": t_load, "model_s": t_model}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        screen._compositor.render_strips()
        results["open_s"] = clock() - t2 + t_load
        events = len(recording.events)
        results["events"] = float(events)
        for view in ("request", "worker"):
            if screen.view != view:
                screen.action_toggle_view()
            screen.action_fit()
            screen._compositor.render_strips()
            out = [
                frame(screen, lambda i=i: screen.action_pan(1 if i % 2 else -1))  # type: ignore[misc]
                for i in range(frames)
            ]
            results[f"{view}_pan_out_ms"] = statistics.median(out) * 1e3
            for _ in range(6):
                screen.action_zoom_in()
            screen.viewport.set_cursor(screen.viewport.t_max // 2)
            zoom = [
                frame(screen, screen.action_zoom_in if i % 2 else screen.action_zoom_out)
                for i in range(frames)
            ]
            results[f"{view}_zoom_in_ms"] = statistics.median(zoom) * 1e3
            pans = [frame(screen, lambda: screen.action_pan(1)) for _ in range(frames)]
            results[f"{view}_pan_in_ms"] = statistics.median(pans) * 1e3

            def nudge(vp: Viewport = screen.viewport) -> None:
                vp.set_cursor(vp.cursor + vp.ns_per_cell, follow=False)
                screen._refresh_all()

            cached = [frame(screen, nudge) for _ in range(frames)]
            results[f"{view}_cursor_ms"] = statistics.median(cached) * 1e3
            screen.action_select(1)
    gc.unfreeze()  # the next repeat starts from the same collector state
    return results


async def _open_and_draw(path: str) -> None:
    (recording,) = open_recordings([path])
    app = ReplayApp([recording])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        for action in (screen.action_toggle_view, screen.action_zoom_in, screen.action_toggle_view):
            action()
            screen._compositor.render_strips()


def high_water_mb() -> float:
    """This process's peak resident size. VmHWM, not ru_maxrss: on Linux a child's ru_maxrss
    starts from its parent's peak at fork, VmHWM belongs to the process's own memory."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_mb(path: str) -> float:
    """Peak resident size of a fresh process that opens ``path`` in the UI and draws both views."""
    code = (
        "import asyncio, sys; sys.path.insert(0, sys.argv[1]); "
        "import tui_frames; asyncio.run(tui_frames._open_and_draw(sys.argv[2])); "
        "print(tui_frames.high_water_mb())"
    )
    bench = os.path.dirname(os.path.abspath(__file__))
    result = run_child([sys.executable, "-c", code, bench, path])
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run every variant ``--repeats`` times and print medians and ratios to the targets."""
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=positive_int, default=10_000)
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument("--frames", type=positive_int, default=40)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    shapes = {
        "asgi-loop": loop_example(args.requests, interval_ms=0.5),
        "wsgi-threads": threads_example(args.requests, 8, interval_ms=1.0),
    }
    with tempfile.TemporaryDirectory() as folder:
        table: dict[str, dict[str, list[float]]] = {}
        for name, recording in shapes.items():
            path = os.path.join(folder, f"{name}.jsonl")
            write(recording, path)
            size_mb = os.path.getsize(path) / 1e6
            print(
                f"{name}: {args.requests} requests, {len(recording.events)} events, {size_mb:.1f} MB"
            )
            for _ in range(args.repeats):
                result = asyncio.run(measure(path, args.frames))
                for key, value in result.items():
                    table.setdefault(name, {}).setdefault(key, []).append(value)
            table[name]["memory_mb"] = [peak_memory_mb(path)]
        del shapes
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]
    print(
        f"\nmedians of {args.repeats} runs, {SIZE[0]}x{SIZE[1]} frames, {CLOCK} time, load {load:.1f}"
    )
    keys = [k for k in next(iter(table.values())) if k != "events"]
    print(f"{'measure':<22}" + "".join(f"{name:>16}" for name in table) + f"{'target':>10}")
    for key in keys:
        target = {"open_s": TARGET_OPEN_S, "memory_mb": TARGET_MEMORY_MB}.get(key)
        if target is None and key.endswith("_ms"):
            target = TARGET_FRAME_MS
        row = f"{key:<22}"
        for name in table:
            value = statistics.median(table[name][key])
            ratio = f" ({value / target:.2f}x)" if target else ""
            row += f"{value:>9.3f}{ratio:>7}" if target else f"{value:>16.3f}"
        row += f"{target:>10}" if target else ""
        print(row)
    print("memory_mb: peak RSS of a fresh process that opens one recording and draws both views")
    print(f"(this bench process peaked at {peak_mb:.0f} MB: both recordings, every repeat)")


if __name__ == "__main__":
    main()
