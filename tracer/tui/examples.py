"""Small deterministic recordings of the two classic shapes, built event by event.

- ``threads_example``: a WSGI app on N worker threads pulling from one FIFO queue — requests
  queue for a worker, then hold it for their whole life (part CPU, part waiting in I/O);
- ``loop_example``: an ASGI app on one event loop — coroutine steps of many requests
  interleave, and one handler makes a blocking call that holds the loop and delays the others.

Every time is computed, none measured, so they are stable inputs for the UI's snapshot tests,
screenshots and frame benchmark (and a fallback when the simulator is not installed). The event
shapes follow docs/recording-format.md. Imports only the spine.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from functools import partial
from typing import Any

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header

__all__ = ["threads_example", "loop_example"]

MS = 1_000_000
_FIXED_CLOCK = {"monotonic_ns": 0, "unix_ns": 1_764_100_000_000_000_000}


class _Builder:
    def __init__(self, pid: int = 4242) -> None:
        self.events: list[Event] = []
        self.pid = pid

    def add(
        self,
        kind: str,
        t: int,
        req: int | None,
        data: dict[str, Any] | None = None,
        *,
        dur: int | None = None,
        tid: int = 1,
        thread: str = "MainThread",
        task: str | None = None,
    ) -> None:
        self.events.append(
            Event(len(self.events), t, kind, req, self.pid, tid, thread, task, dur, data or {})
        )

    def on(self, tid: int, thread: str, task: str | None = None) -> Callable[..., None]:
        """``add`` for the events of one thread (and task)."""
        return partial(self.add, tid=tid, thread=thread, task=task)

    def recording(self, header: dict[str, Any]) -> Recording:
        recording = Recording(header=header, events=self.events)
        recording.sort()
        return recording


def _start_data(req: int, path: str, interface: str) -> dict[str, Any]:
    # A GET from one local client port per request, as the load generator sends it.
    return {
        "method": "GET",
        "path": path,
        "query": "",
        "http_version": "1.1",
        "scheme": "http",
        "client": ["127.0.0.1", 50000 + req],
        "interface": interface,
        "scope_type": "http",
        "headers": [["host", "127.0.0.1"]],
    }


def threads_example(
    requests: int = 10, threads: int = 4, *, seed: int = 1, interval_ms: float = 2.0
) -> Recording:
    """A WSGI ``threads`` run: ``requests`` arrive every ``interval_ms``, each needs ~3 ms of CPU
    and ~5 ms of I/O on a worker; request 5 fails with a 500 and request 2 breaks a rule."""
    rng = random.Random(seed)
    b = _Builder()
    free = [(0, index) for index in range(threads)]
    heapq.heapify(free)
    for req in range(1, requests + 1):
        arrival = int((req - 1) * interval_ms * MS + rng.randrange(0, MS // 2))
        cpu = int(3 * MS * rng.uniform(0.7, 1.3))
        io = int(5 * MS * rng.uniform(0.5, 1.5))
        if req % 7 == 3:
            io *= 4  # a slow upstream call: the thread is held while it waits
        ready, worker = heapq.heappop(free)
        start = max(arrival, ready)
        on_worker = b.on(100 + worker, f"worker-{worker}")
        path = "/slow" if req % 7 == 3 else "/"
        b.add(K.REQUEST_QUEUED, arrival, req, {"method": "GET", "path": path})
        on_worker(K.REQUEST_START, start, req, _start_data(req, path, "wsgi"))
        service = cpu + io
        on_worker(K.SCHED_THREAD, start, req, {"cpu_ns": cpu, "via": "worker"}, dur=service)
        status = "500 Internal Server Error" if req == 5 else "200 OK"
        respond_at = start + service - MS // 2  # the last half-ms produces the body
        on_worker(K.WSGI_START_RESPONSE, respond_at, req, {"status": status, "headers": 2})
        if req == 2:
            on_worker(
                K.VIOLATION,
                respond_at,
                req,
                {"rule": "wsgi-headers-list", "message": "response headers must be a list"},
            )
        if req == 5:
            on_worker(
                K.ERROR,
                respond_at,
                req,
                {"type": "KeyError", "message": "'user'", "where": "app.py:31"},
            )
        on_worker(K.WSGI_BODY, respond_at, req, {"bytes": 12}, dur=MS // 2)
        on_worker(K.WSGI_CLOSE, start + service, req)
        end_data = {
            "status": int(status[:3]),
            "bytes_in": 0,
            "bytes_out": 12,
            "error": "KeyError" if req == 5 else None,
        }
        on_worker(K.REQUEST_END, start + service, req, end_data)
        heapq.heappush(free, (start + service, worker))
    header = make_header(
        source="simulated",
        app="sample_apps.hello:wsgi_app",
        interface="wsgi",
        server={"model": "threads", "threads": threads, "workers": 1},
        load={"requests": requests, "interval_ms": interval_ms},
        **_FIXED_CLOCK,
    )
    return b.recording(header)


def loop_example(
    requests: int = 8,
    *,
    seed: int = 1,
    blocking: int | None = 3,
    interval_ms: float = 2.0,
    threshold_ms: float = 10.0,
) -> Recording:
    """An ASGI ``loop`` run: each request runs three short steps around two awaits; request
    ``blocking`` (None: none) calls ``time.sleep(30ms)`` in its handler and holds the loop."""
    rng = random.Random(seed)
    b = _Builder()
    loop_tid, loop_name = 1, "MainThread"
    on_loop = b.on(loop_tid, loop_name)
    heap: list[tuple[int, int, int, int]] = []  # (ready at, req, step index, arrival)
    for req in range(1, requests + 1):
        arrival = int((req - 1) * interval_ms * MS + rng.randrange(0, MS // 2))
        heapq.heappush(heap, (arrival, req, 0, arrival))
        path = "/block" if req == blocking else "/"
        on_loop(K.REQUEST_QUEUED, arrival, req, {"method": "GET", "path": path})
    now = 0
    threshold = int(threshold_ms * MS)
    while heap:
        ready, req, step, _arrival = heapq.heappop(heap)
        now = max(now, ready)
        on_task = b.on(loop_tid, loop_name, f"Task-{req}")
        path = "/block" if req == blocking else "/"
        if step == 0:
            on_task(K.REQUEST_START, now, req, _start_data(req, path, "asgi"))
            on_task(
                K.ASGI_RECEIVE,
                now,
                req,
                {"type": "http.request", "bytes": 0, "more_body": False},
                dur=0,
            )
        run = int(MS * rng.uniform(0.3, 0.8))
        cpu = run
        awaiting, location = "asyncio.sleep", "sample_apps/slow.py:18"
        if req == blocking and step == 1:
            run, cpu = 30 * MS, MS // 5  # time.sleep: wall time on the loop, almost no CPU
            awaiting, location = "asyncio.sleep", "sample_apps/slow.py:24"
        if step == 2:
            awaiting, location = "send", "sample_apps/slow.py:30"
        on_task(
            K.SCHED_STEP,
            now,
            req,
            {"cpu_ns": cpu, "awaiting": awaiting, "location": location},
            dur=run,
        )
        if run > threshold:
            delayed = sorted(r for t, r, _, _ in heap if t < now + run)
            on_task(
                K.LOOP_BLOCKED,
                now,
                req,
                {"location": "sample_apps/slow.py:23", "delayed": delayed},
                dur=run,
            )
        if step == 2:
            send_at = now + run // 3
            on_task(
                K.ASGI_SEND,
                send_at,
                req,
                {"type": "http.response.start", "status": 200, "bytes": 0, "more_body": None},
                dur=run // 6,
            )
            on_task(
                K.ASGI_SEND,
                send_at + run // 3,
                req,
                {"type": "http.response.body", "status": None, "bytes": 12, "more_body": False},
                dur=run // 6,
            )
            on_task(
                K.REQUEST_END,
                now + run,
                req,
                {"status": 200, "bytes_in": 0, "bytes_out": 12, "error": None},
            )
        else:
            wait = int(MS * rng.uniform(3, 8))
            heapq.heappush(heap, (now + run + wait, req, step + 1, _arrival))
        now += run
    marks = [(0, "start", "Requests arrive every 2 ms and share one event loop.")]
    if blocking is not None:
        block = next((e for e in b.events if e.kind == K.LOOP_BLOCKED), None)
        if block is not None:
            marks.append(
                (
                    block.t,
                    "blocking call",
                    f"Request {blocking} calls time.sleep(): every other request waits.",
                )
            )
    for t, label, caption in marks:
        on_loop(K.MARK, t, None, {"label": label, "caption": caption})
    header = make_header(
        source="simulated",
        app="sample_apps.slow:app",
        interface="asgi",
        server={"model": "loop", "workers": 1},
        load={"requests": requests, "interval_ms": interval_ms},
        **_FIXED_CLOCK,
    )
    return b.recording(header)
