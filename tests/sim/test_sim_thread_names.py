"""Simulated threads are named as the server each model stands for names its own."""

from __future__ import annotations

from typing import Any

from tracer import events as K


def _threads(recording: Any) -> set[tuple[int, int, str]]:
    return {(e.pid, e.tid, e.thread) for e in recording.events if e.kind == K.REQUEST_START}


def test_threads_model_names_them_as_waitress(recorded: Any) -> None:
    _, recording = recorded(model="threads", concurrency=4, requests=4, io="10ms")
    assert _threads(recording) == {(1000, 2 + i, f"waitress-{i}") for i in range(4)}


def test_gunicorn_sync_runs_requests_on_each_process_main_thread(recorded: Any) -> None:
    """processes with 1 thread (gunicorn sync): the request runs on the worker's MainThread."""
    _, recording = recorded(model="processes", workers=2, concurrency=2, requests=2, io="10ms")
    assert _threads(recording) == {(1000, 1, "MainThread"), (1001, 1, "MainThread")}


def test_gunicorn_gthread_names_its_executor_threads(recorded: Any) -> None:
    _, recording = recorded(
        model="processes", workers=1, threads=2, concurrency=2, requests=2, io="10ms"
    )
    assert _threads(recording) == {
        (1000, 2, "ThreadPoolExecutor-0_0"),
        (1000, 3, "ThreadPoolExecutor-0_1"),
    }


def test_wsgi_on_loop_keeps_asgiref_executor_name(recorded: Any) -> None:
    _, recording = recorded(model="wsgi-on-loop", concurrency=2, requests=2, io="10ms")
    assert _threads(recording) == {(1000, 2, "ThreadPoolExecutor-0_0")}
