"""The names a Perfetto trace gives its processes and threads (its ``M`` metadata events),
and the language its title and bookmarks are said in.

A server process is ``APP (MODEL) pid N``; the ``trace`` process beside a real server, which
only sent the load, is ``load generator (trace) pid N``, and beside an in-process server its
client thread is ``... (load generator)``; event loops are marked ``(event loop)`` and sorted
first. Known once every event is read, so ``tracer.export.perfetto`` writes them last.
``said_in`` gives the trace's title and a demo's bookmarks in one language, as the figures say
them. Imports the recording model and ``tracer.export`` helpers; the demos' texts only for a
demo's recording (``tracer.export.titles.said_in``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from tracer import events as K
from tracer.digest import ThreadKey
from tracer.events import Event
from tracer.export import titles
from tracer.export.trace_threads import TraceThreads
from tracer.recording import Recording

__all__ = ["names", "said_in"]


def said_in(shell: Recording, lang: str | None) -> tuple[str, Callable[[Event], Event]]:
    """The trace's title in ``lang`` (None: the language the recording was made in), and what
    turns each of the recording's events into the one the trace shows: a demo's bookmark with
    its label and caption in ``lang`` (``tracer.demos.language``), any other event as it is.

    ``shell``: the recording's header (its events are not needed: a file is read as it is
    exported). The title is wholly in ``lang``: a Chinese demo's side name with "：" and
    "（模拟）", an English one with ": " and " (simulated)"; the app and server model stay as
    typed. ``UsageError`` for a language there are no texts in.
    """
    [said], _, lang = titles.said_in([shell], lang)
    title = said.title_in(lang)
    if not isinstance(shell.header.get("demo"), dict):
        return title, _as_recorded
    from tracer.demos.language import in_language

    def in_lang(event: Event) -> Event:
        if event.kind != K.MARK:
            return event
        # A recording of this one mark: ``in_language`` remakes a bookmark as the replay does.
        return in_language(Recording(header=shell.header, events=[event]), lang).events[0]

    return title, in_lang


def _as_recorded(event: Event) -> Event:
    return event


def names(
    header: dict[str, Any],
    thread_ids: TraceThreads,
    *,
    pids: Collection[int],
    threads: dict[ThreadKey, str],
    loops: Collection[ThreadKey],
    serving: Collection[int],
    serving_threads: Collection[ThreadKey],
) -> list[dict[str, Any]]:
    """The ``process_name`` of each of ``pids``, then the ``thread_name`` and
    ``thread_sort_index`` of each of ``threads`` (its ``thread_key`` -> its name, numbered
    where threads share one), in the order of their trace ids (``thread_ids``).

    ``loops``: the threads that ran coroutine steps; ``serving`` and ``serving_threads``: the
    processes and threads that recorded something besides the load they sent (the others
    are the load generator's, unless the recording is a simulation's, whose arrivals are
    recorded on a modelled server thread).
    """
    out: list[dict[str, Any]] = []
    app = header.get("app") or "app"
    model = (header.get("server") or {}).get("model")
    # A simulation records arrivals on a modelled server thread: no client of ours there.
    simulated = header.get("source") == "simulated"
    ids = thread_ids.ids
    for pid in sorted(pids):
        if pid not in serving and not simulated:  # trace itself, beside a real server
            name = f"load generator (trace) pid {pid}"
        elif model:
            name = f"{app} ({model}) pid {pid}"
        else:
            name = f"{app} pid {pid}"
        args: dict[str, Any] = {"name": name}
        if ids.pid(pid) != pid:
            args["pid"] = pid  # the recorded one, which Perfetto could not take
        out.append({"ph": "M", "name": "process_name", "pid": ids.pid(pid), "tid": 0, "args": args})
    for thread, name in sorted(threads.items(), key=lambda item: thread_ids.ids_of(item[0])):
        loop = thread in loops
        number = thread_ids.ids_of(thread)
        common = {"ph": "M", "pid": number[0], "tid": number[1]}
        label = f"{name} (event loop)" if loop else name
        if thread not in serving_threads and not simulated:
            label = f"{name} (load generator)"  # the client, beside an in-process server
        args = {"name": label, "thread_ident": thread[1]}  # the recorded ident, for reference
        out.append({**common, "name": "thread_name", "args": args})
        out.append(
            {**common, "name": "thread_sort_index", "args": {"sort_index": 0 if loop else 1}}
        )
    return out
