"""The headless report of a run: the summary table ``trace run`` and ``trace summary`` print.

Requests, throughput, latency percentiles, time queued, status codes, errors, the most
requests in flight, loop blocking with its worst places (file:line), how busy each worker
thread was, and protocol violations. Rendered with rich on an injected ``Console``.
Imports the spine and ``tracer.digest``; never a shim, a server model or the TUI.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from tracer.digest import Digest, ReportDetails
from tracer.printable import printable
from tracer.recording import Recording

__all__ = ["print_report", "render_report"]


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
    parts.append(_latency(summary, details))
    if details.culprits:
        parts.append(_culprits(summary, details))
    if details.workers:
        parts.append(_workers(details))
    if details.errors or details.violations:
        parts.append(_problems(details))
    if recording.truncated:
        parts.append(
            Text(
                "The recording ends with a cut-short line (the run was interrupted).",
                style="yellow",
            )
        )
    else:
        shortfall = _shortfall(recording.header.get("load") or {}, summary)
        if shortfall:
            parts.append(Text(shortfall, style="yellow"))
    return Group(*parts)


def _shortfall(load: dict[str, Any], summary: dict[str, Any]) -> str | None:
    """What a run killed between two lines (no cut-short line) lacks of what it asked for.

    A ``-n`` run is short of requests; a ``-z`` run's requests end before its duration. A
    closed loop sends until the end; an open loop's arrivals are Poisson, so its last may come
    well before the end: ten mean gaps of slack leave a false note once in 20,000 runs.
    """
    asked = load.get("requests")
    if type(asked) is int and summary["requests"] < asked:
        return (
            f"It holds {summary['requests']} of the {asked} requests the run asked "
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
    """Print the report of ``recording`` (whose ``summary`` was already computed)."""
    (console or Console()).print(render_report(recording, summary, details))


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
    status = ", ".join(f"{code}: {count}" for code, count in summary["status"].items()) or "none"
    rows: list[tuple[str, str | Text]] = [
        ("requests", f"{summary['requests']} ({summary['completed']} completed)"),
        ("wall time", f"{summary['wall_s']:.3f} s"),
        ("throughput", _throughput(summary)),
        ("status codes", _data(status)),  # the codes are whatever request.end said
        ("errors", f"{summary['errors']} ({details.timeouts} timeouts)"),
        ("max in flight", str(summary["max_in_flight"])),
        *_clients(summary, header),
        ("loop blocked", _blocked(summary, details)),
        ("violations", str(summary["violations"])),
    ]
    if cores is not None:
        rows.append(("simulated cores", cores))
    if details.resent:
        # The server may have seen these twice (a worker that died on the first try included).
        rows.append(("resent", f"{details.resent} (connection closed as they went out)"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _clients(summary: dict[str, Any], header: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A closed loop's clients, and how many requests were out at once on average (Little's
    law: throughput x mean latency). Fewer than the clients means they were slow to send their
    next request: an in-process load generator shares the GIL with a WSGI app's threads, so
    ``-c 50`` against a hello world keeps about 17 out, not 50."""
    load = (header or {}).get("load")
    clients = load.get("concurrency") if isinstance(load, dict) else None
    rps, mean = summary["rps"], summary["latency_ms"].get("mean")
    if type(clients) is not int or clients < 1 or not rps or mean is None:
        return []
    return [("clients", f"{clients} (on average {rps * mean / 1000:.1f} requests out at once)")]


def _throughput(summary: dict[str, Any]) -> str:
    # Completed counts every request that ended, timed out and failed ones too (the summary's
    # definition): with errors, say how many of those per second ended well.
    if summary["rps"] is None:  # every request ended the instant the first began
        return "n/a (zero time)"
    text = f"{summary['rps']:.1f} requests/s"
    completed, errors = summary["completed"], summary["errors"]
    if errors and completed:
        good = summary["rps"] * max(0, completed - errors) / completed
        text += f" ({good:.1f}/s without an error)"
    return text


def _blocked(summary: dict[str, Any], details: ReportDetails) -> str:
    text = f"{summary['loop_blocked_ms']:.1f} ms"
    said = []
    if details.busy_machine_ms:
        said.append(f"{details.busy_machine_ms:.1f} ms waiting for a CPU: the machine was busy")
    if others := round(details.starved_ms - details.busy_machine_ms, 3):
        said.append(f"{others:.1f} ms waiting on other threads")
    if said:
        text += f" ({', '.join(said)})"
    return text


def _latency(summary: dict[str, Any], details: ReportDetails) -> Table:
    latency, queue = summary["latency_ms"], details.queue_ms or summary["queue_ms"]
    table = Table(title="Latency (ms)", title_justify="left", padding=(0, 1))
    keys = ("mean", "p50", "p90", "p99", "p99.9", "max")
    table.add_column("")
    for key in keys:
        table.add_column(key, justify="right")
    table.add_row("total", *(_ms(latency.get(key)) for key in keys))
    table.add_row("queued", *(_ms(queue.get(key)) for key in keys))
    return table


def _culprits(summary: dict[str, Any], details: ReportDetails) -> Table:
    title = f"Loop blocked {summary['loop_blocked_ms']:.1f} ms, by place"
    table = Table(title=title, title_justify="left", padding=(0, 1))
    table.add_column("where (file:line)", overflow="fold")
    table.add_column("times", justify="right")
    table.add_column("total ms", justify="right")
    table.add_column("max ms", justify="right")
    for culprit in details.culprits:
        table.add_row(
            _data(culprit.location),
            str(culprit.count),
            _ms(culprit.total_ms),
            _ms(culprit.max_ms),
        )
    return table


def _workers(details: ReportDetails) -> Table:
    table = Table(title="Workers", title_justify="left", padding=(0, 1))
    table.add_column("thread")
    table.add_column("requests", justify="right")
    table.add_column("busy ms", justify="right")
    table.add_column("on CPU ms", justify="right")
    table.add_column("utilisation", justify="right")
    for worker in details.workers[:16]:
        table.add_row(
            _data(worker.name),
            str(worker.requests),
            _ms(worker.busy_ms),
            _ms(worker.cpu_ms),
            f"{worker.utilisation:.0%}",
        )
    if len(details.workers) > 16:
        table.add_row(f"… {len(details.workers) - 16} more", "", "", "", "")
    return table


def _problems(details: ReportDetails) -> Table:
    table = Table(title="Errors and violations", title_justify="left", padding=(0, 1))
    table.add_column("kind")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in details.errors.items():
        table.add_row("error", _data(name), str(count))
    for rule, count in details.violations.items():
        table.add_row("violation", _data(rule), str(count))
    return table


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"
