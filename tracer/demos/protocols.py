"""Scenarios about protocols and scale: adapters, streaming, WebSockets, 10,000 connections.

``wsgi-on-asgi``, ``streaming``, ``websocket`` and ``c10k`` (simulated only). Each is data:
the runs, the texts in English and Chinese, and the functions that find bookmarks and check
the shape from the recordings' events. The runs and workloads are built when a side's runs
are first made (``Side.make``), so importing the tables imports no ``sim`` or ``tracer.run``.
Imports the demos' builders and shapes only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tracer import events as K
from tracer.demos.build import moment, real_run, sim_run, workload
from tracer.demos.scenario import Runs, Scenario, Side
from tracer.demos.shapes import (
    first_wait,
    in_flight_peak,
    latency_ms,
    max_overlap,
    peak_moment,
    thread_spans,
    threads_used,
)
from tracer.recording import Recording

if TYPE_CHECKING:
    from sim.workload import Workload

__all__ = ["WSGI_ON_ASGI", "STREAMING", "WEBSOCKET", "C10K", "STACK_BYTES", "held_for_life"]

Recs = Sequence[Recording]

STACK_BYTES = 8 * 1024 * 1024
"""Stack reserved per thread on Linux by default (``ulimit -s``: 8 MiB of address space)."""


def _thread_peak(rec: Recording) -> int:
    return max_overlap((e.t, e.end) for e in thread_spans(rec))[0]


# -- wsgi-on-asgi -----------------------------------------------------------------------------


def _adapter_check(recs: Recs) -> list[str]:
    problems = []
    used = threads_used(recs[0])
    if len(used) != 1:
        problems.append(f"WsgiToAsgi ran requests on {len(used)} threads, not one")
    if _thread_peak(recs[0]) != 1:
        problems.append("two requests ran on the adapter's thread at once")
    if len(threads_used(recs[1])) < 2:
        problems.append("the threads server used fewer than 2 threads")
    return problems


IO_WSGI = "sample_apps.io_bound:wsgi_app"


def io_work() -> Workload:
    """Both simulated sides: 50 ms of I/O per request."""
    return workload("io", {"io": "50ms"})


WSGI_ON_ASGI = Scenario(
    name="wsgi-on-asgi",
    texts={
        "en": {
            "title": "A WSGI app behind asgiref's WsgiToAsgi",
            "caption": "The same WSGI app (50 ms time.sleep). Top: wrapped in WsgiToAsgi on an "
            "event loop. sync_to_async is thread-sensitive, so every request runs on one single "
            "thread, one after another. Bottom: a WSGI server with 4 threads.",
            "side0": "WsgiToAsgi on a loop",
            "side1": "WSGI server, 4 threads",
            "about0": "A WSGI app (50 ms time.sleep) wrapped in WsgiToAsgi on an event loop. "
            "sync_to_async is thread-sensitive, so every request runs on one single thread, one "
            "after another.",
            "about1": "A WSGI app (50 ms time.sleep) on a WSGI server with 4 threads: 4 requests "
            "run side by side.",
            "one": "One thread for all",
            "one:caption": "asgiref's single thread is busy, so this request waits although the "
            "loop is free.",
            "four": "4 at once",
            "four:caption": "a WSGI server runs 4 requests side by side.",
        },
        "zh": {
            "title": "asgiref WsgiToAsgi 包装的 WSGI 应用",
            "caption": "同一个 WSGI 应用（time.sleep 50 毫秒）。上：用 WsgiToAsgi 包装后跑在事件循环上，"
            "sync_to_async 默认 thread_sensitive，所有请求在同一个线程上依次执行。下：4 线程的 WSGI 服务器。",
            "side0": "事件循环上的 WsgiToAsgi",
            "side1": "WSGI 服务器，4 个线程",
            "about0": "WSGI 应用（time.sleep 50 毫秒）用 WsgiToAsgi 包装后跑在事件循环上，"
            "sync_to_async 默认 thread_sensitive，所有请求在同一个线程上依次执行。",
            "about1": "WSGI 应用（time.sleep 50 毫秒）由 4 线程的 WSGI 服务器运行，4 个请求同时进行。",
            "one": "所有请求共用一个线程",
            "one:caption": "asgiref 的唯一线程正忙，虽然事件循环空闲，这个请求也只能等待。",
            "four": "同时 4 个",
            "four:caption": "WSGI 服务器可以同时运行 4 个请求。",
        },
    },
    sides=(
        Side(
            lambda: Runs(
                sim=sim_run("wsgi-on-loop", io_work(), c=10, n=20),
                real=real_run(IO_WSGI, "wsgi-on-loop", "/?ms=50", c=10, n=20),
                quick=real_run(IO_WSGI, "wsgi-on-loop", "/?ms=20", c=5, n=10),
            )
        ),
        Side(
            lambda: Runs(
                sim=sim_run("threads", io_work(), c=10, n=20, threads=4),
                real=real_run(IO_WSGI, "threads", "/?ms=50", c=10, n=20, threads=4),
                quick=real_run(IO_WSGI, "threads", "/?ms=20", c=5, n=10, threads=4),
            )
        ),
    ),
    marks=lambda recs: (
        moment(0, first_wait(recs[0]), "one") + moment(1, peak_moment(recs[1]), "four")
    ),
    check=_adapter_check,
    figures=lambda recs: {
        "adapter_threads": len(threads_used(recs[0])),
        "server_threads": len(threads_used(recs[1])),
        "adapter_p50_ms": latency_ms(recs[0]),
        "server_p50_ms": latency_ms(recs[1]),
    },
)


# -- streaming --------------------------------------------------------------------------------


def held_for_life(rec: Recording) -> bool:
    """True when every streamed WSGI body chunk falls inside its request's time on a thread."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for e in thread_spans(rec):
        if e.req is not None:
            spans.setdefault(e.req, []).append((e.t, e.end))
    chunks = [e for e in rec.events if e.kind == K.WSGI_BODY and e.req is not None]
    return bool(chunks) and all(
        any(a <= e.t and e.end <= b for a, b in spans.get(e.req or 0, ())) for e in chunks
    )


def _more_body(rec: Recording) -> int:
    return sum(1 for e in rec.events if e.kind == K.ASGI_SEND and e.data.get("more_body"))


def _stream_check(recs: Recs) -> list[str]:
    problems = []
    if not held_for_life(recs[0]):
        problems.append("a WSGI chunk was produced outside its request's thread time")
    if _thread_peak(recs[0]) > 4:
        problems.append("more than 4 WSGI streams at once on 4 threads")
    if in_flight_peak(recs[1]) < 2 * in_flight_peak(recs[0]):
        problems.append("ASGI streams did not overlap twice as much as WSGI's")
    if not _more_body(recs[1]):
        problems.append("no more_body sends on the ASGI side")
    return problems


STREAM = "sample_apps.streaming"


def stream_work() -> Workload:
    """Both simulated sides: a response of 10 chunks of 8 bytes, each after 50 ms."""
    return workload("stream", {"send": {"chunks": 10, "bytes": 8, "interval": "50ms"}})


STREAMING = Scenario(
    name="streaming",
    texts={
        "en": {
            "title": "Streaming responses: a held thread vs more_body sends",
            "caption": "10 chunks, 50 ms apart. Top: a WSGI generator keeps its thread for the "
            "whole stream, so 4 threads serve 4 streams and the rest wait. Bottom: ASGI sends each "
            "chunk with more_body=True and awaits between them, so all 20 streams interleave.",
            "side0": "WSGI generator, 4 threads",
            "side1": "ASGI more_body sends",
            "about0": "10 chunks, 50 ms apart. A WSGI generator keeps its thread for the whole "
            "stream, so 4 threads serve 4 streams and the rest wait.",
            "about1": "10 chunks, 50 ms apart. ASGI sends each chunk with more_body=True and "
            "awaits between them, so all 20 streams interleave.",
            "held": "Threads held by streams",
            "held:caption": "4 streams hold all 4 threads; the 5th waits for one to finish.",
            "interleave": "Streams interleave",
            "interleave:caption": "every stream is open at once on one loop.",
        },
        "zh": {
            "title": "流式响应：被占住的线程与 more_body 发送",
            "caption": "10 个数据块，间隔 50 毫秒。上：WSGI 生成器在整个流期间占着线程，4 个线程只能服务 4 个流，"
            "其余等待。下：ASGI 每块用 more_body=True 发送，中间 await，20 个流交错进行。",
            "side0": "WSGI 生成器，4 个线程",
            "side1": "ASGI more_body 发送",
            "about0": "10 个数据块，间隔 50 毫秒。WSGI 生成器在整个流期间占着线程，4 个线程只能服务 4 个流，"
            "其余等待。",
            "about1": "10 个数据块，间隔 50 毫秒。ASGI 每块用 more_body=True 发送，中间 await，"
            "20 个流交错进行。",
            "held": "线程被流占住",
            "held:caption": "4 个流占住全部 4 个线程；第 5 个要等其中一个结束。",
            "interleave": "流交错进行",
            "interleave:caption": "所有流同时在一个事件循环上打开。",
        },
    },
    sides=(
        Side(
            lambda: Runs(
                sim=sim_run("threads", stream_work(), c=20, n=40, threads=4),
                real=real_run(
                    f"{STREAM}:wsgi_app", "threads", "/?chunks=10&ms=50", c=20, n=40, threads=4
                ),
                quick=real_run(
                    f"{STREAM}:wsgi_app", "threads", "/?chunks=5&ms=20", c=12, n=12, threads=4
                ),
            )
        ),
        Side(
            lambda: Runs(
                sim=sim_run("loop", stream_work(), c=20, n=40),
                real=real_run(f"{STREAM}:asgi_app", "loop", "/?chunks=10&ms=50", c=20, n=40),
                quick=real_run(f"{STREAM}:asgi_app", "loop", "/?chunks=5&ms=20", c=12, n=12),
            )
        ),
    ),
    marks=lambda recs: (
        moment(0, first_wait(recs[0]), "held") + moment(1, peak_moment(recs[1]), "interleave")
    ),
    check=_stream_check,
    figures=lambda recs: {
        "wsgi_streams_at_once": in_flight_peak(recs[0]),
        "asgi_streams_at_once": in_flight_peak(recs[1]),
        "asgi_more_body_sends": _more_body(recs[1]),
    },
)


# -- websocket --------------------------------------------------------------------------------


def _sessions(rec: Recording) -> int:
    return sum(
        1
        for e in rec.events
        if e.kind == K.REQUEST_START and e.data.get("scope_type") == "websocket"
    )


def _ws_check(recs: Recs) -> list[str]:
    problems = []
    if in_flight_peak(recs[1]) < 2 * in_flight_peak(recs[0]):
        problems.append("ASGI did not hold twice as many sessions open as WSGI threads")
    if _thread_peak(recs[0]) > 4:
        problems.append("more than 4 sessions on 4 WSGI threads")
    if not _sessions(recs[1]):
        problems.append("the ASGI run opened no websocket session")
    return problems


def session_work() -> Workload:
    """The simulated ASGI side: websocket sessions of 10 messages, each answered after 50 ms."""
    return workload("session", {"ws": {"messages": 10, "bytes": 16, "reply_after": "50ms"}})


def long_response_work() -> Workload:
    """The WSGI side (WSGI has no WebSocket): a long response of 10 chunks, each after 50 ms,
    so it holds its thread as long as a session lasts (500 ms)."""
    return workload(
        "session", {"io": "50ms"}, {"send": {"chunks": 10, "bytes": 16, "interval": "50ms"}}
    )


WEBSOCKET = Scenario(
    name="websocket",
    texts={
        "en": {
            "title": "Long-lived WebSocket sessions",
            "caption": "50 chat sessions of 10 messages, each answered after 50 ms. Bottom: ASGI "
            "keeps every session open on one loop. Top (simulated): WSGI has no WebSocket "
            "interface. The nearest it gets is a long response, which holds a thread for the "
            "session's whole life, so 4 threads mean 4 sessions.",
            "side0": "WSGI, a thread per session",
            "side1": "ASGI websocket sessions",
            "about0": "50 sessions. WSGI has no WebSocket interface: the nearest it gets is a long "
            "response (10 chunks, 50 ms apart), which holds a thread for the session's whole "
            "life, so 4 threads mean 4 sessions.",
            "about1": "50 chat sessions of 10 messages, each answered after 50 ms. ASGI keeps "
            "every session open on one loop.",
            "thread": "Session waits for a thread",
            "thread:caption": "4 sessions hold the 4 threads; this one cannot even connect.",
            "sessions": "All sessions open",
            "sessions:caption": "every session is open at once; each waits on await, not a thread.",
        },
        "zh": {
            "title": "长连接 WebSocket 会话",
            "caption": "50 个聊天会话，每个 10 条消息，每条 50 毫秒后回复。下：ASGI 在一个事件循环上保持所有会话。"
            "上（模拟）：WSGI 没有 WebSocket 接口，最接近的是一个长响应，它在整个会话期间占着线程，4 个线程只能有 4 个会话。",
            "side0": "WSGI，每个会话一个线程",
            "side1": "ASGI websocket 会话",
            "about0": "50 个会话。WSGI 没有 WebSocket 接口，最接近的是一个长响应（10 个数据块，间隔 50 毫秒），"
            "它在整个会话期间占着线程，4 个线程只能有 4 个会话。",
            "about1": "50 个聊天会话，每个 10 条消息，每条 50 毫秒后回复。ASGI 在一个事件循环上保持所有会话。",
            "thread": "会话等待线程",
            "thread:caption": "4 个会话占住 4 个线程；这个会话连接都建立不了。",
            "sessions": "全部会话同时打开",
            "sessions:caption": "所有会话同时打开，各自在 await 上等待，而不占线程。",
        },
    },
    sides=(
        Side(lambda: Runs(sim=sim_run("threads", long_response_work(), c=50, n=50, threads=4))),
        Side(
            lambda: Runs(
                sim=sim_run("loop", session_work(), c=50, n=50),
                real=real_run(
                    "sample_apps.ws_chat:app", "loop", "ws:/?ms=50", c=50, n=50, ws_messages=10
                ),
                quick=real_run(
                    "sample_apps.ws_chat:app", "loop", "ws:/?ms=20", c=20, n=20, ws_messages=5
                ),
            )
        ),
    ),
    marks=lambda recs: (
        moment(0, first_wait(recs[0]), "thread") + moment(1, peak_moment(recs[1]), "sessions")
    ),
    check=_ws_check,
    figures=lambda recs: {
        "wsgi_sessions_at_once": in_flight_peak(recs[0]),
        "asgi_sessions_at_once": in_flight_peak(recs[1]),
    },
)


# -- c10k -------------------------------------------------------------------------------------


def _loop_threads(rec: Recording) -> int:
    return len({(e.pid, e.tid) for e in rec.events if e.kind == K.SCHED_STEP})


def _c10k_check(recs: Recs) -> list[str]:
    problems = []
    threads = len(threads_used(recs[0]))
    if threads != 10_000:
        problems.append(f"thread-per-request used {threads} threads, not 10,000")
    if _loop_threads(recs[1]) != 1:
        problems.append("the loop side ran on more than one thread")
    if in_flight_peak(recs[1]) != 10_000:
        problems.append("the loop did not hold 10,000 requests at once")
    # What the caption says about latency: one CPU queue on both sides, so the last request
    # ends when the whole queue (plus its I/O) is through, the same on both sides; threads
    # finish each request after its own turn, the loop starts every request before it resumes
    # any, so threads' median is well below the loop's and the loop's is the whole CPU queue.
    cpu_ms = [_cpu_queue_ms(rec) for rec in recs]
    last_ms = [latency_ms(rec, "max") for rec in recs]
    if any(last < cpu for last, cpu in zip(last_ms, cpu_ms, strict=True)):
        problems.append("a side finished its last request before the CPU queue was through")
    if abs(last_ms[0] - last_ms[1]) > 0.05 * max(last_ms):
        problems.append("the last request did not end at about the same time on both sides")
    if latency_ms(recs[0]) >= 0.75 * latency_ms(recs[1]):
        problems.append("threads' median latency is not well below the loop's")
    if latency_ms(recs[1]) < cpu_ms[1]:
        problems.append("the loop finished half its requests before its CPU queue was through")
    return problems


def _cpu_queue_ms(rec: Recording) -> float:
    """CPU time of every request, in ms: what one CPU (the GIL, the loop) must queue."""
    spans = [e for e in rec.events if e.kind in (K.SCHED_STEP, K.SCHED_THREAD)]
    return sum(int(e.data.get("cpu_ns") or 0) for e in spans) / 1e6


def c10k_work() -> Workload:
    """Both simulated sides: 0.1 ms of CPU, then 100 ms of I/O per request."""
    return workload("c10k", {"cpu": "0.1ms"}, {"io": "100ms"})


C10K = Scenario(
    name="c10k",
    texts={
        "en": {
            "title": "C10k (simulated): 10,000 connections, threads vs one loop",
            "caption": "10,000 clients at once, each request 0.1 ms of CPU and 100 ms of I/O. "
            "Top: a thread per request is 10,000 threads, each reserving an 8 MiB stack: about "
            "78 GiB of address space. Bottom: one loop, one thread, a few KiB per coroutine. "
            "Both sides queue the same 10,000 × 0.1 ms = 1 s of CPU on one CPU, so the last "
            "request ends after 1.1 s on both. Threads end each request 100 ms after its own "
            "turn (median 600 ms); the loop starts every waiting request before it resumes "
            "any, so most end only after the whole second (median 1 s).",
            "side0": "10,000 threads",
            "side1": "one event loop",
            "about0": "10,000 clients at once, each request 0.1 ms of CPU and 100 ms of I/O. A thread "
            "per request is 10,000 threads, each reserving an 8 MiB stack: about 78 GiB of "
            "address space.",
            "about1": "10,000 clients at once, each request 0.1 ms of CPU and 100 ms of I/O. One "
            "loop, one thread, a few KiB per coroutine.",
            "peak": "10,000 in flight",
            "peak:caption": "every connection is open now. Count the threads each side needs.",
        },
        "zh": {
            "title": "C10k（模拟）：10,000 个连接，线程与一个事件循环",
            "caption": "同时 10,000 个客户端，每个请求 0.1 毫秒 CPU、100 毫秒 I/O。上：每请求一个线程就是 10,000 个"
            "线程，每个预留 8 MiB 栈，约 78 GiB 地址空间。下：一个事件循环、一个线程，每个协程几 KiB。"
            "两边都要在一个 CPU 上排队完成 10,000 × 0.1 毫秒 = 1 秒的 CPU 工作，所以最后一个请求在两边都是 1.1 秒后结束。"
            "线程在每个请求轮到 CPU 后 100 毫秒就结束它（中位数 600 毫秒）；事件循环先让所有等待的请求都开始，"
            "然后才逐个恢复它们，所以大多数请求要到整整 1 秒后才结束（中位数 1 秒）。",
            "side0": "10,000 个线程",
            "side1": "一个事件循环",
            "about0": "同时 10,000 个客户端，每个请求 0.1 毫秒 CPU、100 毫秒 I/O。每请求一个线程就是 10,000 个"
            "线程，每个预留 8 MiB 栈，约 78 GiB 地址空间。",
            "about1": "同时 10,000 个客户端，每个请求 0.1 毫秒 CPU、100 毫秒 I/O。一个事件循环、一个线程，"
            "每个协程几 KiB。",
            "peak": "10,000 个同时进行",
            "peak:caption": "所有连接此刻都已打开。数一数每边需要多少线程。",
        },
    },
    sides=(
        Side(lambda: Runs(sim=sim_run("threads", c10k_work(), c=10_000, n=10_000, threads=10_000))),
        Side(lambda: Runs(sim=sim_run("loop", c10k_work(), c=10_000, n=10_000))),
    ),
    marks=lambda recs: (
        moment(0, peak_moment(recs[0]), "peak") + moment(1, peak_moment(recs[1]), "peak")
    ),
    check=_c10k_check,
    figures=lambda recs: {
        "threads": len(threads_used(recs[0])),
        "thread_stacks_gib": round(len(threads_used(recs[0])) * STACK_BYTES / 2**30, 1),
        "loop_threads": _loop_threads(recs[1]),
        "cpu_queue_ms": round(_cpu_queue_ms(recs[0]), 1),
        "threads_p50_ms": latency_ms(recs[0]),
        "loop_p50_ms": latency_ms(recs[1]),
        "threads_max_ms": latency_ms(recs[0], "max"),
        "loop_max_ms": latency_ms(recs[1], "max"),
    },
)


_WORKLOADS: dict[str, Callable[[], Workload]] = {
    "IO_WORK": io_work,
    "STREAM_WORK": stream_work,
    "SESSION_WORK": session_work,
    "LONG_RESPONSE_WORK": long_response_work,
    "C10K_WORK": c10k_work,
}


def __getattr__(name: str) -> Workload:
    """The workloads as constants too (``IO_WORK``...), built when first named: a module
    attribute cannot be built lazily otherwise, and building one imports ``sim``."""
    if name in _WORKLOADS:
        return _WORKLOADS[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
