"""The headless report of a run: the summary table ``trace run`` and ``trace summary`` print.

Requests, throughput, latency percentiles, time queued, the client's time to first byte,
the latency of each route when there are several (the busiest ten), status codes, errors, the
most requests in flight, loop blocking with its worst places (file:line) and how many requests
each delayed, how long work handed to a thread pool waited for a worker thread, how busy each
worker thread was, and protocol violations. Rendered with rich on an injected ``Console``. A
percentile is shown only of a sample large enough to measure it (``measures``): p99 of four
requests would read as if measured.

A number is never cut, at any width: its column neither wraps nor shrinks below the widest
value, and a table that would not fit the width it is printed in takes its narrow form
(``_Fitted``): the latency table turned on its side (one row per percentile, a column each for
total and queued); the other tables without their inner borders, a header over two lines
(``busy`` over ``ms``), the workers' and the routes' short (``reqs``, ``util``). A thread's
name or a route keeps its row to one line, cut in the middle when its column is too narrow
(``AnyI…d #2``: the end tells a pool's threads apart). Below about 40 columns even those are
printed wider than the terminal, which wraps their lines, rather than drop a digit.
Each figure is written by its kind's rule (``tracer.figures``): counts grouped (``1,000``),
rates and times in ms to three significant digits below 10, one decimal from 10 (``2.35``,
``1,234.6``), rates in ``req/s``; a column's figures line up on their decimal point, padded on
the right (``3.1 `` under ``3.13``: ``tracer.report_columns``), their text unchanged. Imports
the spine, ``tracer.digest``, ``tracer.routes``, ``tracer.figures`` and
``tracer.report_columns``; never a shim, a server model or the TUI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from tracer import figures
from tracer.digest import REPORT_KEYS, Digest, ReportDetails
from tracer.printable import printable
from tracer.recording import Recording, RecordingWriter
from tracer.report_columns import Figure, aligned
from tracer.routes import ROUTE_KEYS

__all__ = ["NONE", "OFF_LINUX_NOTE", "measures", "off_linux", "print_report", "render_report"]

NONE = "–"
"""A figure there is none of (a percentile its sample does not measure): an en dash, as the
dashboard's header, the replay's panel and the HTML page write it. An encoding that cannot
take it writes ``-`` (``tracer.cli.encoding``)."""


def render_report(
    recording: Recording, summary: dict[str, Any], details: ReportDetails | None = None
) -> Group:
    """The report as a rich renderable (``details`` computed from the events when None)."""
    if details is None:
        digest = Digest()
        digest.feed(recording.events)
        details = digest.details()
    parts: list[Any] = [_data(recording.title, style="bold")]
    parts.append(_overview(summary, details, _cores(recording.header), recording.header))
    parts.extend(_latency(summary, details))
    if details.route_count > 1:
        parts.append(_routes(details))
    if details.culprits:
        parts.append(_culprits(summary, details))
        if any(culprit.delayed_partial for culprit in details.culprits):
            parts.append(Text(PARTIAL_DELAYS, style="yellow"))
    if details.workers:
        parts.append(_workers(details))
    if details.errors or details.violations:
        parts.append(_problems(details))
    if details.replaced_waits:
        parts.append(Text(_waited_for_new_worker(details), style="yellow"))
    if recording.unfinished:
        # A .gz stream still being written (or killed between writes) reads as cut short too,
        # though no line of it was: the same words as for a plain file then.
        cut = recording.truncated and not (
            recording.path is not None and RecordingWriter.left_open(recording.path)
        )
        said = (
            "ends with a cut-short line (the run was interrupted)"
            if cut
            else "ends before its run did (its process was killed, or is still writing it)"
        )
        parts.append(Text(f"The recording {said}.", style="yellow"))
    else:
        shortfall = _shortfall(recording.header.get("load") or {}, summary)
        if shortfall:
            parts.append(Text(shortfall, style="yellow"))
    if _failed_as_asgi2(summary, details):
        parts.append(Text(ASGI2_FAILED, style="yellow"))
    return Group(*parts)


def _waited_for_new_worker(details: ReportDetails) -> str:
    """The line saying how many requests waited for a worker started in place of one that
    ended, and the longest wait (``ReportDetails.replaced_waits``): time a server spent
    replacing a worker (uvicorn starts the next only once its health check of the one that
    exited has waited 5 s) reads otherwise as a slow app."""
    count = details.replaced_waits
    said = "1 request" if count == 1 else f"{count} requests"
    return (
        f"{said} waited up to {_duration(details.replaced_wait_ms)} for a worker the server "
        "started in place of one that ended."
    )


def _duration(ms: float) -> str:
    """A duration in its largest unit (``7.8 s``, ``12.0 ms``): ``figures.duration``."""
    return figures.duration(ms * 1e6)


ASGI2_FAILED = (
    "Every request failed, and APP was served as an ASGI 2 app (a class or a one-argument "
    "function, called with the scope alone). If APP names the app's class, a view or a "
    "function that makes the app, point APP at the app itself, or pass --factory for a "
    "function of no arguments that returns it."
)
"""What the report adds when every request of an ASGI 2 app failed: APP is most likely not
the app (uvicorn takes such an object for ASGI 2 too, and the framework's own error on each
request says nothing of it)."""


def _failed_as_asgi2(summary: dict[str, Any], details: ReportDetails) -> bool:
    """Every request was served as ASGI 2 and failed."""
    requests = summary["requests"]
    return bool(requests) and details.asgi2_requests == requests == summary["errors"]


def _shortfall(load: dict[str, Any], summary: dict[str, Any]) -> str | None:
    """What a run killed between two lines (no cut-short line) lacks of what it asked for.

    A ``-n`` run is short of requests; a ``-z`` run's requests end before its duration. A
    closed loop sends until the end; an open loop's arrivals are Poisson, so its last may come
    well before the end: ten mean gaps of slack leave a false note once in 20,000 runs.
    """
    asked = load.get("requests")
    if type(asked) is int and summary["requests"] < asked:
        return (
            f"It holds {_count(summary['requests'])} of the {_count(asked)} requests the run asked "
            "for: the run was stopped early or cut short."
        )
    duration, rate = _number(load.get("duration_s")), _number(load.get("rate"))
    if asked is None and duration is not None and summary["requests"]:
        slack = max(0.1, 10 / rate if rate is not None and rate > 0 else 0.0)
        if summary["wall_s"] + slack < duration:
            return (
                f"Its requests span {summary['wall_s']:.1f} s of the {duration:g} s the run "
                "asked for: the run was stopped early or cut short."
            )
    return None


def _data(value: Any, style: str = "") -> Text:
    """A string from the recording as a cell: shown as it is, never obeyed.

    A plain ``str`` cell is parsed as rich markup (``pages/[slug]/x.py`` loses ``[slug]``,
    ``[/]`` raises MarkupError) and emoji codes (``sim:key:x`` shows a key); a ``Text`` is
    neither. Control characters become visible escapes, so a cell cut for width cuts plain
    text, never an escape sequence.
    """
    return Text(printable(str(value)), style=style)


def _number(value: Any) -> float | None:
    """``value`` when it is an int or a float (not a bool), else None."""
    return value if type(value) in (int, float) else None


def print_report(
    recording: Recording,
    summary: dict[str, Any],
    *,
    console: Console | None = None,
    details: ReportDetails | None = None,
) -> None:
    """Print the report of ``recording`` (whose ``summary`` was already computed).

    Not cropped to the console's width: a table too wide for a very narrow terminal (its
    narrow form included) has its lines wrapped by the terminal, its numbers whole."""
    (console or Console()).print(render_report(recording, summary, details), crop=False)


def _cores(header: dict[str, Any]) -> str | None:
    """A simulation's cores (``trace sim --cpus``), as the report's row says them; None for a
    real run, whose machine the header's ``host`` describes."""
    if header.get("source") != "simulated":
        return None
    cpus = (header.get("server") or {}).get("cpus")
    if cpus is None:
        return "unlimited (--cpus N sets them)"
    return f"{cpus} (--cpus)"


def _overview(
    summary: dict[str, Any],
    details: ReportDetails,
    cores: str | None,
    header: dict[str, Any] | None = None,
) -> Table:
    table = Table(title="Run", title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    status = (
        ", ".join(f"{code}: {_count(count)}" for code, count in summary["status"].items()) or "none"
    )
    rows: list[tuple[str, str | Text]] = [
        ("requests", f"{_count(summary['requests'])} ({_count(summary['completed'])} completed)"),
        ("wall time", f"{summary['wall_s']:.3f} s"),
        ("throughput", _throughput(summary, details)),
        ("status codes", _data(status)),  # the codes are whatever request.end said
        ("errors", f"{_count(summary['errors'])} ({_count(details.timeouts)} timeouts)"),
        *_not_errors(summary),
        ("max in flight", _count(summary["max_in_flight"])),
        *_clients(summary, details, header),
        ("loop blocked", _blocked(summary, details, header)),
        *_lifespan_blocked(details),
        *_pool_wait(summary),
        ("violations", _count(summary["violations"])),
    ]
    if not _has_loop(details, header):
        # A WSGI app's run: no event loop to block, so no line saying it was not.
        rows = [row for row in rows if row[0] != "loop blocked"]
    if cores is not None:
        rows.append(("simulated cores", cores))
    if details.resent:
        # The server may have seen these twice (a worker that died on the first try included).
        rows.append(
            (
                "resent",
                f"{_count(details.resent)} (connection closed as they went out, "
                "or refused by the server's HTTP/2 GOAWAY)",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    return table


def _not_errors(summary: dict[str, Any]) -> list[tuple[str, str | Text]]:
    """What ended otherwise than planned without being an error, when the summary has it:
    responses cut short, responses the client left on purpose, and each failed lifespan
    startup or shutdown with what the app said (a string from the recording: ``_data``)."""
    rows: list[tuple[str, str | Text]] = []
    cut = summary.get("cut_short")
    if cut:
        rows.append(
            (
                "cut short",
                f"{_count(cut)} (started, not all sent: the client left; no error)",
            )
        )
    closed = summary.get("client_closed")
    if closed:
        rows.append(
            (
                "closed by client",
                f"{_count(closed)} (the client stopped reading on purpose; no error)",
            )
        )
    codes = summary.get("ws_close_codes")
    if isinstance(codes, dict) and codes:
        # Each session's close code: the server's answer, an error only for the codes that
        # say the session broke (tracer.ws_close).
        shown = ", ".join(f"{code} ×{_count(count)}" for code, count in codes.items())
        rows.append(
            ("ws closes", f"{shown} (by close code; an error only when it says the session broke)")
        )
    for failure in summary.get("lifespan_failed") or ():
        said = failure.get("message") or "no message given"
        rows.append(
            ("lifespan", _data(f"{failure.get('phase')} failed (pid {failure.get('pid')}): {said}"))
        )
    return rows


def _lifespan_blocked(details: ReportDetails) -> list[tuple[str, str]]:
    """How long the lifespan connections held the loop, which the run's "loop blocked" and
    the Workers table leave out (it is not the load's): before the load (the startup), while
    it ran (tasks the lifespan started) and after it (the shutdown)."""
    before, after, during = details.lifespan_blocked_ms
    parts = [
        f"{_ms(ms)} ms {when}"
        for ms, when in ((before, "before the load"), (during, "during it"), (after, "after it"))
        if ms
    ]
    if not parts:
        return []
    return [("lifespan", f"blocked the loop {', '.join(parts)}")]


def _pool_wait(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """How long the work requests handed to a thread pool waited for a worker thread (the
    summary's ``thread_pool_wait_ms``), when a hop said it: a ``def`` endpoint waiting for one
    of anyio's tokens reads otherwise as a slow app. A percentile only of a sample that
    measures it (``measures``)."""
    waits = summary.get("thread_pool_wait_ms")
    if not isinstance(waits, dict) or not waits.get("count"):
        return []
    count = waits["count"]
    figures = " · ".join(
        f"{key} {_ms(waits.get(key))}"
        for key in ("p50", "p99", "max")
        if key in waits and measures(key, count)
    )
    said = "1 hop" if count == 1 else f"{_count(count)} hops"
    return [("thread pool wait", f"{figures} ms ({said}, for a worker thread)")]


def _clients(
    summary: dict[str, Any], details: ReportDetails, header: dict[str, Any] | None
) -> list[tuple[str, str]]:
    """A closed loop's clients, and how many requests were out at once on average (Little's
    law: throughput x mean latency). Fewer than the clients means they were slow to send their
    next request: an in-process load generator shares the GIL with a WSGI app's threads, so
    ``-c 50`` against a hello world keeps about 17 out, not 50."""
    load = (header or {}).get("load")
    clients = load.get("concurrency") if isinstance(load, dict) else None
    rps, mean = _rps(summary, details), summary["latency_ms"].get("mean")
    if type(clients) is not int or clients < 1 or not rps or mean is None:
        return []
    return [
        ("clients", f"{_count(clients)} (on average {rps * mean / 1000:.1f} requests out at once)")
    ]


def _rps(summary: dict[str, Any], details: ReportDetails) -> float | None:
    """The run's throughput unrounded (the digest's), else the summary's rounded one."""
    return details.rps if details.rps is not None else summary["rps"]


def _throughput(summary: dict[str, Any], details: ReportDetails) -> str:
    # Completed counts every request that ended, timed out and failed ones too (the summary's
    # definition): with errors, say how many of those per second ended well.
    rps = _rps(summary, details)
    if rps is None:  # every request ended the instant the first began
        return "n/a (zero time)"
    unit = figures.RATE_UNIT
    text = f"{figures.rate(rps)} {unit}"
    completed, errors = summary["completed"], summary["errors"]
    if errors and completed:
        good = rps * max(0, completed - errors) / completed
        text += f" ({figures.rate(good)} {unit} without an error)"
    return text


def _has_loop(details: ReportDetails, header: dict[str, Any] | None) -> bool:
    """Whether the run had an event loop: one ran request code, or the app is ASGI (an ASGI
    run that recorded no request still had its loop)."""
    return details.loop or (header or {}).get("interface") == "asgi"


OFF_LINUX_NOTE = (
    "(off Linux, a block's wait for other threads or a CPU is not measured: "
    "all of it counts as the app's)"
)
"""What the loop-blocked line adds for a recording made off Linux: the kernel's view of the
loop thread (``/proc``) that tells a starved step from the app's own work is Linux's alone
(``tracer.shim.kernel``), so the breakdown's zeros there were never measured."""


def off_linux(header: dict[str, Any] | None) -> bool:
    """Whether the recording says it was made off Linux: its header's ``host.platform``
    (``sys.platform``) is another system's. A simulation (no ``host``) and a header without
    the platform are not."""
    host = (header or {}).get("host")
    platform = host.get("platform") if isinstance(host, dict) else None
    return isinstance(platform, str) and not platform.startswith("linux")


def _blocked(
    summary: dict[str, Any], details: ReportDetails, header: dict[str, Any] | None = None
) -> str:
    text = f"{_ms(summary['loop_blocked_ms'])} ms"
    said = []
    if details.busy_machine_ms:
        said.append(f"{_ms(details.busy_machine_ms)} ms waiting for a CPU: the machine was busy")
    if others := round(details.starved_ms - details.busy_machine_ms, 3):
        said.append(f"{_ms(others)} ms waiting on other threads")
    if details.gc_ms:
        said.append(f"{_ms(details.gc_ms)} ms collecting garbage")
    if said:
        text += f" ({', '.join(said)})"
    if summary["loop_blocked_ms"] and off_linux(header):
        # Said once the loop blocked at all: the zeros of the breakdown were not measured.
        text += f" {OFF_LINUX_NOTE}"
    return text


def measures(key: str, values: int) -> bool:
    """Whether ``values`` values measure the figure ``key``: ``mean`` and ``max`` any sample
    of one or more; a percentile pX one of 100 / (100 - X) values or more (p50: 2, p90: 10,
    p99: 100, p99.9: 1,000), so at least one value lies above it. Of fewer, pX is drawn
    between the top values (p99.9 of four streams is their max, within rounding): it would
    read as a measure of a tail the sample does not have."""
    if not key.startswith("p"):
        return values > 0
    return values * (100 - Fraction(key[1:])) >= 100


def _latency(summary: dict[str, Any], details: ReportDetails) -> list[Any]:
    """The latency table, and a line naming the percentiles it leaves out, if any (a line
    alone when no request finished).

    Rows: the total (arrival to end), the time queued, and the client's time to first byte
    when the recording has it. A column (a row, on its side) only for the figures some row's
    sample measures (``measures``); a row's figure its own sample does not measure is
    ``NONE``."""
    samples = [
        ("total", summary["latency_ms"], details.latencies),
        ("queued", details.queue_ms, details.queued),
    ]
    if details.ttfb_ms:
        samples.append(("first byte", details.ttfb_ms, details.ttfbs))
    keys = tuple(key for key in REPORT_KEYS if any(measures(key, count) for _, _, count in samples))
    if not keys:  # not one value: a table of labels alone would say nothing
        return [Text("Latency: no request finished.")]
    rows = {
        label: [_ms(figures.get(key)) if measures(key, count) else NONE for key in keys]
        for label, figures, count in samples
    }
    wide = _table("Latency (ms)")
    _labels(wide, "", list(rows))
    cells = _numbers(wide, keys, list(rows.values()))
    for label, row in zip(rows, cells, strict=True):
        wide.add_row(label, *row)
    # On its side: a column per row whatever the percentiles, so it fits 40 columns.
    tall = _table("Latency (ms)")
    _labels(tall, "", keys)
    by_key = [[values[i] for values in rows.values()] for i in range(len(keys))]
    cells = _numbers(tall, list(rows), by_key)
    for key, row in zip(keys, cells, strict=True):
        tall.add_row(key, *row)
    parts: list[Any] = [_Fitted(wide, tall)]
    unmeasured = [
        key
        for key in REPORT_KEYS
        if key.startswith("p") and not all(measures(key, count) for _, _, count in samples)
    ]
    if unmeasured:
        needs = ", ".join(f"{key} {_needed(key):,}" for key in unmeasured)
        counts = {count for _, _, count in samples}
        here = (
            f"{counts.pop():,}"
            if len(counts) == 1
            else ", ".join(f"{label} {count:,}" for label, _, count in samples)
        )
        parts.append(
            Text(f"A percentile needs enough values to be measured: {needs} (here {here}).")
        )
    return parts


def _routes(details: ReportDetails) -> _Fitted:
    """The latency of each route, the routes that took the most time (their latencies added
    up) first, the rest counted in a last line: a run of thousands of paths without templates
    stays a short table. A percentile column only when some route's sample measures it, a
    route's figure its own sample does not measure ``NONE`` (``measures``, as the latency
    table); the errors column only when a route shown had any."""
    shown = details.routes
    keys = [key for key in ROUTE_KEYS if any(measures(key, r.latencies) for r in shown)]
    with_errors = any(route.errors for route in shown)
    names = [_data(route.route) for route in shown]
    rows = [
        [
            _count(route.requests),
            *([_count(route.errors)] if with_errors else []),
            *[
                _ms(route.latency_ms.get(key)) if measures(key, route.latencies) else NONE
                for key in keys
            ],
        ]
        for route in shown
    ]
    more = details.route_count - len(shown)
    layouts = []
    for narrow, (requests, errors) in ((False, ("requests", "errors")), (True, ("reqs", "errs"))):
        table = _table("Latency by route (ms)", narrow=narrow)
        longest = max((name.cell_len for name in names), default=1)
        # One line per route, a route too long for its column cut in the middle (_Cropped),
        # as a thread's name: whole up to 24 cells in the wide form, 8 in the narrow one.
        table.add_column("route", min_width=min(8 if narrow else 24, longest))
        headers = (requests, *([errors] if with_errors else []), *keys)
        cells = _numbers(table, headers, rows)
        for name, row in zip(names, cells, strict=True):
            table.add_row(_Cropped(name), *row)
        if more > 0:
            said = "1 more route" if more == 1 else f"{more:,} more routes"
            table.add_row(f"… {said}", *[""] * len(headers))
        layouts.append(table)
    return _Fitted(*layouts)


def _needed(key: str) -> int:
    """The fewest values that measure the percentile ``key`` (``measures``)."""
    return math.ceil(100 / (100 - Fraction(key[1:])))


PARTIAL_DELAYS = (
    "+: a block on a loop that hides its timers (uvloop, trio) could not name every request it "
    "delayed; the count is a bound from below."
)
"""The line under the by-place table when a place's count of requests delayed is a bound
from below (``Culprit.delayed_partial``)."""


def _culprits(summary: dict[str, Any], details: ReportDetails) -> _Fitted:
    """The places that blocked the loop most: how often, how long in all and at most, and
    how many distinct requests they delayed (their cost to the other requests)."""
    title = f"Loop blocked {_ms(summary['loop_blocked_ms'])} ms, by place"
    rows = [
        [
            _count(culprit.count),
            _ms(culprit.total_ms),
            _ms(culprit.max_ms),
            _count(culprit.delayed) + ("+" if culprit.delayed_partial else ""),
        ]
        for culprit in details.culprits
    ]
    layouts = []
    for narrow, where, headers in (
        (False, "where (file:line)", ("times", "total ms", "max ms", "requests\ndelayed")),
        (True, "where", ("times", "total\nms", "max\nms", "reqs\ndelayed")),
    ):
        table = _table(title, narrow=narrow)
        # A place is folded, every character kept; the wide form only when most of it fits.
        longest = max((_data(culprit.location).cell_len for culprit in details.culprits), default=1)
        table.add_column(where, overflow="fold", min_width=min(8 if narrow else 24, longest))
        cells = _numbers(table, headers, rows)
        for culprit, row in zip(details.culprits, cells, strict=True):
            table.add_row(_data(culprit.location), *row)
        layouts.append(table)
    return _Fitted(*layouts)


def _workers(details: ReportDetails) -> _Fitted:
    shown = details.workers[:16]
    names = [_data(worker.name) for worker in shown]
    rows = [
        [
            _count(worker.requests),
            _ms(worker.busy_ms),
            _ms(worker.cpu_ms),
            figures.percent(worker.utilisation),
        ]
        for worker in shown
    ]
    more = len(details.workers) - len(shown)
    layouts = []
    for narrow, headers in (
        (False, ("requests", "busy ms", "on CPU ms", "utilisation")),
        (True, ("reqs", "busy\nms", "CPU\nms", "util")),
    ):
        table = _table("Workers", narrow=narrow)
        longest = max((name.cell_len for name in names), default=1)
        # One line per thread, a name too long for its column cut in the middle (_Cropped):
        # whole up to 24 cells in the wide form (else the narrow one), 8 in the narrow one.
        # The column itself may wrap, as far as rich knows: that lets it give up width.
        table.add_column("thread", min_width=min(8 if narrow else 24, longest))
        cells = _numbers(table, headers, rows)
        for name, row in zip(names, cells, strict=True):
            table.add_row(_Cropped(name), *row)
        if more > 0:
            table.add_row(f"… {_count(more)} more", "", "", "", "")
        layouts.append(table)
    return _Fitted(*layouts)


def _table(title: str, *, narrow: bool = False) -> Table:
    """A titled table; ``narrow``: without its edges and inner borders, for a narrow console,
    two cells between its columns (the blank border and one of padding) where the wide form
    has three."""
    if not narrow:
        return Table(title=title, title_justify="left", padding=(0, 1))
    return Table(
        title=title,
        title_justify="left",
        padding=(0, 1),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


def _problems(details: ReportDetails) -> _Fitted:
    rows = [("error", name, count) for name, count in details.errors.items()]
    rows += [("violation", rule, count) for rule, count in details.violations.items()]
    counts = [[_count(count)] for _, _, count in rows]
    longest = max((cell_len(printable(str(what))) for _, what, _ in rows), default=1)
    layouts = []
    for narrow in (False, True):
        table = _table("Errors and violations", narrow=narrow)
        kinds = max((len(kind) for kind, _, _ in rows), default=4)
        table.add_column("kind", no_wrap=True, min_width=max(4, kinds))
        # An error type or a rule id is folded, every character kept.
        table.add_column("what", overflow="fold", min_width=min(8 if narrow else 24, longest))
        cells = _numbers(table, ("count",), counts)
        for (kind, what, _), row in zip(rows, cells, strict=True):
            table.add_row(kind, _data(what), *row)
        layouts.append(table)
    return _Fitted(*layouts)


def _labels(table: Table, header: str, labels: Sequence[str]) -> None:
    """A column of row labels (``total``, ``p99.9``), never wrapped nor cut."""
    table.add_column(header, no_wrap=True, min_width=max(map(cell_len, labels), default=1))


def _numbers(
    table: Table, headers: Sequence[str], rows: Sequence[Sequence[str]]
) -> list[list[Figure]]:
    """Right-aligned columns ``headers`` for ``rows``' values, and those values as the cells to
    add: each column's figures lined up on their decimal point (``report_columns.aligned``).
    No value is cut: the column does not wrap and is as wide as the widest of them (with its
    padding) or of the header's lines (a narrow table's header is put on two lines, ``busy``
    over ``ms``, to leave its column narrow)."""
    columns = [aligned([row[i] for row in rows]) for i in range(len(headers))]
    for header, column in zip(headers, columns, strict=True):
        widest = max(
            [cell_len(cell) for cell in column] + [cell_len(line) for line in header.split("\n")],
            default=1,
        )
        table.add_column(header, justify="right", no_wrap=True, min_width=widest)
    return [[Figure(column[i]) for column in columns] for i in range(len(rows))]


class _Cropped:
    """A name on one line, whole when its column is wide enough, else its start and its end
    around an ellipsis: the threads of one pool differ only at the end (``worker-0``,
    ``AnyIO worker thread #2``), which a name folded over lines or cut at its end would hide
    (``AnyIO worker thread #2`` in 9 cells: ``AnyI…d #2``)."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, self.text.cell_len)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield _crop_middle(self.text, options.max_width)


def _crop_middle(text: Text, width: int) -> Text:
    """``text`` in at most ``width`` cells: as it is when it fits, else as much of its start
    and of its end as fit around ``…`` (the end gets the odd cell out, and the cells of the
    blanks the start would end with)."""
    if text.cell_len <= width:
        return text
    if width <= 1:
        return Text("…"[:width], style=text.style)
    room = width - 1
    plain = text.plain
    start = used = 0  # characters of the start that fit half the room (a wide one may not)
    while start < len(plain) and used + cell_len(plain[start]) <= room // 2:
        used += cell_len(plain[start])
        start += 1
    while start and plain[start - 1] == " ":
        start -= 1
        used -= 1
    end = len(plain)
    while end > start and used + cell_len(plain[end - 1]) <= room:
        used += cell_len(plain[end - 1])
        end -= 1
    cropped = text[:start]
    cropped.append("…")
    cropped.append_text(text[end:])
    return cropped


class _Fitted:
    """The first of ``layouts`` (tables, widest first) whose columns all fit the width it is
    printed in at their ``min_width``, else the last: printed wider than the terminal rather
    than with a number cut (rich would shrink every column evenly, ``212.…``)."""

    def __init__(self, *layouts: Table) -> None:
        self.layouts = layouts

    def _pick(self, width: int) -> Table:
        for table in self.layouts[:-1]:
            if _needs(table) <= width:
                return table
        return self.layouts[-1]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self._pick(options.max_width)
        # Too narrow even for the last: laid out at the width it needs (rich would squeeze a
        # name column to nothing and cut the numbers), for the terminal to wrap.
        yield from console.render(
            table, options.update_width(max(options.max_width, _needs(table)))
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._pick(options.max_width))


def _needs(table: Table) -> int:
    """The cells ``table`` takes with each column at its ``min_width``, padding and borders
    (rich's own sum: ``Table._extra_width`` is the borders)."""
    _, right, _, left = table.padding
    columns = len(table.columns)
    borders = (2 if table.box and table.show_edge else 0) + (columns - 1 if table.box else 0)
    if table.collapse_padding:  # one column's right padding stands for the next one's left
        left = 0
    padding = (left + right) * columns
    if not table.pad_edge:  # no padding outside the first and the last column
        padding -= left + right
    return borders + padding + sum(column.min_width or 1 for column in table.columns)


def _ms(value: Any) -> str:
    """Milliseconds as every time in ms is written (``figures.ms``: ``0.004``, ``2.35``,
    ``12.3``, ``1,234.6``); ``NONE`` for a figure there is none of."""
    if value is None:
        return NONE
    return figures.ms(float(value))


def _count(value: int) -> str:
    """A count, thousands grouped (``figures.count``)."""
    return figures.count(value)
