"""Scenarios about who runs the handler: threads, the event loop, the GIL, anyio's thread pool.

``sync-vs-async``, ``blocking-call``, ``cpu-gil`` and ``threadpool-offload``. Each is data: the
runs, the texts in English and Chinese, and the functions that find bookmarks and check the
shape from the recordings' events. The runs and workloads are built when a side's runs are
first made (``Side.make``), so importing the tables imports no ``sim`` or ``tracer.run``.
Imports the demos' builders and shapes only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tracer import events as K
from tracer.demos.build import moment, real_run, sim_run, workload
from tracer.demos.scenario import Moment, Runs, Scenario, Side
from tracer.demos.shapes import (
    blocked,
    cpu_parallelism,
    first_wait,
    in_flight_peak,
    latency_ms,
    longest_thread_wait_ms,
    max_overlap,
    measured_latency_ms,
    middle,
    peak_moment,
    peak_window,
    processes_used,
    serialised,
    summary_of,
    thread_spans,
    threads_used,
)
from tracer.events import Event
from tracer.recording import Recording, usable_cpus

if TYPE_CHECKING:
    from sim.workload import Workload

__all__ = ["SYNC_VS_ASYNC", "BLOCKING_CALL", "CPU_GIL", "THREADPOOL_OFFLOAD", "pool_wait", "TOKENS"]

Recs = Sequence[Recording]


# -- sync-vs-async ----------------------------------------------------------------------------

IO = "sample_apps.io_bound"


def _sync_check(recs: Recs) -> list[str]:
    wsgi, asgi = in_flight_peak(recs[0]), in_flight_peak(recs[1])
    problems = []
    if asgi < 2 * wsgi:
        problems.append(f"ASGI overlap {asgi} is not at least twice WSGI's {wsgi}")
    if len(threads_used(recs[0])) > 4:
        problems.append("WSGI used more than its 4 threads")
    if first_wait(recs[0]) is None:
        problems.append("no WSGI request waited for a thread")
    return problems


SYNC_VS_ASYNC = Scenario(
    name="sync-vs-async",
    texts={
        "en": {
            "title": "Sync vs async: the same 100 ms I/O endpoint",
            "caption": "Top: WSGI on 4 threads. Each request holds a thread while it sleeps, so "
            "only 4 overlap and the rest queue. Bottom: ASGI on one event loop. Every "
            "request awaits its sleep and all 50 overlap. Press m for the key moments.",
            "side0": "WSGI, 4 threads",
            "side1": "ASGI, one event loop",
            "about0": "Each request holds one of the 4 threads while it sleeps 100 ms, so only 4 "
            "overlap and the rest queue.",
            "about1": "Every request awaits its 100 ms sleep on one event loop, so all 50 overlap.",
            "queue": "Requests queue",
            "queue:caption": "all 4 threads are busy sleeping, so this request waits for one.",
            "overlap": "All in flight",
            "overlap:caption": "every request awaits its I/O on one thread, with no queue.",
        },
        "zh": {
            "title": "同步与异步：同一个 100 毫秒 I/O 接口",
            "caption": "上：WSGI，4 个线程。请求睡眠时一直占着线程，只有 4 个能同时进行，其余排队。"
            "下：ASGI，一个事件循环。每个请求都 await 它的睡眠，50 个请求全部重叠。按 m 跳到关键时刻。",
            "side0": "WSGI，4 个线程",
            "side1": "ASGI，一个事件循环",
            "about0": "请求睡眠 100 毫秒时一直占着 4 个线程中的一个，只有 4 个能同时进行，其余排队。",
            "about1": "每个请求在一个事件循环上 await 它的 100 毫秒睡眠，50 个请求全部重叠。",
            "queue": "请求开始排队",
            "queue:caption": "4 个线程都在睡眠中被占用，这个请求只能等待空闲线程。",
            "overlap": "全部同时进行",
            "overlap:caption": "所有请求在同一个线程上 await 各自的 I/O，没有排队。",
        },
    },
    sides=(
        Side(
            lambda: Runs(
                sim=sim_run("threads", workload("io", {"io": "100ms"}), c=50, n=100, threads=4),
                real=real_run(f"{IO}:wsgi_app", "threads", "/?ms=100", c=50, n=100, threads=4),
                quick=real_run(f"{IO}:wsgi_app", "threads", "/?ms=50", c=20, n=40, threads=4),
            )
        ),
        Side(
            lambda: Runs(
                sim=sim_run("loop", workload("io", {"io": "100ms"}), c=50, n=100),
                real=real_run(f"{IO}:asgi_app", "loop", "/?ms=100", c=50, n=100),
                quick=real_run(f"{IO}:asgi_app", "loop", "/?ms=50", c=20, n=40),
            )
        ),
    ),
    marks=lambda recs: (
        moment(0, first_wait(recs[0]), "queue") + moment(1, peak_moment(recs[1]), "overlap")
    ),
    check=_sync_check,
    figures=lambda recs: {
        "wsgi_max_in_flight": in_flight_peak(recs[0]),
        "asgi_max_in_flight": in_flight_peak(recs[1]),
        "wsgi_p50_ms": latency_ms(recs[0]),
        "asgi_p50_ms": latency_ms(recs[1]),
    },
)


# -- blocking-call ----------------------------------------------------------------------------


def _blocking_marks(recs: Recs) -> list[Moment]:
    found = blocked(recs[0])
    marks = moment(0, found[0].t if found else None, "blocked")
    if len(found) > 1:
        marks += moment(0, found[1].t, "next")
    return marks + moment(1, peak_moment(recs[1]), "overlap")


def _blocking_check(recs: Recs) -> list[str]:
    found = blocked(recs[0])
    requests = int(summary_of(recs[0])["completed"])
    problems = []
    if len(found) < requests:
        problems.append(f"{len(found)} loop.blocked for {requests} requests")
    if not serialised(found):
        problems.append("two blocking steps overlapped: the loop was not held")
    # A busy machine can stretch a tiny step past the threshold now and then (the process was
    # descheduled); awaiting must still leave the loop free nearly all of the time.
    if len(blocked(recs[1])) * 4 > requests:
        problems.append("asyncio.sleep blocked the loop")
    if in_flight_peak(recs[1]) < 2 * in_flight_peak(recs[0]):
        problems.append("awaiting did not overlap requests more than blocking")
    return problems


def sleep_work() -> Workload:
    """The simulated blocking side: each request sleeps 100 ms without yielding the loop."""
    return workload("blocking", {"blocking-io": "100ms"})


BLOCKING_CALL = Scenario(
    name="blocking-call",
    texts={
        "en": {
            "title": "A blocking call in async def",
            "caption": "Top: time.sleep(0.1) inside async def. The loop can run nothing else, so "
            "the requests go one after another (red, ▚▚ in the replay: loop blocked). Bottom: await "
            "asyncio.sleep(0.1). The loop runs the others meanwhile. Press m, then space to play.",
            "side0": "time.sleep in async def",
            "side1": "await asyncio.sleep",
            "about0": "The loop can run nothing else during time.sleep(0.1) inside async def, so "
            "the requests go one after another (red, ▚▚ in the replay: loop blocked).",
            "about1": "While a request awaits asyncio.sleep(0.1), the loop runs the others.",
            "blocked": "Loop blocked",
            "blocked:caption": "time.sleep holds the event loop; every other request waits.",
            "next": "Next request",
            "next:caption": "the next request starts only when the sleep returns: one at a time.",
            "overlap": "Awaiting overlaps",
            "overlap:caption": "with await, all requests sleep at the same time.",
        },
        "zh": {
            "title": "async def 里的阻塞调用",
            "caption": "上：在 async def 里调用 time.sleep(0.1)。事件循环无法运行其他任务，请求只能一个接一个"
            "（红色，回放中为 ▚▚：事件循环被阻塞）。下：await asyncio.sleep(0.1)，等待期间事件循环运行其他请求。按 m，再按空格播放。",
            "side0": "async def 中的 time.sleep",
            "side1": "await asyncio.sleep",
            "about0": "async def 里的 time.sleep(0.1) 期间事件循环无法运行其他任务，请求只能一个接一个"
            "（红色，回放中为 ▚▚：事件循环被阻塞）。",
            "about1": "请求 await asyncio.sleep(0.1) 期间，事件循环运行其他请求。",
            "blocked": "事件循环被阻塞",
            "blocked:caption": "time.sleep 占住了事件循环，其他请求都在等待。",
            "next": "下一个请求",
            "next:caption": "睡眠返回后下一个请求才开始：一次只处理一个。",
            "overlap": "await 时重叠",
            "overlap:caption": "使用 await，所有请求同时睡眠。",
        },
    },
    sides=(
        Side(
            lambda: Runs(
                sim=sim_run("loop", sleep_work(), c=10, n=20),
                real=real_run("sample_apps.blocking:app", "loop", "/?ms=100", c=10, n=20),
                quick=real_run("sample_apps.blocking:app", "loop", "/?ms=30", c=5, n=10),
            )
        ),
        Side(
            lambda: Runs(
                sim=sim_run("loop", workload("await", {"io": "100ms"}), c=10, n=20),
                real=real_run(f"{IO}:asgi_app", "loop", "/?ms=100", c=10, n=20),
                quick=real_run(f"{IO}:asgi_app", "loop", "/?ms=30", c=5, n=10),
            )
        ),
    ),
    marks=_blocking_marks,
    check=_blocking_check,
    figures=lambda recs: {
        "blocked_steps": len(blocked(recs[0])),
        "loop_blocked_ms": float(summary_of(recs[0])["loop_blocked_ms"]),
        "blocking_max_in_flight": in_flight_peak(recs[0]),
        "await_max_in_flight": in_flight_peak(recs[1]),
    },
)


# -- cpu-gil ----------------------------------------------------------------------------------


def _overlap_moment(rec: Recording) -> int | None:
    window = peak_window((e.t, e.end) for e in thread_spans(rec))
    return middle(window) if window[0] > 1 else None


def _gil_check(recs: Recs) -> list[str]:
    problems = []
    threads = cpu_parallelism(recs[0])
    if threads > 1.25:
        problems.append(f"threads computed {threads:.2f}x in parallel despite the GIL")
    if max_overlap((e.t, e.end) for e in thread_spans(recs[0]))[0] < 2:
        problems.append("the threads never ran requests at the same time")
    if len(processes_used(recs[1])) < 2:
        problems.append("the processes side used fewer than 2 processes")
    simulated = recs[1].header.get("source") == "simulated"
    if simulated and cpu_parallelism(recs[1]) < 1.5:
        problems.append("simulated processes did not compute in parallel")
    return problems


def _gil_notes(recs: Recs, lang: str) -> list[str]:
    # A real run computes side by side only with a second core free: on a busy machine the
    # processes side shows no parallelism, which the caption promises. Said, not hidden.
    if recs[1].header.get("source") == "simulated":
        return []
    parallel = cpu_parallelism(recs[1])
    if parallel >= 1.5:
        return []
    # The notes are made right after the run, in its process: the cores it could use are ours
    # (its affinity: taskset or a cpuset, not the machine's count).
    one_core = usable_cpus() == 1
    if lang == "zh":
        why = "这个进程只能使用一个核心" if one_core else "没有空闲的另一个核心（机器上有其他工作）"
        return [f"两个进程的并行度只有 {parallel:.2f} 倍，而不是约 2 倍：{why}；--sim 展示模型"]
    why = (
        "only one core is available to this process"
        if one_core
        else "another core was not free for them (other work on the machine)"
    )
    return [
        f"the processes computed {parallel:.2f}x in parallel, not about 2x: {why}; "
        "--sim shows the model"
    ]


def cpu_work() -> Workload:
    """Both simulated sides: 20 ms of pure Python per request."""
    return workload("cpu", {"cpu": "20ms"})


CPU = "sample_apps.cpu_bound:wsgi_app"

CPU_GIL = Scenario(
    name="cpu-gil",
    texts={
        "en": {
            "title": "CPU-bound handlers: threads (one GIL) vs processes",
            "caption": "Each request computes 20 ms of pure Python. Top: 4 threads in one process "
            "take turns holding the GIL, so each request takes about 4x longer and throughput "
            "does not grow. Bottom: 2 processes, each with its own GIL, compute side by side.",
            "side0": "4 threads, one process",
            "side1": "2 processes",
            "about0": "Each request computes 20 ms of pure Python. 4 threads in one process take "
            "turns holding the GIL, so each request takes about 4x longer and throughput does "
            "not grow.",
            "about1": "Each request computes 20 ms of pure Python. 2 processes, each with its "
            "own GIL, compute side by side.",
            "gil": "Threads share the GIL",
            "gil:caption": "4 requests are running, but only one thread computes at a time.",
            "cores": "Processes in parallel",
            "cores:caption": "two processes, two GILs: two requests compute at once.",
        },
        "zh": {
            "title": "CPU 密集型处理：线程（一个 GIL）与进程",
            "caption": "每个请求执行 20 毫秒纯 Python 计算。上：同一进程中的 4 个线程轮流持有 GIL，每个请求"
            "大约慢 4 倍，吞吐量没有提高。下：2 个进程各有自己的 GIL，可以并行计算。",
            "side0": "4 个线程，一个进程",
            "side1": "2 个进程",
            "about0": "每个请求执行 20 毫秒纯 Python 计算。同一进程中的 4 个线程轮流持有 GIL，每个请求"
            "大约慢 4 倍，吞吐量没有提高。",
            "about1": "每个请求执行 20 毫秒纯 Python 计算。2 个进程各有自己的 GIL，可以并行计算。",
            "gil": "线程共享 GIL",
            "gil:caption": "4 个请求都在“运行”，但同一时刻只有一个线程在计算。",
            "cores": "进程并行",
            "cores:caption": "两个进程、两个 GIL：两个请求同时计算。",
        },
    },
    sides=(
        Side(
            lambda: Runs(
                sim=sim_run("threads", cpu_work(), c=4, n=40, threads=4),
                # 40 requests for real too, as simulated: the same scenario both ways (about 0.8 s
                # of CPU on the threads and 0.4 s on the processes, a budget a lecture affords).
                real=real_run(CPU, "threads", "/?ms=20", c=4, n=40, threads=4),
                quick=real_run(CPU, "threads", "/?ms=10", c=4, n=8, threads=4),
            )
        ),
        Side(
            lambda: Runs(
                sim=sim_run("processes", cpu_work(), c=4, n=40, workers=2, threads=1),
                real=real_run(CPU, "processes", "/?ms=20", c=4, n=40, workers=2, threads=1),
                quick=real_run(CPU, "processes", "/?ms=10", c=4, n=8, workers=2, threads=1),
            )
        ),
    ),
    marks=lambda recs: (
        moment(0, _overlap_moment(recs[0]), "gil") + moment(1, _overlap_moment(recs[1]), "cores")
    ),
    check=_gil_check,
    notes=_gil_notes,
    figures=lambda recs: {
        "threads_cpu_parallelism": round(cpu_parallelism(recs[0]), 2),
        "processes_cpu_parallelism": round(cpu_parallelism(recs[1]), 2),
        "threads_p50_ms": latency_ms(recs[0]),
        "processes_p50_ms": latency_ms(recs[1]),
    },
)


# -- threadpool-offload -----------------------------------------------------------------------


TOKENS = 40
"""anyio's default thread limiter: ``CapacityLimiter(40)``."""


def pool_wait(rec: Recording, tokens: int = TOKENS) -> tuple[int, int] | None:
    """The first request that had to wait for a thread-pool token: ``(req, when it asked)``
    (its wait begins there; it got a token only when a pool thread finished).

    A request asks for a pool thread when a step of it suspends awaiting
    ``to_thread.run_sync`` and holds a token until that hop ends. It had to wait when, as it
    asked, ``tokens`` other requests already held (or awaited) one: counted, not timed.
    """
    asked: list[tuple[int, int]] = []
    hops: dict[int, list[Event]] = {}
    for e in rec.events:
        if e.req is None:
            continue
        if e.kind == K.SCHED_STEP and "to_thread" in str(e.data.get("awaiting") or ""):
            asked.append((e.end, e.req))
        elif e.kind == K.SCHED_THREAD:
            hops.setdefault(e.req, []).append(e)
    first_ask: dict[int, tuple[int, int, int, int]] = {}  # hop seq -> (asked, start, end, req)
    for t, req in sorted(asked):
        # The worker may start the hop a moment before the loop records the step's end, and
        # one await of a hop can span several steps: the first ask of each hop counts.
        hop = next((h for h in hops.get(req, ()) if h.end >= t), None)
        if hop is not None and hop.seq not in first_ask:
            first_ask[hop.seq] = (t, hop.t, hop.end, req)
    held = sorted(first_ask.values())
    for i, (t, _, _, req) in enumerate(held):
        ahead = sum(1 for _, _, end, _ in held[:i] if end > t)  # tokens taken when it asked
        if ahead >= tokens:
            return req, t
    return None


def _pool_peak(rec: Recording) -> tuple[int, int]:
    window = peak_window((e.t, e.end) for e in thread_spans(rec))
    return window[0], middle(window)


def _pool_check(recs: Recs) -> list[str]:
    problems = []
    under, over = _pool_peak(recs[0])[0], _pool_peak(recs[1])[0]
    if over != TOKENS:
        problems.append(f"{over} pool threads at once past 40 requests (anyio allows 40)")
    if under > 40:
        problems.append(f"{under} pool threads at once with 40 clients")
    if pool_wait(recs[1]) is None:
        problems.append("no request waited for a thread-pool token with 50 clients")
    if pool_wait(recs[0]) is not None:
        problems.append("a request waited for a token with only 40 clients")
    return problems


def _pool_notes(recs: Recs, lang: str) -> list[str]:
    # A real loop hands its requests to pool threads one after another, a few loop steps each
    # (anyio's checkpoint, the token, a worker made or woken) on cores the in-process load
    # generator shares: the 40th of a burst gets its thread tens of ms after the first, a wait
    # the model (one instant hop) does not have. Said, so the real top side's wait and its
    # slower tail are not read as a missing token.
    if recs[0].header.get("source") == "simulated":
        return []
    waited = longest_thread_wait_ms(recs[0])
    if waited < 1:
        return []
    if lang == "zh":
        return [
            f"40 个客户端时，最久一个请求等了 {waited:g} 毫秒才得到线程：令牌够用，"
            "但唯一的事件循环要一个接一个地把请求交给线程池（每个要几步）；--sim 展示模型"
        ]
    return [
        f"with 40 clients a request waited up to {waited:g} ms for its thread: there were tokens "
        "enough, but the one loop hands the requests to the pool one after another, a few "
        "steps each; --sim shows the model"
    ]


FASTAPI = "sample_apps.fastapi_app:app"


def sync_work() -> Workload:
    """FastAPI runs a ``def`` endpoint in the thread pool, then, because it declares a return
    type, validates the value through ``run_in_threadpool`` again (``serialize_response``): two
    hops per request, the second waiting for a token like the first (a real run records two
    ``sched.thread``, the second of about 5 µs)."""
    return workload(
        "def-endpoint",
        {"offload": {"io": "500ms"}},  # the def endpoint, in run_in_threadpool
        {"offload": {"cpu": "5us"}},  # validating its `-> str` return value: a second hop
    )


THREADPOOL_OFFLOAD = Scenario(
    name="threadpool-offload",
    texts={
        "en": {
            "title": "FastAPI def endpoints and anyio's 40-token thread pool",
            "caption": "A plain def endpoint (time.sleep 500 ms) runs in anyio's thread pool, "
            "which hands out 40 tokens. Top: 40 clients, so there is a token for every request and none "
            "waits for another's thread to finish. Bottom: 50 clients. The 41st request queues "
            "for a token even though the loop is idle.",
            "side0": "40 concurrent requests",
            "side1": "50 concurrent requests",
            "about0": "A plain def endpoint (time.sleep 500 ms) runs in anyio's thread pool, which "
            "hands out 40 tokens. With 40 clients there is a token for every request: none waits for "
            "another's thread to finish.",
            "about1": "A plain def endpoint (time.sleep 500 ms) runs in anyio's thread pool, which "
            "hands out 40 tokens. With 50 clients the 41st request queues for a token even though "
            "the loop is idle.",
            "full": "Pool full",
            "full:caption": "40 worker threads busy: anyio's CapacityLimiter(40) is exhausted.",
            "token": "41st request queues",
            "token:caption": "no token left. This request waits for a pool thread to finish.",
        },
        "zh": {
            "title": "FastAPI 的 def 接口与 anyio 的 40 令牌线程池",
            "caption": "普通 def 接口（time.sleep 500 毫秒）在 anyio 线程池中运行，线程池只发 40 个令牌。"
            "上：40 个客户端，每个请求都有令牌，不必等别的请求的线程结束。"
            "下：50 个客户端，即使事件循环空闲，第 41 个请求也要排队等令牌。",
            "side0": "40 个并发请求",
            "side1": "50 个并发请求",
            "about0": "普通 def 接口（time.sleep 500 毫秒）在 anyio 线程池中运行，线程池只发 40 个令牌。"
            "40 个客户端时，每个请求都有令牌，不必等别的请求的线程结束。",
            "about1": "普通 def 接口（time.sleep 500 毫秒）在 anyio 线程池中运行，线程池只发 40 个令牌。"
            "50 个客户端时，即使事件循环空闲，第 41 个请求也要排队等令牌。",
            "full": "线程池已满",
            "full:caption": "40 个工作线程全忙：anyio 的 CapacityLimiter(40) 用完了。",
            "token": "第 41 个请求排队",
            "token:caption": "没有令牌了，这个请求要等某个线程池线程结束。",
        },
    },
    sides=(
        Side(
            lambda: Runs(
                sim=sim_run("loop", sync_work(), c=40, n=80),
                real=real_run(FASTAPI, "loop", "/sync?ms=500", c=40, n=80),
                quick=real_run(FASTAPI, "loop", "/sync?ms=400", c=40, n=40),
            )
        ),
        Side(
            lambda: Runs(
                sim=sim_run("loop", sync_work(), c=50, n=100),
                real=real_run(FASTAPI, "loop", "/sync?ms=500", c=50, n=100),
                quick=real_run(FASTAPI, "loop", "/sync?ms=400", c=50, n=50),
            )
        ),
    ),
    marks=lambda recs: (
        moment(0, _pool_peak(recs[0])[1], "full")
        + moment(1, _pool_peak(recs[1])[1], "full")
        + moment(1, pool_wait(recs[1]), "token")
    ),
    check=_pool_check,
    notes=_pool_notes,
    figures=lambda recs: {
        "pool_peak_40_clients": _pool_peak(recs[0])[0],
        "pool_peak_50_clients": _pool_peak(recs[1])[0],
        # The 41st request's wait shows in the slowest (a p99 only of a side with 100
        # requests or more: 40 clients make 80).
        "thread_wait_ms_40_clients": longest_thread_wait_ms(recs[0]),
        "thread_wait_ms_50_clients": longest_thread_wait_ms(recs[1]),
        **measured_latency_ms(recs, ("p99", "max"), ("40_clients", "50_clients")),
    },
)


_WORKLOADS: dict[str, Callable[[], Workload]] = {
    "SLEEP_WORK": sleep_work,
    "CPU_WORK": cpu_work,
    "SYNC_WORK": sync_work,
}


def __getattr__(name: str) -> Workload:
    """The workloads as constants too (``SLEEP_WORK``...), built when first named: a module
    attribute cannot be built lazily otherwise, and building one imports ``sim``."""
    if name in _WORKLOADS:
        return _WORKLOADS[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
